// Profiler: parameters without a value are left out (not null), as in the
// seed's example; depth rises on enter and falls on exit.
#include "server/observe/profiler.h"

#include <chrono>
#include <string>

namespace srmi::server {

namespace {

struct Current {
    std::uint64_t session = 0;  // 0: not profiling this request
    std::string name;
    int depth = 0;
};
thread_local Current t_current;

core::CoreEvents::ProfilingRecord record(std::string_view verb, std::string_view name, int depth) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    core::CoreEvents::ProfilingRecord out;
    out.epoch_micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    out.session = t_current.session;
    out.verb = verb;
    out.name = name;
    out.depth = depth;
    return out;
}

}  // namespace

Profiler::Profiler(const core::CoreEvents& events, bool enabled)
    : events_(events), enabled_(enabled) {}

void Profiler::begin(std::string_view name) {
    t_current = Current{};
    if (!enabled_.load(std::memory_order_relaxed) || !events_.wanted(core::CoreEvent::profiling))
        return;
    t_current.session = next_session_.fetch_add(1, std::memory_order_relaxed);
    t_current.name = std::string(name);
    events_.profiling(record("start", name, 0));
}

void Profiler::trace(const rpc::CallTrace& call) {
    if (t_current.session == 0) return;
    const int depth = call.entering ? ++t_current.depth : --t_current.depth;
    auto traced = record(call.entering ? "enter" : "exit", call.method, depth);
    traced.file = call.file;
    traced.line = call.line;
    if (!call.entering) traced.status = call.status;
    events_.profiling(traced);
}

void Profiler::end(int status) {
    if (t_current.session == 0) return;
    auto ended = record("end", t_current.name, 0);
    ended.status = status;
    events_.profiling(ended);
    t_current = Current{};
}

}  // namespace srmi::server
