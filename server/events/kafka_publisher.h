// The Kafka publisher: one librdkafka producer per subscriber (acks=all,
// idempotent), its delivery reports deciding what was delivered.
#pragma once

#include <memory>

#include "server/events/broker_channel.h"
#include "server/events/broker_socket.h"
#include "server/events/rabbitmq_publisher.h"  // BrokerOptions

namespace srmi::server {

/// A configured producer, not yet running. Made when the subscription is,
/// so that a property librdkafka rejects is the subscriber's 400.
class KafkaProducer;

struct KafkaProducerDeleter {
    void operator()(KafkaProducer* producer) const;
};
using KafkaProducerPtr = std::unique_ptr<KafkaProducer, KafkaProducerDeleter>;

/// Configures a producer for `socket`: bootstrap servers, acks=all,
/// enable.idempotence=true, options' back-off and connect timeout, then the
/// socket's g. and t. properties in order (so they may override ours). Throws
/// BadSocket with librdkafka's message for a property it rejects, or a
/// configuration it cannot start with. librdkafka begins connecting in the
/// background at once; nothing is produced before run_kafka_publisher.
/// TLS: `g.security.protocol=ssl` (options.tls_ca_file unless
/// `g.ssl.ca.location` is given). Destroy it after run_kafka_publisher has
/// returned, or without ever running it.
KafkaProducerPtr make_kafka_producer(const KafkaSocket& socket, const BrokerOptions& options);

/// Runs until `channel` says stop: produces what is queued (options.window
/// messages in librdkafka at most; the rest waits in the channel, whose limit
/// drops the oldest), keyed as the socket says, and counts delivery reports
/// (confirmed, or dropped when librdkafka gives up on a message, by default
/// after its message.timeout.ms of 300 s). On the publisher's own thread,
/// which it blocks; at a drain, delivers until the deadline, then purges what
/// is left and counts it dropped; when the channel closes, purges at once.
void run_kafka_publisher(KafkaProducer& producer, BrokerChannel& channel);

}  // namespace srmi::server
