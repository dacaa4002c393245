// Profiler: parameters without a value are left out (not null), as in the
// seed's example; depth rises on enter and falls on exit.
#include "server/observe/profiler.h"

#include <chrono>
#include <optional>
#include <string>

#include "rpc/notification.h"

namespace srmi::server {

namespace {

constexpr std::string_view kEvent = "E_PROFILING_PROC";
constexpr int kTypeRequest = 1;

struct Current {
    std::uint64_t session = 0;  // 0: not profiling this request
    std::string name;
    int depth = 0;
};
thread_local Current t_current;

rpc::Json record(std::string_view verb, std::string_view name, int depth) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    rpc::Json params = rpc::Json::object();
    params["sec"] = usec / 1'000'000;
    params["usec"] = usec % 1'000'000;
    params["session"] = t_current.session;
    params["verb"] = verb;
    params["name"] = name;
    params["type"] = kTypeRequest;
    params["depth"] = depth;
    return params;
}

}  // namespace

Profiler::Profiler(core::EventHub& hub, bool enabled)
    : hub_(hub), event_id_(hub.publish(std::string(kEvent))), enabled_(enabled) {}

void Profiler::begin(std::string_view name) {
    t_current = Current{};
    if (!enabled_.load(std::memory_order_relaxed) || !hub_.wanted(event_id_)) return;
    t_current.session = next_session_.fetch_add(1, std::memory_order_relaxed);
    t_current.name = std::string(name);
    hub_.raise(event_id_, rpc::make_notification(kEvent, record("start", name, 0)));
}

void Profiler::trace(const rpc::CallTrace& call) {
    if (t_current.session == 0) return;
    const int depth = call.entering ? ++t_current.depth : --t_current.depth;
    auto params = record(call.entering ? "enter" : "exit", call.method, depth);
    params["file"] = call.file;
    params["line"] = call.line;
    if (!call.entering) params["status"] = call.status;
    hub_.raise(event_id_, rpc::make_notification(kEvent, params));
}

void Profiler::end(int status) {
    if (t_current.session == 0) return;
    auto params = record("end", t_current.name, 0);
    params["status"] = status;
    hub_.raise(event_id_, rpc::make_notification(kEvent, params));
    t_current = Current{};
}

}  // namespace srmi::server
