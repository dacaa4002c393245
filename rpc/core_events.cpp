// CoreEvents: parameter names and order follow OpenSIPS's Core Events page.
#include "rpc/core_events.h"

#include <unistd.h>

#include <ctime>

#include "rpc/notification.h"

namespace srmi::server {

namespace {

using rpc::Json;

constexpr std::string_view kStatusChanged = "E_CORE_SR_STATUS_CHANGED";
constexpr std::string_view kThreshold = "E_CORE_THRESHOLD";
constexpr std::string_view kShmThreshold = "E_CORE_SHM_THRESHOLD";
constexpr std::string_view kPkgThreshold = "E_CORE_PKG_THRESHOLD";
constexpr std::string_view kAutoScale = "E_CORE_PROC_AUTO_SCALE";
constexpr std::string_view kTcpDisconnect = "E_CORE_TCP_DISCONNECT";
constexpr std::string_view kLog = "E_CORE_LOG";
constexpr std::string_view kReportAdded = "E_SRMI_REPORT_ADDED";  // srmi's own, unlisted

// OpenSIPS's log time form: "Aug 20 16:15:26".
std::string log_time(std::int64_t epoch_seconds) {
    const auto t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buffer[32] = {};
    std::strftime(buffer, sizeof buffer, "%b %e %H:%M:%S", &tm);  // syslog style: "Aug  5"
    return buffer;
}

}  // namespace

CoreEvents::CoreEvents(core::EventHub& hub)
    : hub_(hub),
      status_changed_(hub.publish(std::string(kStatusChanged))),
      threshold_(hub.publish(std::string(kThreshold))),
      shm_threshold_(hub.publish(std::string(kShmThreshold))),
      pkg_threshold_(hub.publish(std::string(kPkgThreshold))),
      auto_scale_(hub.publish(std::string(kAutoScale))),
      tcp_disconnect_(hub.publish(std::string(kTcpDisconnect))),
      log_(hub.publish(std::string(kLog))) {}

void CoreEvents::fan_out(int id, core::EventPayload payload) const {
    if (!defer_) {
        hub_.raise(id, payload);
        return;
    }
    defer_([&hub = hub_, id, payload = std::move(payload)] { hub.raise(id, payload); });
}

void CoreEvents::status_changed(const core::StatusChange& change) const {
    if (!hub_.wanted(status_changed_)) return;
    Json params = Json::object();
    params["group"] = change.group;
    params["identifier"] = change.identifier;
    params["status"] = change.new_status;
    if (change.details) params["details"] = *change.details;
    params["old_status"] = change.old_status;
    fan_out(status_changed_, rpc::make_notification(kStatusChanged, params));
}

void CoreEvents::threshold(std::string_view source, std::int64_t micros, std::string_view extra) const {
    if (!hub_.wanted(threshold_)) return;
    Json params = Json::object();
    params["source"] = source;
    params["time"] = micros;
    params["extra"] = extra;
    hub_.raise(threshold_, rpc::make_notification(kThreshold, params));
}

void CoreEvents::tcp_disconnect(const boost::asio::ip::tcp::endpoint& src,
                                const boost::asio::ip::tcp::endpoint& dst, std::string_view proto) const {
    if (!hub_.wanted(tcp_disconnect_)) return;
    Json params = Json::object();
    params["src_ip"] = src.address().to_string();
    params["src_port"] = src.port();
    params["dst_ip"] = dst.address().to_string();
    params["dst_port"] = dst.port();
    params["proto"] = proto;
    hub_.raise(tcp_disconnect_, rpc::make_notification(kTcpDisconnect, params));
}

void CoreEvents::log(const LogLine& line) const {
    if (!hub_.wanted(log_)) return;
    Json params = Json::object();
    params["time"] = log_time(line.epoch_seconds);
    params["pid"] = static_cast<int>(::getpid());
    params["level"] = line.level;
    if (!line.module.empty()) params["module"] = line.module;
    if (!line.function.empty()) params["function"] = line.function;
    params["message"] = line.message;
    hub_.raise(log_, rpc::make_notification(kLog, params));
}

void CoreEvents::memory_threshold(bool pkg, int usage, int threshold, std::uint64_t used,
                                  std::uint64_t size) const {
    const int id = pkg ? pkg_threshold_ : shm_threshold_;
    if (!hub_.wanted(id)) return;
    Json params = Json::object();
    params["usage"] = usage;
    params["threshold"] = threshold;
    params["used"] = used;
    params["size"] = size;
    if (pkg) params["pid"] = static_cast<int>(::getpid());
    hub_.raise(id, rpc::make_notification(pkg ? kPkgThreshold : kShmThreshold, params));
}

void CoreEvents::auto_scale(std::string_view group_filter, int load, bool up, int process_id) const {
    if (!hub_.wanted(auto_scale_)) return;
    Json params = Json::object();
    params["group_type"] = "workers";
    params["group_filter"] = group_filter;
    params["group_load"] = load;
    params["scale"] = up ? "up" : "down";
    params["process_id"] = process_id;
    params["pid"] = static_cast<int>(::getpid());
    hub_.raise(auto_scale_, rpc::make_notification(kAutoScale, params));
}

void CoreEvents::publish_srmi_events() {
    if (report_added_ < 0) report_added_ = hub_.publish(std::string(kReportAdded), false);
}

void CoreEvents::report_added(const core::ReportAdded& report) const {
    if (!hub_.wanted(report_added_)) return;
    Json params = Json::object();
    params["group"] = report.group;
    params["identifier"] = report.identifier;
    params["timestamp"] = report.timestamp;
    params["log"] = report.log;
    fan_out(report_added_, rpc::make_notification(kReportAdded, params));
}

}  // namespace srmi::server
