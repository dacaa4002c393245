// CoreEvents: the event vocabulary (OpenSIPS's core events, E_PROFILING_PROC
// and srmi's own), published in OpenSIPS's order and raised from their
// sources with OpenSIPS's parameter names.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/event.h"
#include "core/event_hub.h"
#include "core/registry.h"

namespace srmi::core {

/// The events of the vocabulary, in publication order.
enum class CoreEvent {
    status_changed,  ///< E_CORE_SR_STATUS_CHANGED
    threshold,       ///< E_CORE_THRESHOLD
    shm_threshold,   ///< E_CORE_SHM_THRESHOLD
    pkg_threshold,   ///< E_CORE_PKG_THRESHOLD
    auto_scale,      ///< E_CORE_PROC_AUTO_SCALE
    tcp_disconnect,  ///< E_CORE_TCP_DISCONNECT
    log,             ///< E_CORE_LOG
    profiling,       ///< E_PROFILING_PROC, published only when profiling is loaded
    report_added,    ///< E_SRMI_REPORT_ADDED, srmi's own
};

/// Publishes the vocabulary on construction (OpenSIPS's seven core events at
/// ids 0..6, then E_PROFILING_PROC when profiling is loaded, then srmi's
/// E_SRMI_REPORT_ADDED) and turns each source's facts into an Event, which
/// `render` makes into the payload the hub hands to the subscribers. Every
/// raise first asks the hub whether anyone listens, so an unheard event costs
/// a lookup. Thread-safe; the hub must outlive it.
class CoreEvents {
  public:
    struct Options {
        bool profiling = false;  ///< publish E_PROFILING_PROC
    };
    CoreEvents(EventHub& hub, EventRenderer render, Options options);

    /// Runs `task` later, in the order given (e.g. posts it to one thread).
    using Deferrer = std::function<void(std::function<void()>)>;
    /// Hands status changes and added reports to `defer` as a copy of their
    /// facts; their payloads are then built and fanned out where the tasks
    /// run, so a writer pays one hand-over (under the identifier's lock: one
    /// small copy) instead of a payload and a thousand pushes. Without it
    /// they are raised at once on the writer's thread. Set before serving;
    /// this object and the hub must outlive what was deferred.
    void defer_fan_out(Deferrer defer) { defer_ = std::move(defer); }

    /// E_CORE_SR_STATUS_CHANGED. Called by the registry with the identifier
    /// locked (see StatusListener): only copies the change when deferring.
    void status_changed(const StatusChange& change) const;
    /// E_SRMI_REPORT_ADDED: `group`, `identifier`, `timestamp`, `log`.
    void report_added(const ReportAdded& report) const;

    /// E_CORE_THRESHOLD: a request that took `micros`, `extra` its text.
    void threshold(std::string_view source, std::int64_t micros, std::string_view extra) const;

    struct SocketAddress {
        std::string_view ip;
        std::uint16_t port;
    };
    /// E_CORE_TCP_DISCONNECT: `src` the client, `dst` our end.
    void tcp_disconnect(SocketAddress src, SocketAddress dst, std::string_view proto) const;

    struct LogLine {
        std::string_view level;  ///< ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO, DBG
        std::string_view module;
        std::string_view function;
        std::string_view message;
        std::int64_t epoch_seconds;
    };
    /// E_CORE_LOG.
    void log(const LogLine& line) const;

    /// E_CORE_PKG_THRESHOLD (process memory) and E_CORE_SHM_THRESHOLD (registry store).
    void memory_threshold(bool pkg, int usage, int threshold, std::uint64_t used,
                          std::uint64_t size) const;

    /// E_CORE_PROC_AUTO_SCALE of the worker group `group_filter`.
    void auto_scale(std::string_view group_filter, int load, bool up, int process_id) const;

    /// One record of a request's profile, as OpenSIPS's process profiling
    /// reports it.
    struct ProfilingRecord {
        std::int64_t epoch_micros = 0;
        std::uint64_t session = 0;
        std::string_view verb;  ///< start, enter, exit, end
        std::string_view name;  ///< the request's or the method's
        int depth = 0;
        const char* file = nullptr;  ///< enter and exit only
        int line = 0;
        std::optional<int> status;  ///< exit and end only
    };
    /// E_PROFILING_PROC; nothing when profiling is not loaded.
    void profiling(const ProfilingRecord& record) const;

    /// Whether anyone listens to `event`, so a source can skip gathering
    /// facts nobody reads (false for an event not published).
    bool wanted(CoreEvent event) const noexcept { return hub_.wanted(id(event)); }
    /// The event's id, or -1 when it is not published.
    int id(CoreEvent event) const noexcept { return ids_[static_cast<std::size_t>(event)]; }
    /// The event's name, e.g. "E_CORE_LOG".
    static std::string_view name(CoreEvent event) noexcept;

    EventHub& hub() const noexcept { return hub_; }

  private:
    struct StatusFacts;
    struct ReportFacts;

    void raise(CoreEvent event, std::span<const EventParam> params) const;
    void raise_status(const StatusFacts& facts) const;
    void raise_report(const ReportFacts& facts) const;

    EventHub& hub_;
    EventRenderer render_;
    Deferrer defer_;
    std::array<int, 9> ids_{};
};

}  // namespace srmi::core
