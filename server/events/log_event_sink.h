// LogEventSink: every log line at or above the logger's level becomes an
// E_CORE_LOG event, when log_event_enabled is set.
#pragma once

#include <memory>
#include <string>

#include <spdlog/sinks/sink.h>

#include "core/core_events.h"

namespace srmi::server {

/// An spdlog sink raising E_CORE_LOG. A line logged while an event is being
/// raised on the same thread is not turned into another event, so logging
/// from the event path can never recurse. Lock-free itself (the hub locks),
/// so a nested log call cannot deadlock on it.
class LogEventSink : public spdlog::sinks::sink {
public:
    explicit LogEventSink(const core::CoreEvents& events) : events_(events) {}

    void log(const spdlog::details::log_msg& msg) override;
    void flush() override {}
    void set_pattern(const std::string&) override {}
    void set_formatter(std::unique_ptr<spdlog::formatter>) override {}

private:
    const core::CoreEvents& events_;
};

}  // namespace srmi::server
