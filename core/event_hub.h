// EventHub: published events, their subscribers, and fan-out of raised events.
//
// Transport-free: a subscriber's socket string is turned into an EventSink by
// a factory the embedding program supplies (the server's UDP, Unix, TCP and
// HTTP transports), and an event travels as its ready-made payload text.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event.h"
#include "core/registry.h"
#include "core/result.h"

namespace srmi::core {

/// How a subscriber that holds a connection to a message broker is doing.
struct SinkHealth {
    std::string shown;  ///< the socket with any password left out, for labels
    bool connected = false;
    std::uint64_t confirmed = 0;  ///< events the broker confirmed
    std::string error;            ///< why it is not connected (the last failure)
};

/// Where one subscriber's events go. push() must never block the raiser: an
/// implementation queues (bounded, dropping its oldest and counting the drop)
/// and delivers asynchronously.
class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void push(EventPayload payload) = 0;
    /// Events this sink dropped because its queue was full or delivery failed.
    virtual std::uint64_t dropped() const = 0;
    /// Ends delivery and releases the transport. Called once, when the
    /// subscription ends; must not block.
    virtual void close() = 0;
    /// A short, fixed name of the transport ("udp", "unix", "tcp", "http",
    /// "sse"), for metrics.
    virtual std::string_view transport() const { return "other"; }
    /// A broker transport's connection and confirmations; nothing for the
    /// others.
    virtual std::optional<SinkHealth> health() const { return std::nullopt; }
    /// At shutdown, before close(): delivers what is queued by `deadline`
    /// (what is not is counted as dropped), blocking until then at most.
    /// Transports that do not confirm deliveries have nothing to finish.
    virtual void drain(std::chrono::steady_clock::time_point /*deadline*/) {}
};

/// Makes the sink for a subscriber's socket string (`udp:HOST:PORT`, ...), or
/// returns an error text when the string is unusable.
using SinkFactory =
    std::function<std::variant<std::shared_ptr<EventSink>, std::string>(std::string_view socket)>;

struct EventInfo {
    std::string name;
    int id = 0;
};

struct SubscriberInfo {
    std::string socket;
    std::int64_t expire = 0;  ///< the lifetime asked for, seconds
    std::int64_t ttl = 0;     ///< seconds left
    std::uint64_t dropped = 0;
    std::optional<SinkHealth> health;  ///< broker transports only
};

struct EventSubscribers {
    EventInfo event;
    std::vector<SubscriberInfo> subscribers;
};

enum class SubscribeOutcome { kSubscribed, kRefreshed, kRemoved };

enum class EventErrc {
    unknown_event,
    bad_socket,
    unknown_subscriber,
};

/// Thread-safe. Raising takes a shared lock only long enough to copy the
/// sinks of one event; delivery itself happens in the sinks.
class EventHub {
public:
    explicit EventHub(SinkFactory factory, Clock clock = {});
    ~EventHub();
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    /// Publishes an event; ids count from 0 in publication order. Throws
    /// std::invalid_argument for a duplicate or empty name.
    int publish(std::string name);
    /// Every published event, in publication order (so indexed by id).
    std::vector<EventInfo> events() const;
    /// Exact (case-sensitive) name lookup, as OpenSIPS does.
    std::optional<int> find(std::string_view name) const;

    /// Subscribes `socket` to `event` for `expire_seconds` (> 0), refreshing an
    /// existing subscription of the same socket; 0 removes it. On failure,
    /// the error and, for a bad socket, the factory's text.
    std::variant<SubscribeOutcome, std::pair<EventErrc, std::string>> subscribe(
        std::string_view event, std::string_view socket, std::int64_t expire_seconds);

    /// Live subscribers of every event that has some, in publication order.
    std::vector<EventSubscribers> subscribers() const;
    /// One event's subscribers, optionally only `socket`'s subscription.
    std::variant<EventSubscribers, EventErrc> subscribers(
        std::string_view event, std::optional<std::string_view> socket = std::nullopt) const;

    /// Cheap check, so a raiser can skip building a payload nobody reads.
    bool wanted(int event_id) const noexcept;
    /// Hands `payload` to every live subscriber and tap of the event; returns
    /// how many took it.
    std::size_t raise(int event_id, const EventPayload& payload);

    /// Told once per sink that raise() handed an event to: the event id and
    /// the sink's transport(). Runs on the raiser's thread, so it must be
    /// quick. Set before serving.
    using DeliveryHook = std::function<void(int event_id, std::string_view transport)>;
    void on_delivered(DeliveryHook hook) { delivery_hook_ = std::move(hook); }
    /// Told of each subscription made, refreshed (`expire_seconds` > 0) or
    /// removed (0) by subscribe(), on the caller's thread, under the hub's
    /// lock (so in the order they take effect; it must only queue): for a
    /// store that keeps subscriptions across restarts. Expiry is
    /// not told (the store knows when each ends). Set before serving.
    using SubscriptionHook = std::function<void(std::string_view event, std::string_view socket,
                                                std::int64_t expire_seconds)>;
    void on_subscription(SubscriptionHook hook) { subscription_hook_ = std::move(hook); }

    /// Events dropped so far by every sink, live or since removed (expired,
    /// unsubscribed, closed taps); never decreases.
    std::uint64_t dropped_total() const;

    /// A tap sees raised events without being a subscriber (e.g. a
    /// Server-Sent Events stream). `event_ids` empty means every event.
    std::uint64_t add_tap(std::vector<int> event_ids, std::shared_ptr<EventSink> sink);
    void remove_tap(std::uint64_t tap_id);

    /// Gives every subscriber until `deadline` to deliver what it holds
    /// (EventSink::drain). For shutdown, once nothing raises any more.
    void drain(std::chrono::steady_clock::time_point deadline);

    /// Closes and forgets expired subscriptions. Call periodically.
    void purge_expired();

private:
    struct Subscription;
    struct Event;
    struct Tap;

    SubscriberInfo info_of(const Subscription& s, std::int64_t now) const;
    const Event* find_locked(std::string_view name) const;

    SinkFactory factory_;
    Clock clock_;
    mutable std::shared_mutex mutex_;
    std::vector<std::unique_ptr<Event>> events_;
    std::vector<Tap> taps_;
    std::uint64_t next_tap_ = 1;
    DeliveryHook delivery_hook_;
    SubscriptionHook subscription_hook_;
    std::uint64_t dropped_by_removed_ = 0;  // guarded by mutex_: dropped() of sinks no longer held
    mutable std::atomic<std::uint64_t> dropped_seen_{0};  // the largest dropped_total() answered
};

}  // namespace srmi::core
