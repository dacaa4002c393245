// The RabbitMQ publisher: one AMQP 0-9-1 connection per subscriber, through
// rabbitmq-c, with publisher confirms deciding what was delivered.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "server/events/broker_channel.h"
#include "server/events/broker_socket.h"

namespace srmi::server {

/// Timing and TLS shared by the broker publishers.
struct BrokerOptions {
    /// PEM CA certificates for TLS to a broker; empty: the system's store.
    std::string tls_ca_file;
    /// Connection attempts back off from reconnect_min, doubling up to
    /// reconnect_max.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
    /// Deadline for the TCP connect, the TLS handshake and each AMQP call.
    std::chrono::milliseconds connect_timeout{3000};
    /// A message unconfirmed for this long means the connection is dead:
    /// it is remade, and what was unconfirmed is sent again.
    std::chrono::milliseconds confirm_timeout{10000};
    /// Messages published and not yet confirmed, at most.
    std::size_t window = 512;
};

/// Runs until `channel` says stop: connects (again, with back-off, as often
/// as needed), publishes what is queued, counts the broker's confirmations.
/// On the publisher's own thread.
void run_rabbitmq_publisher(const RabbitMqSocket& socket, const BrokerOptions& options,
                            BrokerChannel& channel);

}  // namespace srmi::server
