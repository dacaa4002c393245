// Profiler: E_PROFILING_PROC records (start/enter/exit/end) for each request,
// shaped as OpenSIPS's process profiling reports them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/core_events.h"
#include "rpc/dispatcher.h"

namespace srmi::server {

/// While enabled and listened to, turns one HTTP request into `start`, an
/// `enter`/`exit` pair per method call, and `end` records of `events`'s
/// E_PROFILING_PROC (which must be published: Options::profiling). A request
/// is traced on the thread that handles it, so the state of the current
/// request is thread-local. Thread-safe.
class Profiler {
  public:
    Profiler(const core::CoreEvents& events, bool enabled);

    std::atomic<bool>& enabled() noexcept { return enabled_; }

    /// Opens a request's profile (the `start` record) on this thread.
    void begin(std::string_view name);
    /// `enter`/`exit` records; a no-op outside begin()/end().
    void trace(const rpc::CallTrace& call);
    /// Closes the profile with the request's outcome (the `end` record).
    void end(int status);

  private:
    const core::CoreEvents& events_;
    std::atomic<bool> enabled_;
    std::atomic<std::uint64_t> next_session_{1};
};

}  // namespace srmi::server
