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
/// enable.idempotence=true, then the socket's g./t. properties in order (so
/// they may override ours). Throws BadSocket with librdkafka's message for a
/// property it rejects. Does not connect.
KafkaProducerPtr make_kafka_producer(const KafkaSocket& socket, const BrokerOptions& options);

/// Runs until `channel` says stop: produces what is queued, keyed as the
/// socket says, and counts delivery reports (confirmed, or dropped when
/// librdkafka gives up on a message). On the publisher's own thread; at a
/// drain, flushes until the deadline and counts what is left as dropped.
void run_kafka_publisher(KafkaProducer& producer, BrokerChannel& channel);

}  // namespace srmi::server
