// Kafka publisher tests against librdkafka's own mock cluster (rdkafka_mock.h):
// Debian packages no Kafka server, and the mock speaks Kafka's protocol on
// loopback ports, with brokers a test can take down and bring back. Records
// are read back with a real librdkafka consumer.
#include "server/events/kafka_publisher.h"

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/wait_until.h"

// librdkafka starts its threads with C11 thrd_create, which GCC 12's TSan
// runtime does not intercept: under TSan they crash in TSan's own code at
// their first intercepted call. These cases run in the normal and ASan builds.
#ifdef SRMI_SANITIZED_THREAD
constexpr bool kLibrdkafkaCannotRun = true;
#else
constexpr bool kLibrdkafkaCannotRun = false;
#endif

TEST_SUITE_BEGIN("kafka" * doctest::skip(kLibrdkafkaCannotRun));

namespace {

using namespace std::chrono_literals;
using srmi::test::wait_until;
using namespace srmi::server;

constexpr int kBrokers = 3;
constexpr int kPartitions = 4;

/// librdkafka logs to stderr unless told otherwise; the tests' clients say
/// nothing.
void quiet(const rd_kafka_t*, int, const char*, const char*) {}

/// A mock cluster of kBrokers brokers (ids 1..kBrokers), owned by a client
/// handle of its own, with `topic` made with kPartitions partitions.
struct MockCluster {
    rd_kafka_t* owner = nullptr;
    rd_kafka_mock_cluster_t* cluster = nullptr;
    std::string bootstraps;

    explicit MockCluster(const std::string& topic) {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, &quiet);
        std::array<char, 512> error{};
        owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
        REQUIRE_MESSAGE(owner != nullptr, error.data());
        cluster = rd_kafka_mock_cluster_new(owner, kBrokers);
        REQUIRE(cluster != nullptr);
        bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
        REQUIRE(rd_kafka_mock_topic_create(cluster, topic.c_str(), kPartitions, kBrokers) ==
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ~MockCluster() {
        rd_kafka_mock_cluster_destroy(cluster);
        rd_kafka_destroy(owner);
    }

    void set_all(bool up) {
        for (int id = 1; id <= kBrokers; ++id) {
            const auto error = up ? rd_kafka_mock_broker_set_up(cluster, id)
                                  : rd_kafka_mock_broker_set_down(cluster, id);
            REQUIRE(error == RD_KAFKA_RESP_ERR_NO_ERROR);
        }
    }
};

struct Record {
    std::string key;
    bool has_key = false;
    std::string value;
    int partition = -1;
};

/// The first `count` records of `topic`, all partitions, each in its
/// partition's order; fewer if they do not come within `limit`.
std::vector<Record> consume(const std::string& bootstraps, const std::string& topic,
                            std::size_t count, std::chrono::milliseconds limit = 30s) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::array<char, 512> error{};
    auto set = [&](const char* name, const char* value) {
        REQUIRE_MESSAGE(
            rd_kafka_conf_set(conf, name, value, error.data(), error.size()) == RD_KAFKA_CONF_OK,
            error.data());
    };
    set("bootstrap.servers", bootstraps.c_str());
    // A group id is what assign() needs; nothing joins or commits.
    set("group.id", "srmi-test");
    set("enable.auto.commit", "false");
    rd_kafka_conf_set_log_cb(conf, &quiet);
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
    REQUIRE_MESSAGE(consumer != nullptr, error.data());
    rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(kPartitions);
    for (int p = 0; p < kPartitions; ++p) {
        rd_kafka_topic_partition_list_add(partitions, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    REQUIRE(rd_kafka_assign(consumer, partitions) == RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(partitions);

    std::vector<Record> records;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (records.size() < count && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
        if (!message) continue;
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            Record r;
            r.has_key = message->key != nullptr;
            if (r.has_key) r.key.assign(static_cast<const char*>(message->key), message->key_len);
            r.value.assign(static_cast<const char*>(message->payload), message->len);
            r.partition = message->partition;
            records.push_back(std::move(r));
        }
        rd_kafka_message_destroy(message);
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return records;
}

/// A status change as srmi raises it; `seq` lets the test check order.
srmi::core::EventPayload status_change(const std::string& group, const std::string& identifier,
                                       int seq) {
    nlohmann::json text = {{"jsonrpc", "2.0"},
                           {"method", "E_CORE_SR_STATUS_CHANGED"},
                           {"params",
                            {{"group", group},
                             {"identifier", identifier},
                             {"status", 1},
                             {"details", "step " + std::to_string(seq)},
                             {"seq", seq}}}};
    return std::make_shared<const std::string>(text.dump());
}

/// A producer for `kafka:<rest>` publishing on a thread of its own, as
/// BrokerThreads runs it; closed and joined at the end of the test.
struct RunningPublisher {
    std::shared_ptr<BrokerChannel> channel;
    KafkaProducerPtr producer;
    std::atomic<bool> finished{false};
    std::thread thread;

    RunningPublisher(const std::string& rest, const BrokerOptions& options, std::size_t limit)
        : channel(std::make_shared<BrokerChannel>(limit)),
          producer(make_kafka_producer(parse_kafka_socket(rest), options)) {
        thread = std::thread([this] {
            run_kafka_publisher(*producer, *channel);
            finished = true;
        });
    }
    ~RunningPublisher() {
        channel->close();
        thread.join();
    }
    std::uint64_t confirmed() const { return channel->health().confirmed; }
    bool connected() const { return channel->health().connected; }
};

BrokerOptions quick_options(std::size_t window = 512) {
    BrokerOptions options;
    options.reconnect_min = 50ms;
    options.reconnect_max = 500ms;
    options.window = window;
    return options;
}

}  // namespace

TEST_CASE("every event reaches Kafka once, keyed by group/identifier, in order per key") {
    MockCluster kafka("srmi");
    RunningPublisher publisher(kafka.bootstraps + "/srmi?key=group/identifier", quick_options(),
                               2000);
    REQUIRE(wait_until([&] { return publisher.connected(); }));

    constexpr int kEvents = 1000;
    constexpr int kUnkeyed = 10;  // no group and identifier in params: no key
    for (int seq = 0; seq < kEvents; ++seq) {
        publisher.channel->push(
            status_change("g" + std::to_string(seq % 5), "i" + std::to_string(seq % 20), seq));
    }
    for (int i = 0; i < kUnkeyed; ++i) {
        publisher.channel->push(std::make_shared<const std::string>(
            R"({"jsonrpc":"2.0","method":"E_CORE_LOG","params":{"message":"m)" + std::to_string(i) +
            "\"}}"));
    }
    REQUIRE(wait_until([&] { return publisher.confirmed() == kEvents + kUnkeyed; }, 30s));
    CHECK(publisher.channel->dropped() == 0);

    const auto records = consume(kafka.bootstraps, "srmi", kEvents + kUnkeyed);
    REQUIRE(records.size() == kEvents + kUnkeyed);
    std::set<int> seen;
    std::map<std::string, int> last_seq;
    std::map<std::string, std::set<int>> partitions_of_key;
    int unkeyed = 0;
    for (const auto& r : records) {
        const auto json = nlohmann::json::parse(r.value);
        const auto& params = json.at("params");
        if (!params.contains("seq")) {
            CHECK_FALSE(r.has_key);
            ++unkeyed;
            continue;
        }
        const int seq = params.at("seq").get<int>();
        CHECK(seen.insert(seq).second);  // once
        REQUIRE(r.has_key);
        CHECK(r.key == params.at("group").get<std::string>() + "/" +
                           params.at("identifier").get<std::string>());
        const auto last = last_seq.find(r.key);
        if (last != last_seq.end()) CHECK(last->second < seq);  // in order per key
        last_seq[r.key] = seq;
        partitions_of_key[r.key].insert(r.partition);
    }
    CHECK(unkeyed == kUnkeyed);
    CHECK(seen.size() == kEvents);
    CHECK(last_seq.size() == 20);
    std::set<int> partitions;
    for (const auto& [key, in] : partitions_of_key) {
        CHECK(in.size() == 1);  // one key, one partition
        partitions.insert(*in.begin());
    }
    CHECK(partitions.size() > 1);  // and the keys spread
}

TEST_CASE(
    "Kafka brokers down: pushes go on, the oldest are dropped and counted, delivery resumes") {
    MockCluster kafka("srmi");
    constexpr std::size_t kWindow = 50;
    constexpr std::size_t kLimit = 100;
    RunningPublisher publisher(kafka.bootstraps + "/srmi?key=identifier", quick_options(kWindow),
                               kLimit);

    constexpr int kBefore = 100;
    for (int seq = 0; seq < kBefore; ++seq)
        publisher.channel->push(status_change("g", "i" + std::to_string(seq % 7), seq));
    REQUIRE(wait_until([&] { return publisher.confirmed() == kBefore; }, 30s));
    CHECK(publisher.connected());

    kafka.set_all(false);
    constexpr int kDuring = 1000;
    for (int seq = kBefore; seq < kBefore + kDuring; ++seq) {
        publisher.channel->push(status_change("g", "i" + std::to_string(seq % 7), seq));
    }
    // What neither librdkafka (the window) nor the queue holds is dropped.
    CHECK(publisher.channel->dropped() >= kDuring - kLimit - kWindow);
    REQUIRE(wait_until([&] { return !publisher.connected(); }, 30s));
    CHECK_FALSE(publisher.channel->health().error.empty());
    CHECK(publisher.confirmed() == kBefore);

    kafka.set_all(true);
    REQUIRE(wait_until(
        [&] { return publisher.confirmed() + publisher.channel->dropped() == kBefore + kDuring; },
        30s));
    CHECK(publisher.confirmed() > kBefore);
    CHECK(wait_until([&] { return publisher.connected(); }));

    // And it goes on as before.
    const auto confirmed = publisher.confirmed();
    for (int seq = 0; seq < 10; ++seq) publisher.channel->push(status_change("g", "after", seq));
    CHECK(wait_until([&] { return publisher.confirmed() == confirmed + 10; }, 30s));
}

TEST_CASE("a QUEUE_FULL from librdkafka puts events back; all are delivered") {
    MockCluster kafka("srmi");
    RunningPublisher publisher(kafka.bootstraps + "/srmi?g.queue.buffering.max.messages=5",
                               quick_options(), 1000);
    constexpr int kEvents = 300;
    for (int seq = 0; seq < kEvents; ++seq) publisher.channel->push(status_change("g", "i", seq));
    REQUIRE(wait_until([&] { return publisher.confirmed() == kEvents; }, 30s));
    CHECK(publisher.channel->dropped() == 0);
    const auto records = consume(kafka.bootstraps, "srmi", kEvents);
    REQUIRE(records.size() == kEvents);
}

TEST_CASE(
    "a drain with the Kafka brokers down ends by its deadline and counts the rest as dropped") {
    MockCluster kafka("srmi");
    kafka.set_all(false);
    RunningPublisher publisher(kafka.bootstraps + "/srmi", quick_options(), 100);
    constexpr int kEvents = 30;
    for (int seq = 0; seq < kEvents; ++seq) publisher.channel->push(status_change("g", "i", seq));
    // Handed to librdkafka, so that what the drain gives up is its to purge.
    REQUIRE(wait_until([&] { return !publisher.channel->has_queued(); }));
    publisher.channel->drain(std::chrono::steady_clock::now() + 300ms);
    REQUIRE(wait_until([&] { return publisher.finished.load(); }, 10s));
    CHECK(publisher.channel->dropped() == kEvents);
    CHECK(publisher.confirmed() == 0);
    CHECK_FALSE(publisher.connected());
}

TEST_CASE("a drain with Kafka up delivers what is queued, then stops") {
    MockCluster kafka("srmi");
    RunningPublisher publisher(kafka.bootstraps + "/srmi", quick_options(), 100);
    constexpr int kEvents = 50;
    for (int seq = 0; seq < kEvents; ++seq) publisher.channel->push(status_change("g", "i", seq));
    publisher.channel->drain(std::chrono::steady_clock::now() + 20s);
    REQUIRE(wait_until([&] { return publisher.finished.load(); }, 30s));
    CHECK(publisher.confirmed() == kEvents);
    CHECK(publisher.channel->dropped() == 0);
}

TEST_CASE("unsubscribing from a dead Kafka stops the publisher at once") {
    MockCluster kafka("srmi");
    kafka.set_all(false);
    RunningPublisher publisher(kafka.bootstraps + "/srmi", quick_options(), 100);
    for (int seq = 0; seq < 20; ++seq) publisher.channel->push(status_change("g", "i", seq));
    REQUIRE(wait_until([&] { return !publisher.channel->has_queued(); }));  // in librdkafka
    publisher.channel->close();
    // Far less than librdkafka's message timeout (300 s) or a flush.
    CHECK(wait_until([&] { return publisher.finished.load(); }, 10s));
}

TEST_CASE("a property librdkafka refuses is a BadSocket with librdkafka's reason") {
    const auto options = quick_options();
    auto refusal = [&](const std::string& rest) -> std::string {
        try {
            make_kafka_producer(parse_kafka_socket(rest), options);
        } catch (const BadSocket& e) {
            return e.what();
        }
        return "";
    };
    SUBCASE("unknown global property") {
        const auto text = refusal("127.0.0.1:9/srmi?g.no.such.property=1");
        CHECK(text.find("no.such.property") != std::string::npos);
    }
    SUBCASE("bad value") {
        // librdkafka names the property (by its long name), not the value.
        const auto text = refusal("127.0.0.1:9/srmi?g.acks=banana");
        CHECK(text.find("Invalid value") != std::string::npos);
        CHECK(text.find("acks") != std::string::npos);
    }
    SUBCASE("a global property given as a topic one") {
        const auto text = refusal("127.0.0.1:9/srmi?t.linger.ms=5");
        CHECK(text.find("linger.ms") != std::string::npos);
    }
    SUBCASE("a configuration librdkafka will not start with") {
        const auto text = refusal("127.0.0.1:9/srmi?t.acks=1");
        CHECK(text.find("acks") != std::string::npos);
    }
    SUBCASE("accepted properties make a producer") {
        CHECK(refusal("127.0.0.1:9/srmi?g.linger.ms=5&t.message.timeout.ms=1000&key=group") == "");
    }
}

TEST_SUITE_END();
