// The method sets of the dispatch table: each function adds one family.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/event_hub.h"
#include "core/registry.h"
#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// sr_get_status, sr_list_status, sr_list_reports, sr_list_identifiers,
/// sr_set_status, sr_add_report, answering from (and writing to) `registry`,
/// which must outlive the dispatcher.
void add_status_report_methods(Dispatcher& dispatcher, core::Registry& registry);

/// sr_status_history, sr_availability, answering from `registry`, which
/// must outlive the dispatcher.
void add_history_methods(Dispatcher& dispatcher, core::Registry& registry);

/// events_list, event_subscribe, subscribers_list, raise_event over `hub`,
/// which must outlive the dispatcher.
void add_event_methods(Dispatcher& dispatcher, core::EventHub& hub);

/// profiling_proc: `{}` shows the state, `{state}` sets it ("on"/"off").
/// `enabled` must outlive the dispatcher.
void add_profiling_methods(Dispatcher& dispatcher, std::atomic<bool>& enabled);

/// What `version` and `uptime` report.
struct ServerInfo {
    std::string server;             ///< e.g. "srmi 0.1.0 (x86_64/linux)"
    std::int64_t started_at = 0;    ///< seconds since the epoch
};

/// which, help, version, uptime. `which` and `help` read `dispatcher`'s own
/// table, so they see methods added later too.
void add_core_methods(Dispatcher& dispatcher, ServerInfo info);

/// Every family above, in the order `which` lists them (and the API
/// description shows them); profiling_proc only when `profiling` is given.
void add_all_methods(Dispatcher& dispatcher, core::Registry& registry, core::EventHub& hub,
                     std::atomic<bool>* profiling, ServerInfo info);

}  // namespace srmi::rpc
