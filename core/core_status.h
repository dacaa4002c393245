// CoreStatus: the life cycle of the server as the `core` group shows it.
#pragma once

#include "core/registry.h"

namespace srmi::core {

inline constexpr int kStateNone = -100;
inline constexpr int kStateTerminating = -2;
inline constexpr int kStateInitializing = -1;
inline constexpr int kStateRunning = 1;
inline constexpr std::size_t kCoreMaxReports = 10;

/// Registers the internal `core` group (status -100, 10 reports) on
/// construction, so it must be the registry's first group, and moves it
/// through the states of the spec. Thread-safe.
class CoreStatus {
public:
    explicit CoreStatus(Registry& registry);

    /// -1 `initializing`, with the report `initializing`.
    void initializing() const;
    /// 1 `running`, with the report `initialization completed, ready now`.
    /// Call once the listener accepts connections.
    void running() const;
    /// -2 `shutting down`, no report. Call as soon as a stop is requested.
    void terminating() const;

private:
    GroupHandle handle_;
};

}  // namespace srmi::core
