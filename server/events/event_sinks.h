// Event sinks: how a subscriber's events leave the process (UDP, Unix
// datagram, TCP stream, HTTP(S) POST, RabbitMQ, Kafka), each behind a bounded
// queue so that a slow or dead subscriber costs only its own events, never
// the raiser's time.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/event_hub.h"

namespace srmi::server {

/// Limits shared by every sink a factory makes.
struct SinkOptions {
    /// Events a sink holds while it is busy or disconnected; when full, the
    /// oldest is dropped (and counted) to make room. At least 1.
    std::size_t queue_limit = 1024;
    /// Deadline for one HTTP POST: connect, TLS handshake, write the request,
    /// read the answer.
    std::chrono::milliseconds http_timeout{2000};
    /// Deadline for writing one event to a TCP subscriber; a subscriber that
    /// does not read for that long loses its connection (and that event),
    /// and the next event reconnects.
    std::chrono::milliseconds tcp_write_timeout{10000};
    /// PEM CA certificates that verify https:// receivers and TLS brokers
    /// (`tls_domain=`); empty: the system's store.
    std::string tls_ca_file;
    /// TCP and broker reconnect back-off: the first retry waits reconnect_min, each
    /// further failure doubles the wait up to reconnect_max.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
};

/// Makes sinks for `udp:HOST:PORT`, `unix:/path`, `tcp:HOST:PORT`,
/// `http://HOST[:PORT]/path`, `https://HOST[:PORT]/path` (IPv6 hosts in
/// brackets), and OpenSIPS's `rabbitmq:...` and `kafka:...` sockets
/// (../shared/spec/brokers.md); anything else yields an error text naming
/// the problem. A broker sink publishes on a thread of its own; subscribing
/// to RabbitMQ waits up to 2 s for the broker's first answer, so that a
/// refused login is an error (an unreachable broker is not). Host
/// names are resolved once, when the sink is made (so the factory may block
/// on DNS; literals never do). An https:// receiver must present a
/// certificate that `tls_ca_file` (or the system) trusts, for the host as
/// written in the URL (name or IP address); the name goes in SNI.
///
/// Throws TlsError when `options.tls_ca_file` cannot be used.
///
/// The sinks deliver on `ioc`, which must outlive them. Their push() is
/// thread-safe, never blocks and never does I/O on the caller's thread;
/// close() is thread-safe, idempotent and does not block.
core::SinkFactory make_sink_factory(boost::asio::io_context& ioc, SinkOptions options = {});

/// While one lives on a thread, RabbitMQ sinks made there do not wait for
/// their broker's first answer: for subscriptions made again at start-up,
/// where nobody waits for a 400 and a broker that does not answer would hold
/// the start 2 s per subscription. A refused login then shows in the
/// subscriber's health like an unreachable broker.
class WithoutBrokerLoginCheck {
  public:
    WithoutBrokerLoginCheck() noexcept;
    ~WithoutBrokerLoginCheck();
    WithoutBrokerLoginCheck(const WithoutBrokerLoginCheck&) = delete;
    WithoutBrokerLoginCheck& operator=(const WithoutBrokerLoginCheck&) = delete;
};

}  // namespace srmi::server
