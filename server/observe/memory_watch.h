// MemoryWatch: E_CORE_PKG_THRESHOLD and E_CORE_SHM_THRESHOLD, raised once
// each time usage climbs over its threshold, re-armed when it falls back.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/core_events.h"

namespace srmi::server {

/// `pkg` is the process's heap in use against `pkg_size`; `shm` is the
/// registry's store (report text and details) against its limit. A threshold
/// of 0 turns that event off. Thread-safe.
class MemoryWatch {
public:
    struct Options {
        int pkg_threshold = 0;           ///< percent; 0 = off
        std::uint64_t pkg_size = 0;      ///< bytes; 0 = physical memory
        int shm_threshold = 0;           ///< percent; 0 = off
        std::uint64_t shm_size = 0;      ///< the registry's store limit; 0 = off
    };

    MemoryWatch(const core::CoreEvents& events, Options options);

    /// The registry's store now holds `used` bytes.
    void store_changed(std::uint64_t used);
    /// Samples the heap; call periodically.
    void sample_process();

    /// Heap bytes in use by this process, as malloc counts them.
    static std::uint64_t heap_in_use();

private:
    struct Gauge {
        int threshold;
        std::uint64_t size;
        std::atomic<bool> armed{true};
    };
    void check(Gauge& gauge, bool pkg, std::uint64_t used);

    const core::CoreEvents& events_;
    Gauge pkg_;
    Gauge shm_;
};

}  // namespace srmi::server
