// EventHub without sockets: a recording sink stands in for the transports.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/event_hub.h"

namespace {

using srmi::core::EventErrc;
using srmi::core::EventHub;
using srmi::core::EventPayload;
using srmi::core::SubscribeOutcome;

struct RecordingSink : srmi::core::EventSink {
    std::mutex mutex;
    std::vector<std::string> received;
    std::atomic<bool> closed{false};

    void push(EventPayload payload) override {
        std::lock_guard lock(mutex);
        received.push_back(*payload);
    }
    std::uint64_t dropped() const override { return 7; }
    void close() override { closed = true; }
};

struct Fixture {
    std::int64_t now = 1000;
    std::vector<std::shared_ptr<RecordingSink>> made;  // in creation order
    EventHub hub{[this](std::string_view socket)
                     -> std::variant<std::shared_ptr<srmi::core::EventSink>, std::string> {
                     if (socket.rfind("bad", 0) == 0) return std::string("bad socket");
                     made.push_back(std::make_shared<RecordingSink>());
                     return made.back();
                 },
                 [this] { return now; }};
    int a = hub.publish("E_A");
    int b = hub.publish("E_B");

    EventPayload payload(const std::string& text) { return std::make_shared<const std::string>(text); }
};

template <class V>
SubscribeOutcome outcome(const V& v) {
    REQUIRE(std::holds_alternative<SubscribeOutcome>(v));
    return std::get<SubscribeOutcome>(v);
}

}  // namespace

TEST_CASE("events are numbered in publication order and found by exact name") {
    Fixture f;
    CHECK(f.a == 0);
    CHECK(f.b == 1);
    auto events = f.hub.events();
    REQUIRE(events.size() == 2);
    CHECK(events[1].name == "E_B");
    CHECK(f.hub.find("E_B") == 1);
    CHECK_FALSE(f.hub.find("e_b"));
    CHECK_THROWS_AS(f.hub.publish("E_A"), std::invalid_argument);
}

TEST_CASE("subscribe, refresh, unsubscribe") {
    Fixture f;
    CHECK_FALSE(f.hub.wanted(f.a));
    CHECK(outcome(f.hub.subscribe("E_A", "udp:x", 60)) == SubscribeOutcome::kSubscribed);
    CHECK(f.hub.wanted(f.a));
    CHECK_FALSE(f.hub.wanted(f.b));

    SUBCASE("re-subscribing refreshes instead of adding") {
        f.now += 30;
        CHECK(outcome(f.hub.subscribe("E_A", "udp:x", 100)) == SubscribeOutcome::kRefreshed);
        CHECK(f.made.size() == 1);
        auto list = std::get<srmi::core::EventSubscribers>(f.hub.subscribers("E_A"));
        REQUIRE(list.subscribers.size() == 1);
        CHECK(list.subscribers[0].expire == 100);
        CHECK(list.subscribers[0].ttl == 100);
        CHECK(list.subscribers[0].dropped == 7);
    }
    SUBCASE("expire 0 removes and closes the sink") {
        CHECK(outcome(f.hub.subscribe("E_A", "udp:x", 0)) == SubscribeOutcome::kRemoved);
        CHECK(f.made[0]->closed);
        CHECK_FALSE(f.hub.wanted(f.a));
        auto again = f.hub.subscribe("E_A", "udp:x", 0);
        CHECK(std::get<1>(again).first == EventErrc::unknown_subscriber);
    }
    SUBCASE("errors") {
        CHECK(std::get<1>(f.hub.subscribe("E_NONE", "udp:x", 5)).first == EventErrc::unknown_event);
        auto bad = f.hub.subscribe("E_A", "bad:1", 5);
        CHECK(std::get<1>(bad).first == EventErrc::bad_socket);
        CHECK(std::get<1>(bad).second == "bad socket");
        CHECK(std::get<EventErrc>(f.hub.subscribers("E_NONE")) == EventErrc::unknown_event);
        CHECK(std::get<EventErrc>(f.hub.subscribers("E_A", std::string_view("udp:y"))) ==
              EventErrc::unknown_subscriber);
    }
}

TEST_CASE("raising reaches each live subscriber once, and nobody else") {
    Fixture f;
    f.hub.subscribe("E_A", "udp:1", 60);
    f.hub.subscribe("E_A", "udp:2", 60);
    f.hub.subscribe("E_B", "udp:3", 60);
    CHECK(f.hub.raise(f.a, f.payload("one")) == 2);
    CHECK(f.made[0]->received == std::vector<std::string>{"one"});
    CHECK(f.made[1]->received == std::vector<std::string>{"one"});
    CHECK(f.made[2]->received.empty());
    CHECK(f.hub.raise(99, f.payload("x")) == 0);
}

TEST_CASE("expired subscriptions stop receiving, vanish from listings and are closed when purged") {
    Fixture f;
    f.hub.subscribe("E_A", "udp:short", 10);
    f.hub.subscribe("E_A", "udp:long", 100);
    f.now += 10;
    CHECK(f.hub.raise(f.a, f.payload("late")) == 1);
    CHECK(f.made[0]->received.empty());
    auto all = f.hub.subscribers();
    REQUIRE(all.size() == 1);
    REQUIRE(all[0].subscribers.size() == 1);
    CHECK(all[0].subscribers[0].socket == "udp:long");
    CHECK(all[0].subscribers[0].ttl == 90);
    CHECK_FALSE(f.made[0]->closed);
    f.hub.purge_expired();
    CHECK(f.made[0]->closed);
    CHECK_FALSE(f.made[1]->closed);
}

TEST_CASE("taps see the events they ask for without being subscribers") {
    Fixture f;
    auto all = std::make_shared<RecordingSink>();
    auto only_b = std::make_shared<RecordingSink>();
    const auto tap_all = f.hub.add_tap({}, all);
    f.hub.add_tap({f.b}, only_b);
    CHECK(f.hub.wanted(f.a));
    CHECK(f.hub.raise(f.a, f.payload("a")) == 1);
    CHECK(f.hub.raise(f.b, f.payload("b")) == 2);
    CHECK(all->received == std::vector<std::string>{"a", "b"});
    CHECK(only_b->received == std::vector<std::string>{"b"});
    CHECK(f.hub.subscribers().empty());

    f.hub.remove_tap(tap_all);
    CHECK(all->closed);
    CHECK_FALSE(f.hub.wanted(f.a));
    CHECK(f.hub.wanted(f.b));
}

TEST_CASE("concurrent raisers and subscribers") {
    Fixture f;
    f.hub.subscribe("E_A", "udp:steady", 1000);
    constexpr int kRaises = 2000;
    std::thread raiser([&] {
        for (int i = 0; i < kRaises; ++i) f.hub.raise(f.a, f.payload("e"));
    });
    std::thread churner([&] {
        for (int i = 0; i < 200; ++i) {
            f.hub.subscribe("E_A", "udp:churn", 1000);
            f.hub.subscribe("E_A", "udp:churn", 0);
        }
    });
    raiser.join();
    churner.join();
    std::lock_guard lock(f.made[0]->mutex);
    CHECK(f.made[0]->received.size() == kRaises);
}
