// LogEventSink: spdlog levels mapped to OpenSIPS's level names.
#include "server/events/log_event_sink.h"

#include <chrono>
#include <string_view>

namespace srmi::server {

namespace {

thread_local bool t_raising = false;

std::string_view opensips_level(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::critical:
            return "CRITICAL";
        case spdlog::level::err:
            return "ERROR";
        case spdlog::level::warn:
            return "WARNING";
        case spdlog::level::info:
            return "INFO";
        default:
            return "DBG";
    }
}

}  // namespace

void LogEventSink::log(const spdlog::details::log_msg& msg) {
    if (t_raising) return;
    t_raising = true;
    try {
        events_.log(core::CoreEvents::LogLine{
            opensips_level(msg.level),
            std::string_view(msg.logger_name.data(), msg.logger_name.size()),
            msg.source.funcname != nullptr ? std::string_view(msg.source.funcname) : std::string_view{},
            std::string_view(msg.payload.data(), msg.payload.size()),
            std::chrono::duration_cast<std::chrono::seconds>(msg.time.time_since_epoch()).count()});
    } catch (...) {
        // A log line must never fail the code that wrote it.
    }
    t_raising = false;
}

}  // namespace srmi::server
