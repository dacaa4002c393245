// CoreEvents: OpenSIPS's core events, published in its order and raised from
// their sources with its parameter names.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "core/event_hub.h"
#include "core/registry.h"

namespace srmi::server {

/// Publishes the core events on construction (ids 0..6, as OpenSIPS lists
/// them) and turns each source's facts into a notification. Every raise first
/// asks the hub whether anyone listens, so an unheard event costs a lookup.
/// Thread-safe; the hub must outlive it.
class CoreEvents {
public:
    explicit CoreEvents(core::EventHub& hub);

    void status_changed(const core::StatusChange& change) const;
    void threshold(std::string_view source, std::int64_t micros, std::string_view extra) const;
    void tcp_disconnect(const boost::asio::ip::tcp::endpoint& src,
                        const boost::asio::ip::tcp::endpoint& dst, std::string_view proto) const;

    struct LogLine {
        std::string_view level;  ///< ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFO, DBG
        std::string_view module;
        std::string_view function;
        std::string_view message;
        std::int64_t epoch_seconds;
    };
    void log(const LogLine& line) const;

    /// E_CORE_PKG_THRESHOLD (process memory) and E_CORE_SHM_THRESHOLD (registry store).
    void memory_threshold(bool pkg, int usage, int threshold, std::uint64_t used,
                          std::uint64_t size) const;

    void auto_scale(std::string_view group_filter, int load, bool up, int process_id) const;

    /// Publishes srmi's own events, which events_list does not show:
    /// E_SRMI_REPORT_ADDED. Call once, after every listed event (the
    /// profiler's too) is published, so that those keep OpenSIPS's ids.
    void publish_srmi_events();
    /// E_SRMI_REPORT_ADDED: `group`, `identifier`, `timestamp`, `log`. Raises
    /// nothing before publish_srmi_events().
    void report_added(const core::ReportAdded& report) const;

    core::EventHub& hub() const noexcept { return hub_; }

    /// Runs `task` later, in the order given (e.g. posts it to one thread).
    using Deferrer = std::function<void(std::function<void()>)>;
    /// Hands the fan-out of status changes and reports to `defer`, so that a
    /// write with a thousand subscribers costs its writer one hand-over, not a
    /// thousand. Set before serving; the hub must outlive what was deferred.
    void defer_fan_out(Deferrer defer) { defer_ = std::move(defer); }

    int status_changed_id() const noexcept { return status_changed_; }
    int log_id() const noexcept { return log_; }
    int report_added_id() const noexcept { return report_added_; }

private:
    void fan_out(int id, core::EventPayload payload) const;

    core::EventHub& hub_;
    Deferrer defer_;
    int status_changed_, threshold_, shm_threshold_, pkg_threshold_, auto_scale_, tcp_disconnect_, log_;
    int report_added_ = -1;  // not published yet
};

}  // namespace srmi::server
