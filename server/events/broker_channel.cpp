// BrokerChannel, BrokerThreads: the queue between a broker sink and its
// publisher thread, and the threads' lifetime.
#include "server/events/broker_channel.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>

namespace srmi::server {

BrokerChannel::BrokerChannel(std::size_t limit) : limit_(std::max<std::size_t>(limit, 1)) {}

void BrokerChannel::push(core::EventPayload payload) {
    if (!payload) return;
    core::EventPayload evicted;  // freed after the lock
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        if (finished_) {  // raised after the publisher ended (shutdown): lost
            ++dropped_;
            return;
        }
        if (queue_.size() >= limit_) {
            evicted = std::move(queue_.front());
            queue_.pop_front();
            ++dropped_;
        }
        queue_.push_back(std::move(payload));
    }
    work_.notify_one();
}

void BrokerChannel::close() {
    std::deque<core::EventPayload> discarded;  // freed after the lock
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = true;
        discarded.swap(queue_);
        // Under the lock: the publisher clears the socket under it before
        // closing the descriptor, so this never reaches a reused number.
        if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
    }
    work_.notify_one();
    changes_.notify_all();
}

void BrokerChannel::drain(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (closed_ || finished_) return;
    drain_deadline_ = deadline;
    work_.notify_one();
    if (changes_.wait_until(lock, deadline, [this] { return finished_ || closed_; })) return;
    // Past the deadline: a publisher blocked on its broker is cut loose.
    if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
}

void BrokerChannel::watch_socket(int fd) {
    std::lock_guard lock(mutex_);
    socket_ = fd;
    if (fd >= 0 && closed_) ::shutdown(fd, SHUT_RDWR);
}

bool BrokerChannel::cut_short() const {
    std::lock_guard lock(mutex_);
    return closed_ || (drain_deadline_ && Clock::now() >= *drain_deadline_);
}

std::uint64_t BrokerChannel::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

core::SinkHealth BrokerChannel::health() const {
    std::lock_guard lock(mutex_);
    return health_;
}

std::optional<std::string> BrokerChannel::first_refusal(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    changes_.wait_for(lock, limit, [this] { return attempted_ || closed_ || finished_; });
    return refusal_;
}

void BrokerChannel::wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    work_.wait_for(lock, limit,
                   [this] { return closed_ || !queue_.empty() || drain_deadline_.has_value(); });
}

void BrokerChannel::pause(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    auto until = Clock::now() + limit;
    if (drain_deadline_) until = std::min(until, *drain_deadline_);
    const bool draining = drain_deadline_.has_value();
    work_.wait_until(lock, until,
                     [&] { return closed_ || drain_deadline_.has_value() != draining; });
}

bool BrokerChannel::has_queued() const {
    std::lock_guard lock(mutex_);
    return !queue_.empty();
}

bool BrokerChannel::should_stop(std::size_t in_flight) const {
    std::lock_guard lock(mutex_);
    if (closed_) return true;
    if (!drain_deadline_) return false;
    return Clock::now() >= *drain_deadline_ || (queue_.empty() && in_flight == 0);
}

std::optional<BrokerChannel::Clock::time_point> BrokerChannel::drain_deadline() const {
    std::lock_guard lock(mutex_);
    return drain_deadline_;
}

void BrokerChannel::take(std::deque<core::EventPayload>& out, std::size_t max) {
    std::lock_guard lock(mutex_);
    while (max-- > 0 && !queue_.empty()) {
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
}

void BrokerChannel::put_back(std::deque<core::EventPayload>& events) {
    std::deque<core::EventPayload> evicted;  // freed after the lock
    {
        std::lock_guard lock(mutex_);
        if (!closed_) {
            queue_.insert(queue_.begin(), std::make_move_iterator(events.begin()),
                          std::make_move_iterator(events.end()));
            while (queue_.size() > limit_) {
                evicted.push_back(std::move(queue_.front()));
                queue_.pop_front();
                ++dropped_;
            }
        }
    }
    events.clear();
}

void BrokerChannel::count_confirmed(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    health_.confirmed += n;
}

void BrokerChannel::count_dropped(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    dropped_ += n;
}

void BrokerChannel::connected() {
    {
        std::lock_guard lock(mutex_);
        health_.connected = true;
        health_.error.clear();
        attempted_ = true;
    }
    changes_.notify_all();
}

void BrokerChannel::disconnected(std::string error, bool refused) {
    {
        std::lock_guard lock(mutex_);
        health_.connected = false;
        if (refused && !attempted_) refusal_ = error;
        health_.error = std::move(error);
        attempted_ = true;
    }
    changes_.notify_all();
}

void BrokerChannel::finished(std::size_t lost) {
    std::deque<core::EventPayload> discarded;  // freed after the lock
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
        health_.connected = false;
        if (!closed_) dropped_ += lost + queue_.size();
        discarded.swap(queue_);
    }
    changes_.notify_all();
}

BrokerThreads::~BrokerThreads() {
    for (auto& entry : threads_) {
        if (entry.thread.joinable()) entry.thread.join();
    }
}

void BrokerThreads::start(std::function<void()> run) {
    std::lock_guard lock(mutex_);
    // Threads of ended subscriptions are joined here, so that a long life of
    // subscribe and unsubscribe does not pile them up.
    std::erase_if(threads_, [](Entry& entry) {
        if (!entry.done->load(std::memory_order_acquire)) return false;
        entry.thread.join();
        return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    threads_.push_back(Entry{std::thread([run = std::move(run), done] {
                                 run();
                                 done->store(true, std::memory_order_release);
                             }),
                             done});
}

}  // namespace srmi::server
