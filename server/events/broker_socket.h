// Broker socket strings in OpenSIPS's syntax (event_rabbitmq, event_kafka),
// read into what a publisher needs. Grammar: ../shared/spec/brokers.md.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/events/socket_address.h"

namespace srmi::server {

/// `rabbitmq:[USER[:PASSWORD]@]HOST[:PORT]/[PARAMS?]ROUTING_KEY`
struct RabbitMqSocket {
    std::string user = "guest";
    std::string password = "guest";
    HostPort broker;       ///< port 5672 unless given
    std::string exchange;  ///< empty: the default exchange
    std::string routing_key;
    bool persistent = false;  ///< delivery mode 2
    bool tls = false;         ///< `tls_domain=` given
};

/// What a Kafka record's key is made of; kNone: no key.
enum class KafkaKey { kNone, kGroup, kIdentifier, kGroupIdentifier };

/// `kafka:BROKER[:PORT][,BROKER[:PORT]...]/TOPIC[?PROPERTIES]`
struct KafkaSocket {
    std::string bootstrap_servers;  ///< as written, for librdkafka
    std::string topic;
    /// `g.NAME=VALUE` items, without the prefix, in order.
    std::vector<std::pair<std::string, std::string>> global_properties;
    /// `t.NAME=VALUE` items, without the prefix, in order.
    std::vector<std::pair<std::string, std::string>> topic_properties;
    KafkaKey key = KafkaKey::kNone;
};

/// Reads the part after `rabbitmq:`. Throws BadSocket naming the problem.
RabbitMqSocket parse_rabbitmq_socket(std::string_view rest);

/// Reads the part after `kafka:`. Throws BadSocket naming the problem (the
/// properties' names and values are librdkafka's to judge).
KafkaSocket parse_kafka_socket(std::string_view rest);

/// `socket` with its secrets left out, for labels and logs that others read:
/// a RabbitMQ password (`user:…@` becomes `user@`), the values of Kafka
/// properties named `*password*` or `*secret*` (`***`).
std::string redact_socket(std::string_view socket);

}  // namespace srmi::server
