// BrokerChannel: what a broker subscriber's sink and its publisher thread
// share. The raiser pushes into a bounded queue (a lock and a deque append);
// the publisher takes from it, publishes, and counts what the broker
// confirmed and what was dropped. A publisher has a thread of its own
// because the broker client libraries block (rabbitmq-c on every call,
// librdkafka in poll and flush), and a dead broker must stall no one else.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/event_hub.h"

namespace srmi::server {

class BrokerChannel {
  public:
    using Clock = std::chrono::steady_clock;

    /// `limit` events are held at most (queued plus put back); at least 1.
    explicit BrokerChannel(std::size_t limit);

    // --- the sink's side: any thread ---------------------------------------

    /// Queues `payload`; when full, the oldest queued event is dropped
    /// (counted). Never blocks on the publisher.
    void push(core::EventPayload payload);
    /// Ends the subscription: queued events are discarded, the publisher
    /// stops at its next check. Does not block.
    void close();
    /// Lets the publisher deliver what it holds until `deadline`, then stop;
    /// blocks until it has stopped or the deadline has passed.
    void drain(Clock::time_point deadline);
    std::uint64_t dropped() const;
    core::SinkHealth health() const;

    /// Waits up to `limit` for the publisher's first connection attempt;
    /// the refusal's text when the broker refused the login, else nothing
    /// (connected, unreachable, or still trying).
    std::optional<std::string> first_refusal(std::chrono::milliseconds limit);

    // --- the publisher's side: its thread ----------------------------------

    /// The publisher's connected socket (-1: none), so that close() and a
    /// drain's deadline can cut a call blocked on it: rabbitmq-c writes
    /// without a timeout, and a broker that stops reading would hold the
    /// publisher for ever. Clear it before closing the descriptor.
    void watch_socket(int fd);
    /// Closed, or draining past the deadline: no time for goodbyes.
    bool cut_short() const;
    /// Waits up to `limit` for something to do: an event, a close, a drain.
    void wait(std::chrono::milliseconds limit);
    /// Waits up to `limit` whatever is queued (a back-off): less when the
    /// subscription closes, a drain begins, or the drain deadline comes.
    void pause(std::chrono::milliseconds limit);
    bool has_queued() const;
    /// Whether the publisher should stop now: closed; or draining and either
    /// past the deadline or with nothing left (`in_flight` unconfirmed).
    bool should_stop(std::size_t in_flight) const;
    /// Draining: the deadline by which the publisher stops.
    std::optional<Clock::time_point> drain_deadline() const;
    /// Moves up to `max` queued events, oldest first, to the end of `out`.
    void take(std::deque<core::EventPayload>& out, std::size_t max);
    /// Puts events that were sent but not confirmed back at the front of the
    /// queue, in order, for the next connection; the oldest beyond the limit
    /// are dropped (counted). Empties `events`.
    void put_back(std::deque<core::EventPayload>& events);
    void count_confirmed(std::uint64_t n);
    void count_dropped(std::uint64_t n);
    void connected();
    /// `refused`: the broker refused the login (a wrong password, a missing
    /// vhost permission), which subscribing reports as an error.
    void disconnected(std::string error, bool refused = false);
    /// The publisher is done: what it still held (`lost`) and what is queued
    /// count as dropped; drain() returns.
    void finished(std::size_t lost);

  private:
    const std::size_t limit_;
    mutable std::mutex mutex_;
    std::condition_variable work_;     // the publisher waits here
    std::condition_variable changes_;  // first_refusal() and drain() wait here
    std::deque<core::EventPayload> queue_;
    bool closed_ = false;
    bool finished_ = false;
    bool attempted_ = false;  // the first connection attempt has an outcome
    std::optional<std::string> refusal_;
    std::optional<Clock::time_point> drain_deadline_;
    int socket_ = -1;  // watch_socket()
    std::uint64_t dropped_ = 0;
    core::SinkHealth health_;
};

/// The publisher threads of the broker sinks one factory made. Each thread
/// ends soon after its channel closes; the destructor joins them all, so
/// the owner closes the channels first (EventHub's destructor does).
class BrokerThreads {
  public:
    BrokerThreads() = default;
    BrokerThreads(const BrokerThreads&) = delete;
    BrokerThreads& operator=(const BrokerThreads&) = delete;
    ~BrokerThreads();

    void start(std::function<void()> run);

  private:
    struct Entry {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::mutex mutex_;
    std::vector<Entry> threads_;
};

/// The sink the hub holds for a broker subscriber: a handle on the channel
/// its publisher thread reads.
class BrokerSink final : public core::EventSink {
  public:
    /// `shown`: the socket as others may see it (no password).
    BrokerSink(std::shared_ptr<BrokerChannel> channel, std::string_view transport,
               std::string shown)
        : channel_(std::move(channel)), transport_(transport), shown_(std::move(shown)) {}
    ~BrokerSink() override { channel_->close(); }

    void push(core::EventPayload payload) override { channel_->push(std::move(payload)); }
    std::uint64_t dropped() const override { return channel_->dropped(); }
    void close() override { channel_->close(); }
    std::string_view transport() const override { return transport_; }
    std::optional<core::SinkHealth> health() const override {
        auto health = channel_->health();
        health.shown = shown_;
        return health;
    }
    void drain(std::chrono::steady_clock::time_point deadline) override {
        channel_->drain(deadline);
    }

  private:
    std::shared_ptr<BrokerChannel> channel_;
    std::string_view transport_;  // a literal
    std::string shown_;
};

}  // namespace srmi::server
