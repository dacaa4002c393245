// BrokerChannel: the bounded queue between a broker sink and its publisher
// thread (oldest dropped first, unconfirmed events put back in order), the
// drain at shutdown with its deadline, and the first-attempt refusal that
// subscribing reports.
#include "server/events/broker_channel.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "tests/support/wait_until.h"

namespace {

using namespace std::chrono_literals;
using srmi::server::BrokerChannel;
using srmi::server::BrokerSink;
using srmi::server::BrokerThreads;
using srmi::test::wait_until;

srmi::core::EventPayload event(int n) {
    return std::make_shared<const std::string>("e" + std::to_string(n));
}

std::string texts(const std::deque<srmi::core::EventPayload>& events) {
    std::string out;
    for (const auto& e : events) out += *e + " ";
    return out;
}

}  // namespace

TEST_CASE("a full queue drops its oldest, and counts it") {
    BrokerChannel channel(3);
    for (int i = 1; i <= 5; ++i) channel.push(event(i));
    CHECK(channel.dropped() == 2);
    std::deque<srmi::core::EventPayload> taken;
    channel.take(taken, 10);
    CHECK(texts(taken) == "e3 e4 e5 ");
}

TEST_CASE("unconfirmed events go back in front, in order; beyond the limit the oldest go") {
    BrokerChannel channel(4);
    for (int i = 1; i <= 4; ++i) channel.push(event(i));
    std::deque<srmi::core::EventPayload> in_flight;
    channel.take(in_flight, 2);  // e1 e2 published, not confirmed
    channel.push(event(5));
    channel.push(event(6));  // queue: e3 e4 e5 e6
    channel.put_back(in_flight);
    CHECK(in_flight.empty());
    CHECK(channel.dropped() == 2);  // e1 e2: the oldest of six held against a limit of four
    std::deque<srmi::core::EventPayload> taken;
    channel.take(taken, 10);
    CHECK(texts(taken) == "e3 e4 e5 e6 ");
}

TEST_CASE("a drain waits for the publisher to finish, and what it could not deliver is dropped") {
    auto channel = std::make_shared<BrokerChannel>(100);
    for (int i = 0; i < 10; ++i) channel->push(event(i));
    std::atomic<bool> stopped{false};
    std::thread publisher([&] {
        // Delivers three, then cannot reach the broker: holds the rest until the deadline.
        std::deque<srmi::core::EventPayload> held;
        channel->take(held, 3);
        channel->count_confirmed(3);
        held.clear();
        channel->take(held, 2);
        while (!channel->should_stop(held.size())) channel->pause(5ms);
        channel->finished(held.size());
        stopped = true;
    });
    const auto start = std::chrono::steady_clock::now();
    channel->drain(start + 200ms);
    publisher.join();
    CHECK(stopped);
    CHECK(channel->health().confirmed == 3);
    CHECK(channel->dropped() == 7);  // two held, five queued
}

TEST_CASE("a drain ends early once the publisher has nothing left") {
    BrokerChannel channel(10);
    channel.push(event(1));
    std::thread publisher([&] {
        std::deque<srmi::core::EventPayload> held;
        while (!channel.should_stop(held.size())) {
            channel.wait(50ms);
            channel.take(held, 10);
            channel.count_confirmed(held.size());
            held.clear();
        }
        channel.finished(0);
    });
    // A deadline no test waits out: the drain returns when the queue is empty.
    channel.drain(std::chrono::steady_clock::now() + 60s);
    publisher.join();
    CHECK(channel.dropped() == 0);
    CHECK(channel.health().confirmed == 1);
}

TEST_CASE("close discards the queue uncounted and stops the publisher") {
    BrokerChannel channel(10);
    channel.push(event(1));
    CHECK_FALSE(channel.should_stop(0));
    channel.close();
    CHECK(channel.should_stop(0));
    channel.push(event(2));  // after close: ignored
    std::deque<srmi::core::EventPayload> taken;
    channel.take(taken, 10);
    CHECK(taken.empty());
    CHECK(channel.dropped() == 0);
}

TEST_CASE("the first attempt's refusal is told to the subscriber; later ones are not") {
    BrokerChannel refused(10);
    std::thread([&] { refused.disconnected("login refused", true); }).join();
    CHECK(refused.first_refusal(1s) == std::optional<std::string>("login refused"));

    BrokerChannel unreachable(10);
    unreachable.disconnected("cannot connect");
    CHECK_FALSE(unreachable.first_refusal(1s).has_value());
    CHECK(unreachable.health().error == "cannot connect");

    BrokerChannel later(10);
    later.connected();
    later.disconnected("login refused", true);  // e.g. a password changed on the broker
    CHECK_FALSE(later.first_refusal(1s).has_value());
    CHECK_FALSE(later.health().connected);
}

TEST_CASE("the broker sink is a handle: its health names the socket without the password") {
    BrokerThreads threads;
    auto channel = std::make_shared<BrokerChannel>(10);
    std::atomic<int> finished{0};
    threads.start([channel, &finished] {
        while (!channel->should_stop(0)) channel->wait(10ms);
        channel->finished(0);
        ++finished;
    });
    {
        BrokerSink sink(channel, "rabbitmq", "rabbitmq:srmi@h/k");
        CHECK(sink.transport() == "rabbitmq");
        REQUIRE(sink.health().has_value());
        CHECK(sink.health()->shown == "rabbitmq:srmi@h/k");
        CHECK_FALSE(sink.health()->connected);
    }  // the last handle closes the channel: the thread ends
    CHECK(wait_until([&] { return finished == 1; }));
}
