// wait_until: the tests' one way to wait for what another thread, a server
// or a peer does: a condition polled against a deadline, never a bare sleep.
#pragma once

#include <chrono>
#include <thread>

namespace srmi::test {

/// Polls `done` every 2 ms; true as soon as it holds, false if it still does
/// not once `limit` has passed (generous: only a failing test waits it out).
template <class Predicate>
bool wait_until(Predicate&& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace srmi::test
