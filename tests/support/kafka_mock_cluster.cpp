// srmi_kafka_mock_cluster: librdkafka's mock Kafka cluster as a process, for
// end-to-end tests of the real binary (Debian packages no Kafka server).
//
//   srmi_kafka_mock_cluster [BROKERS]      (default 3; broker ids 1..BROKERS)
//
// Prints its bootstrap servers as the first line of stdout, then reads
// commands on stdin, one a line, and answers each on stdout:
//   topic NAME PARTITIONS     creates a topic (else the first producer's
//                             request makes it, with the mock's defaults)  -> ok
//   down ID / up ID           takes a broker down (connections closed, new
//                             ones refused) or brings it back              -> ok
//   consume TOPIC N TIMEOUT_MS   the first N records of TOPIC, all partitions,
//                             each partition in order, one a line as
//                             KEY<TAB>VALUE (no key: empty), fewer if they do
//                             not come within TIMEOUT_MS                   -> end
// A command it cannot do is answered `error: WHY`. Exits at the end of stdin.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

namespace {

void quiet(const rd_kafka_t*, int, const char*, const char*) {}

/// The partitions of `topic`, from the cluster's metadata; 0 when unknown.
int partition_count(rd_kafka_t* client, const std::string& topic, int timeout_ms) {
    rd_kafka_topic_t* handle = rd_kafka_topic_new(client, topic.c_str(), nullptr);
    if (!handle) return 0;
    const rd_kafka_metadata_t* metadata = nullptr;
    int count = 0;
    if (rd_kafka_metadata(client, 0, handle, &metadata, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int t = 0; t < metadata->topic_cnt; ++t) {
            if (metadata->topics[t].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                topic == metadata->topics[t].topic) {
                count = metadata->topics[t].partition_cnt;
            }
        }
    }
    if (metadata) rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(handle);
    return count;
}

/// Prints the first `count` records of `topic` (see the header), then `end`.
void consume(const std::string& bootstraps, const std::string& topic, long count, long timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::array<char, 512> error{};
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), error.data(), error.size());
    // assign() needs a group id; nothing joins or commits.
    rd_kafka_conf_set(conf, "group.id", "srmi-kafka-mock-cluster", error.data(), error.size());
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", error.data(), error.size());
    rd_kafka_conf_set_log_cb(conf, &quiet);
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error.data(), error.size());
    if (!consumer) {
        std::cout << "error: " << error.data() << "\nend" << std::endl;
        return;
    }
    const int partitions = partition_count(consumer, topic, static_cast<int>(timeout_ms));
    auto* assignment = rd_kafka_topic_partition_list_new(partitions > 0 ? partitions : 1);
    for (int p = 0; p < partitions; ++p) {
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(consumer, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    long printed = 0;
    while (partitions > 0 && printed < count && std::chrono::steady_clock::now() < deadline) {
        rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 50);
        if (!message) continue;
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (message->key)
                std::cout.write(static_cast<const char*>(message->key), message->key_len);
            std::cout << '\t';
            std::cout.write(static_cast<const char*>(message->payload), message->len);
            std::cout << '\n';
            ++printed;
        }
        rd_kafka_message_destroy(message);
    }
    std::cout << "end" << std::endl;
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
}

}  // namespace

int main(int argc, char** argv) {
    const int brokers = argc > 1 ? std::atoi(argv[1]) : 3;
    if (brokers < 1) {
        std::cerr << "usage: srmi_kafka_mock_cluster [BROKERS]\n";
        return 2;
    }
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, &quiet);
    std::array<char, 512> error{};
    rd_kafka_t* owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error.data(), error.size());
    if (!owner) {
        std::cerr << "cannot make a client: " << error.data() << '\n';
        return 1;
    }
    rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(owner, brokers);
    if (!cluster) {
        std::cerr << "cannot make the mock cluster\n";
        rd_kafka_destroy(owner);
        return 1;
    }
    const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
    std::cout << bootstraps << std::endl;

    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream words(line);
        std::string command;
        if (!(words >> command)) continue;
        if (command == "down" || command == "up") {
            int id = 0;
            if (!(words >> id)) {
                std::cout << "error: expected " << command << " ID" << std::endl;
                continue;
            }
            const auto result = command == "down" ? rd_kafka_mock_broker_set_down(cluster, id)
                                                  : rd_kafka_mock_broker_set_up(cluster, id);
            if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::cout << "error: " << rd_kafka_err2str(result) << std::endl;
            } else {
                std::cout << "ok" << std::endl;
            }
        } else if (command == "topic") {
            std::string name;
            int partitions = 0;
            if (!(words >> name >> partitions) || partitions < 1) {
                std::cout << "error: expected topic NAME PARTITIONS" << std::endl;
                continue;
            }
            const auto result = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions,
                                                           brokers < 3 ? brokers : 3);
            if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
                std::cout << "error: " << rd_kafka_err2str(result) << std::endl;
            } else {
                std::cout << "ok" << std::endl;
            }
        } else if (command == "consume") {
            std::string topic;
            long count = 0;
            long timeout_ms = 0;
            if (!(words >> topic >> count >> timeout_ms)) {
                std::cout << "error: expected consume TOPIC N TIMEOUT_MS\nend" << std::endl;
                continue;
            }
            consume(bootstraps, topic, count, timeout_ms);
        } else {
            std::cout << "error: unknown command '" << command << "'" << std::endl;
        }
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(owner);
    return 0;
}
