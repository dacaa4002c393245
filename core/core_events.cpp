// CoreEvents: parameter names and order follow OpenSIPS's Core Events page
// (and its process profiling for E_PROFILING_PROC).
#include "core/core_events.h"

#include <unistd.h>

#include <ctime>
#include <string>

namespace srmi::core {

namespace {

constexpr std::array<std::string_view, 9> kNames = {"E_CORE_SR_STATUS_CHANGED",
                                                    "E_CORE_THRESHOLD",
                                                    "E_CORE_SHM_THRESHOLD",
                                                    "E_CORE_PKG_THRESHOLD",
                                                    "E_CORE_PROC_AUTO_SCALE",
                                                    "E_CORE_TCP_DISCONNECT",
                                                    "E_CORE_LOG",
                                                    "E_PROFILING_PROC",
                                                    "E_SRMI_REPORT_ADDED"};

constexpr std::int64_t kProfilingTypeRequest = 1;

// OpenSIPS's log time form: "Aug 20 16:15:26".
std::string log_time(std::int64_t epoch_seconds) {
    const auto t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buffer[32] = {};
    std::strftime(buffer, sizeof buffer, "%b %e %H:%M:%S", &tm);  // syslog style: "Aug  5"
    return buffer;
}

std::int64_t pid() { return static_cast<std::int64_t>(::getpid()); }

}  // namespace

// What a deferred event keeps of its source's facts: owned copies, since the
// source's views die with its call.
struct CoreEvents::StatusFacts {
    std::string group;
    std::string identifier;
    int old_status;
    int new_status;
    std::optional<std::string> details;
};

struct CoreEvents::ReportFacts {
    std::string group;
    std::string identifier;
    std::int64_t timestamp;
    std::string log;
};

CoreEvents::CoreEvents(EventHub& hub, EventRenderer render, Options options)
    : hub_(hub), render_(std::move(render)) {
    ids_.fill(-1);
    auto publish = [&](CoreEvent event) {
        ids_[static_cast<std::size_t>(event)] = hub_.publish(std::string(name(event)));
    };
    for (auto event : {CoreEvent::status_changed, CoreEvent::threshold, CoreEvent::shm_threshold,
                       CoreEvent::pkg_threshold, CoreEvent::auto_scale, CoreEvent::tcp_disconnect,
                       CoreEvent::log}) {
        publish(event);
    }
    if (options.profiling) publish(CoreEvent::profiling);
    publish(CoreEvent::report_added);
}

std::string_view CoreEvents::name(CoreEvent event) noexcept {
    return kNames[static_cast<std::size_t>(event)];
}

void CoreEvents::raise(CoreEvent event, std::span<const EventParam> params) const {
    const int event_id = id(event);
    hub_.raise(event_id, render_(Event{event_id, name(event), params}));
}

void CoreEvents::status_changed(const StatusChange& change) const {
    if (!wanted(CoreEvent::status_changed)) return;
    StatusFacts facts{std::string(change.group), std::string(change.identifier), change.old_status,
                      change.new_status, change.details};
    if (!defer_) return raise_status(facts);
    defer_([this, facts = std::move(facts)] { raise_status(facts); });
}

void CoreEvents::raise_status(const StatusFacts& facts) const {
    std::array<EventParam, 5> params;
    std::size_t count = 0;
    params[count++] = {"group", facts.group};
    params[count++] = {"identifier", facts.identifier};
    params[count++] = {"status", std::int64_t{facts.new_status}};
    if (facts.details) params[count++] = {"details", *facts.details};
    params[count++] = {"old_status", std::int64_t{facts.old_status}};
    raise(CoreEvent::status_changed, std::span(params.data(), count));
}

void CoreEvents::report_added(const ReportAdded& report) const {
    if (!wanted(CoreEvent::report_added)) return;
    ReportFacts facts{std::string(report.group), std::string(report.identifier), report.timestamp,
                      std::string(report.log)};
    if (!defer_) return raise_report(facts);
    defer_([this, facts = std::move(facts)] { raise_report(facts); });
}

void CoreEvents::raise_report(const ReportFacts& facts) const {
    const std::array<EventParam, 4> params{{{"group", facts.group},
                                            {"identifier", facts.identifier},
                                            {"timestamp", facts.timestamp},
                                            {"log", facts.log}}};
    raise(CoreEvent::report_added, params);
}

void CoreEvents::threshold(std::string_view source, std::int64_t micros,
                           std::string_view extra) const {
    if (!wanted(CoreEvent::threshold)) return;
    const std::array<EventParam, 3> params{
        {{"source", source}, {"time", micros}, {"extra", extra}}};
    raise(CoreEvent::threshold, params);
}

void CoreEvents::tcp_disconnect(SocketAddress src, SocketAddress dst,
                                std::string_view proto) const {
    if (!wanted(CoreEvent::tcp_disconnect)) return;
    const std::array<EventParam, 5> params{{{"src_ip", src.ip},
                                            {"src_port", std::int64_t{src.port}},
                                            {"dst_ip", dst.ip},
                                            {"dst_port", std::int64_t{dst.port}},
                                            {"proto", proto}}};
    raise(CoreEvent::tcp_disconnect, params);
}

void CoreEvents::log(const LogLine& line) const {
    if (!wanted(CoreEvent::log)) return;
    const auto time = log_time(line.epoch_seconds);
    std::array<EventParam, 6> params;
    std::size_t count = 0;
    params[count++] = {"time", std::string_view(time)};
    params[count++] = {"pid", pid()};
    params[count++] = {"level", line.level};
    if (!line.module.empty()) params[count++] = {"module", line.module};
    if (!line.function.empty()) params[count++] = {"function", line.function};
    params[count++] = {"message", line.message};
    raise(CoreEvent::log, std::span(params.data(), count));
}

void CoreEvents::memory_threshold(bool pkg, int usage, int threshold, std::uint64_t used,
                                  std::uint64_t size) const {
    const auto event = pkg ? CoreEvent::pkg_threshold : CoreEvent::shm_threshold;
    if (!wanted(event)) return;
    std::array<EventParam, 5> params{{{"usage", std::int64_t{usage}},
                                      {"threshold", std::int64_t{threshold}},
                                      {"used", used},
                                      {"size", size},
                                      {"pid", pid()}}};
    raise(event, std::span(params.data(), pkg ? 5 : 4));
}

void CoreEvents::auto_scale(std::string_view group_filter, int load, bool up,
                            int process_id) const {
    if (!wanted(CoreEvent::auto_scale)) return;
    const std::array<EventParam, 6> params{{{"group_type", std::string_view("workers")},
                                            {"group_filter", group_filter},
                                            {"group_load", std::int64_t{load}},
                                            {"scale", std::string_view(up ? "up" : "down")},
                                            {"process_id", std::int64_t{process_id}},
                                            {"pid", pid()}}};
    raise(CoreEvent::auto_scale, params);
}

void CoreEvents::profiling(const ProfilingRecord& record) const {
    if (id(CoreEvent::profiling) < 0) return;
    std::array<EventParam, 10> params;
    std::size_t count = 0;
    params[count++] = {"sec", record.epoch_micros / 1'000'000};
    params[count++] = {"usec", record.epoch_micros % 1'000'000};
    params[count++] = {"session", record.session};
    params[count++] = {"verb", record.verb};
    params[count++] = {"name", record.name};
    params[count++] = {"type", kProfilingTypeRequest};
    params[count++] = {"depth", std::int64_t{record.depth}};
    if (record.file != nullptr) {
        params[count++] = {"file", std::string_view(record.file)};
        params[count++] = {"line", std::int64_t{record.line}};
    }
    if (record.status) params[count++] = {"status", std::int64_t{*record.status}};
    raise(CoreEvent::profiling, std::span(params.data(), count));
}

}  // namespace srmi::core
