// MemoryWatch: glibc's mallinfo2 for the heap; the registry reports its own
// store on every write, so a crossing there is seen at once.
#include "server/observe/memory_watch.h"

#include <malloc.h>
#include <unistd.h>

namespace srmi::server {

namespace {

std::uint64_t physical_memory() {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page = ::sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
}

}  // namespace

MemoryWatch::MemoryWatch(const core::CoreEvents& events, Options options)
    : events_(events),
      pkg_{options.pkg_threshold, options.pkg_size != 0 ? options.pkg_size : physical_memory()},
      shm_{options.shm_threshold, options.shm_size} {}

std::uint64_t MemoryWatch::heap_in_use() {
    const auto info = ::mallinfo2();
    return static_cast<std::uint64_t>(info.uordblks) + static_cast<std::uint64_t>(info.hblkhd);
}

void MemoryWatch::store_changed(std::uint64_t used) { check(shm_, false, used); }

void MemoryWatch::sample_process() {
    if (pkg_.threshold > 0) check(pkg_, true, heap_in_use());
}

void MemoryWatch::check(Gauge& gauge, bool pkg, std::uint64_t used) {
    if (gauge.threshold <= 0 || gauge.size == 0) return;
    const int usage = static_cast<int>(used * 100 / gauge.size);
    if (usage < gauge.threshold) {
        gauge.armed.store(true, std::memory_order_relaxed);
        return;
    }
    if (gauge.armed.exchange(false, std::memory_order_relaxed)) {
        events_.memory_threshold(pkg, usage, gauge.threshold, used, gauge.size);
    }
}

}  // namespace srmi::server
