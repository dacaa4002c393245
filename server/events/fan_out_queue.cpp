// FanOutQueue: one shared queue keeps the order across I/O threads; the
// wake-up of the events thread waits on a short timer of the pushing thread.
#include "server/events/fan_out_queue.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

namespace srmi::server {

namespace net = boost::asio;

namespace {
thread_local net::io_context* bound_io = nullptr;
}  // namespace

void FanOutQueue::bind_thread(net::io_context& io) noexcept { bound_io = &io; }

void FanOutQueue::push(std::function<void()> task) {
    std::function<void()> evicted;  // declared before the lock: freed after it
    {
        std::lock_guard lock(mutex_);
        if (tasks_.size() >= limit_) {
            evicted = std::move(tasks_.front());
            tasks_.pop_front();
            dropped_.fetch_add(1, std::memory_order_relaxed);
        }
        tasks_.push_back(std::move(task));
        if (wake_pending_) return;
        wake_pending_ = true;
    }
    if (bound_io == nullptr) return wake();
    // Waking a sleeping thread costs its waker an inter-processor interrupt
    // (tens of microseconds on a virtual CPU), and the woken thread then
    // competes for the cores with the client reading the answer. Waking it a
    // moment later, from a timer, keeps both off the request's path; changes
    // made meanwhile share the one wake-up.
    auto timer = std::make_shared<net::steady_timer>(*bound_io, kCoalesce);
    timer->async_wait([this, timer](const boost::system::error_code&) { wake(); });
}

void FanOutQueue::flush() {
    std::lock_guard lock(mutex_);
    if (!tasks_.empty()) wake();
}

void FanOutQueue::wake() {
    net::post(events_, [this] { drain(); });
}

void FanOutQueue::drain() {
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(tasks_);
        wake_pending_ = false;
    }
    for (auto& task : batch) task();
}

}  // namespace srmi::server
