// FanOutQueue: hands status-change fan-outs to the events thread in the order
// of the changes, and wakes that thread shortly after the change instead of
// during the request that made it, so that the answer is not kept waiting.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace srmi::server {

/// Thread-safe. The order of push() calls is the order the tasks run in, on
/// the events io_context's one thread; only the wake-up is deferred. Bounded:
/// when the events thread has fallen `limit` tasks behind, the oldest waiting
/// task is dropped (and counted), as each subscriber's own queue does.
class FanOutQueue {
  public:
    static constexpr std::size_t kDefaultLimit = 65536;

    explicit FanOutQueue(boost::asio::io_context& events, std::size_t limit = kDefaultLimit)
        : events_(events), limit_(limit == 0 ? 1 : limit) {}
    FanOutQueue(const FanOutQueue&) = delete;
    FanOutQueue& operator=(const FanOutQueue&) = delete;

    /// Delay between a change made on an I/O thread and the wake-up of the
    /// events thread: short beside the 50 ms a fan-out may take, long beside
    /// the client's read of the answer.
    static constexpr std::chrono::milliseconds kCoalesce{1};

    /// Queues `task`. From a thread marked by bind_thread(), the events
    /// thread is woken kCoalesce later by a timer on that thread's
    /// io_context; from any other thread, at once.
    void push(std::function<void()> task);

    /// Marks the calling thread as the one running `io`. Call before io.run().
    static void bind_thread(boost::asio::io_context& io) noexcept;

    /// Wakes the events thread for whatever is queued. For shutdown: a timer
    /// on an I/O io_context that was stopped never fires.
    void flush();

    /// Tasks dropped so far because `limit` were waiting.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

  private:
    void wake();
    void drain();

    boost::asio::io_context& events_;
    const std::size_t limit_;
    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;
    bool wake_pending_ = false;  // a wake-up is on its way: pushes join it
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace srmi::server
