// EventHub: subscriptions live in a table guarded by one shared_mutex; raising
// copies the target sinks under the shared lock and pushes outside it.
#include "core/event_hub.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <stdexcept>

namespace srmi::core {

struct EventHub::Subscription {
    std::string socket;
    std::int64_t expire = 0;
    std::int64_t expires_at = 0;
    std::shared_ptr<EventSink> sink;
};

struct EventHub::Event {
    EventInfo info;
    std::vector<Subscription> subscriptions;
    std::atomic<std::size_t> audience{0};  // subscriptions + taps that want it
};

struct EventHub::Tap {
    std::uint64_t id;
    std::vector<int> event_ids;  // empty: all
    std::shared_ptr<EventSink> sink;

    bool wants(int event_id) const {
        return event_ids.empty() ||
               std::find(event_ids.begin(), event_ids.end(), event_id) != event_ids.end();
    }
};

EventHub::EventHub(SinkFactory factory, Clock clock)
    : factory_(std::move(factory)), clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
}

EventHub::~EventHub() {
    for (auto& event : events_) {
        for (auto& s : event->subscriptions) s.sink->close();
    }
    for (auto& tap : taps_) tap.sink->close();
}

int EventHub::publish(std::string name) {
    if (name.empty()) throw std::invalid_argument("event name is empty");
    std::unique_lock lock(mutex_);
    if (find_locked(name) != nullptr) throw std::invalid_argument("event '" + name + "' published twice");
    auto event = std::make_unique<Event>();
    event->info = EventInfo{std::move(name), static_cast<int>(events_.size())};
    for (const auto& tap : taps_) {
        if (tap.wants(event->info.id)) ++event->audience;
    }
    events_.push_back(std::move(event));
    return events_.back()->info.id;
}

std::vector<EventInfo> EventHub::events() const {
    std::shared_lock lock(mutex_);
    std::vector<EventInfo> out;
    out.reserve(events_.size());
    for (const auto& e : events_) out.push_back(e->info);
    return out;
}

const EventHub::Event* EventHub::find_locked(std::string_view name) const {
    for (const auto& e : events_) {
        if (e->info.name == name) return e.get();
    }
    return nullptr;
}

std::optional<int> EventHub::find(std::string_view name) const {
    std::shared_lock lock(mutex_);
    const auto* e = find_locked(name);
    if (e == nullptr) return std::nullopt;
    return e->info.id;
}

std::variant<SubscribeOutcome, std::pair<EventErrc, std::string>> EventHub::subscribe(
    std::string_view event_name, std::string_view socket, std::int64_t expire_seconds) {
    std::vector<std::shared_ptr<EventSink>> to_close;
    std::shared_ptr<EventSink> made;  // built outside the lock: a factory may resolve a name
    std::variant<SubscribeOutcome, std::pair<EventErrc, std::string>> outcome;
    for (;;) {
        std::unique_lock lock(mutex_);
        const auto now = clock_();
        auto* event = const_cast<Event*>(find_locked(event_name));
        if (event == nullptr) return std::pair{EventErrc::unknown_event, std::string("unknown event")};

        auto& subs = event->subscriptions;
        auto it = std::find_if(subs.begin(), subs.end(),
                               [&](const Subscription& s) { return s.socket == socket; });
        if (it != subs.end() && it->expires_at <= now) {  // expired: as if absent
            dropped_by_removed_ += it->sink->dropped();
            to_close.push_back(it->sink);
            subs.erase(it);
            --event->audience;
            it = subs.end();
        }
        if (expire_seconds == 0) {
            if (it == subs.end()) {
                outcome = std::pair{EventErrc::unknown_subscriber, std::string("no such subscriber")};
            } else {
                dropped_by_removed_ += it->sink->dropped();
                to_close.push_back(it->sink);
                subs.erase(it);
                --event->audience;
                outcome = SubscribeOutcome::kRemoved;
            }
        } else if (it != subs.end()) {
            it->expire = expire_seconds;
            it->expires_at = now + expire_seconds;
            outcome = SubscribeOutcome::kRefreshed;
        } else if (!made) {
            lock.unlock();
            auto result = factory_(socket);
            if (auto* error = std::get_if<std::string>(&result)) {
                outcome = std::pair{EventErrc::bad_socket, *error};
                break;
            }
            made = std::get<std::shared_ptr<EventSink>>(std::move(result));
            continue;  // look again: another caller may have subscribed meanwhile
        } else {
            subs.push_back(Subscription{std::string(socket), expire_seconds, now + expire_seconds,
                                        std::move(made)});
            ++event->audience;
            outcome = SubscribeOutcome::kSubscribed;
        }
        // Under the lock, so that a store is told of racing subscribes and
        // unsubscribes of one socket in the order they took effect.
        if (subscription_hook_ && std::holds_alternative<SubscribeOutcome>(outcome)) {
            subscription_hook_(event_name, socket, expire_seconds);
        }
        break;
    }
    if (made) to_close.push_back(std::move(made));  // made, but a concurrent subscribe won
    for (auto& sink : to_close) sink->close();
    return outcome;
}

SubscriberInfo EventHub::info_of(const Subscription& s, std::int64_t now) const {
    return SubscriberInfo{s.socket, s.expire, s.expires_at - now, s.sink->dropped(),
                          s.sink->health()};
}

std::vector<EventSubscribers> EventHub::subscribers() const {
    std::shared_lock lock(mutex_);
    const auto now = clock_();
    std::vector<EventSubscribers> out;
    for (const auto& e : events_) {
        EventSubscribers entry{e->info, {}};
        for (const auto& s : e->subscriptions) {
            if (s.expires_at > now) entry.subscribers.push_back(info_of(s, now));
        }
        if (!entry.subscribers.empty()) out.push_back(std::move(entry));
    }
    return out;
}

std::variant<EventSubscribers, EventErrc> EventHub::subscribers(
    std::string_view event_name, std::optional<std::string_view> socket) const {
    std::shared_lock lock(mutex_);
    const auto now = clock_();
    const auto* e = find_locked(event_name);
    if (e == nullptr) return EventErrc::unknown_event;
    EventSubscribers entry{e->info, {}};
    for (const auto& s : e->subscriptions) {
        if (s.expires_at <= now || (socket && s.socket != *socket)) continue;
        entry.subscribers.push_back(info_of(s, now));
    }
    if (socket && entry.subscribers.empty()) return EventErrc::unknown_subscriber;
    return entry;
}

bool EventHub::wanted(int event_id) const noexcept {
    std::shared_lock lock(mutex_);
    if (event_id < 0 || static_cast<std::size_t>(event_id) >= events_.size()) return false;
    return events_[static_cast<std::size_t>(event_id)]->audience.load(std::memory_order_relaxed) != 0;
}

std::size_t EventHub::raise(int event_id, const EventPayload& payload) {
    std::vector<std::shared_ptr<EventSink>> targets;
    {
        std::shared_lock lock(mutex_);
        if (event_id < 0 || static_cast<std::size_t>(event_id) >= events_.size()) return 0;
        const auto& event = *events_[static_cast<std::size_t>(event_id)];
        if (event.audience.load(std::memory_order_relaxed) == 0) return 0;
        const auto now = clock_();
        for (const auto& s : event.subscriptions) {
            if (s.expires_at > now) targets.push_back(s.sink);
        }
        for (const auto& tap : taps_) {
            if (tap.wants(event_id)) targets.push_back(tap.sink);
        }
    }
    for (const auto& sink : targets) {
        sink->push(payload);
        if (delivery_hook_) delivery_hook_(event_id, sink->transport());
    }
    return targets.size();
}

std::uint64_t EventHub::add_tap(std::vector<int> event_ids, std::shared_ptr<EventSink> sink) {
    std::unique_lock lock(mutex_);
    Tap tap{next_tap_++, std::move(event_ids), std::move(sink)};
    for (auto& e : events_) {
        if (tap.wants(e->info.id)) ++e->audience;
    }
    taps_.push_back(std::move(tap));
    return taps_.back().id;
}

void EventHub::remove_tap(std::uint64_t tap_id) {
    std::shared_ptr<EventSink> closing;
    {
        std::unique_lock lock(mutex_);
        auto it = std::find_if(taps_.begin(), taps_.end(), [&](const Tap& t) { return t.id == tap_id; });
        if (it == taps_.end()) return;
        for (auto& e : events_) {
            if (it->wants(e->info.id)) --e->audience;
        }
        dropped_by_removed_ += it->sink->dropped();
        closing = std::move(it->sink);
        taps_.erase(it);
    }
    closing->close();
}

void EventHub::drain(std::chrono::steady_clock::time_point deadline) {
    std::vector<std::shared_ptr<EventSink>> sinks;
    {
        std::shared_lock lock(mutex_);
        for (const auto& e : events_) {
            for (const auto& s : e->subscriptions) sinks.push_back(s.sink);
        }
    }
    // One deadline for all: each sink delivers on its own, so waiting for
    // them in turn takes as long as the slowest.
    for (const auto& sink : sinks) sink->drain(deadline);
}

void EventHub::purge_expired() {
    std::vector<std::shared_ptr<EventSink>> to_close;
    {
        std::unique_lock lock(mutex_);
        const auto now = clock_();
        for (auto& e : events_) {
            auto& subs = e->subscriptions;
            for (auto it = subs.begin(); it != subs.end();) {
                if (it->expires_at <= now) {
                    dropped_by_removed_ += it->sink->dropped();
                    to_close.push_back(std::move(it->sink));
                    it = subs.erase(it);
                    --e->audience;
                } else {
                    ++it;
                }
            }
        }
    }
    for (auto& sink : to_close) sink->close();
}

std::uint64_t EventHub::dropped_total() const {
    std::uint64_t total = 0;
    {
        std::shared_lock lock(mutex_);
        total = dropped_by_removed_;
        for (const auto& e : events_) {
            for (const auto& s : e->subscriptions) total += s.sink->dropped();
        }
        for (const auto& tap : taps_) total += tap.sink->dropped();
    }
    // A closed sink may still count a drop it had under way; what it counts
    // after its removal is lost, so the sum cannot shrink, but make sure.
    auto seen = dropped_seen_.load(std::memory_order_relaxed);
    while (total > seen && !dropped_seen_.compare_exchange_weak(seen, total, std::memory_order_relaxed)) {
    }
    return std::max(total, seen);
}

}  // namespace srmi::core
