// SessionContext: what every connection of one server shares, and the two
// kinds of stream a connection is (plain HTTP, HTTPS).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>

namespace srmi::core {
class EventHub;
class StateJournal;
}  // namespace srmi::core

namespace srmi::rpc {
class Dispatcher;
}  // namespace srmi::rpc

namespace srmi::server {

class AccessControl;
class Metrics;
class Profiler;
class WorkerPool;
struct ProbeContext;

/// What one client connection may take; the defaults are the documented ones.
struct ConnectionLimits {
    /// Open connections (event streams included); more are closed at once.
    std::size_t max_connections = 10000;
    /// From a request's first byte to the end of its header block (and, on a
    /// new connection, to that first byte; the TLS handshake too): then 408.
    std::chrono::milliseconds header_timeout{10000};
    /// From the end of the header block to the end of the body: then 408.
    std::chrono::milliseconds body_timeout{30000};
    /// Between two requests of a kept-alive connection: then a silent close.
    std::chrono::milliseconds idle_timeout{60000};
    /// To write one answer (or one event of a stream) to a client that does
    /// not read: then the connection is closed.
    std::chrono::milliseconds write_timeout{30000};
    std::size_t header_limit = 16384;  ///< bytes of the header block; beyond: 431
    std::size_t url_limit = 8192;      ///< bytes of the request target; beyond: 414
};

/// The two kinds of connection: plain HTTP, and HTTPS.
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

/// What every session of one server shares; owned jointly by the server and
/// its sessions, since sessions left in a stopped io_context end after it.
struct SessionContext {
    SessionContext(const rpc::Dispatcher& d, std::size_t limit, bool log)
        : dispatcher(d), body_limit(limit), access_log(log) {}

    const rpc::Dispatcher& dispatcher;
    std::size_t body_limit;
    bool access_log;
    ConnectionLimits limits;  ///< timeouts and sizes of every connection
    /// Set: the listener speaks HTTPS only, with this context.
    std::shared_ptr<boost::asio::ssl::context> tls;
    core::EventHub* hub = nullptr;          ///< for GET /events; none: 404
    Profiler* profiler = nullptr;           ///< request profiling, when loaded
    WorkerPool* workers = nullptr;          ///< runs handlers when set; else the I/O thread does
    const ProbeContext* probes = nullptr;   ///< health-check paths, when set
    core::StateJournal* journal = nullptr;  ///< answers wait until their writes are durable
    std::size_t event_queue_limit = 1024;   ///< per event stream
    std::atomic<bool> draining{false};      ///< stopping: answer, then close
    std::atomic<int> in_flight{0};          ///< requests read but not yet answered
    /// Open client connections: an HttpSession's, then the EventStream's it
    /// hands over to.
    std::atomic<std::int64_t> connections{0};
    /// Connections closed at once because `limits.max_connections` were open.
    std::atomic<std::uint64_t> connections_rejected{0};
    const Metrics* metrics = nullptr;       ///< GET /metrics, when set
    const AccessControl* access = nullptr;  ///< credentials asked when set
    /// Told when a connection ends: (client, server) endpoints and the
    /// transport ("tcp" or "tls"). Set before serving.
    std::function<void(const boost::asio::ip::tcp::endpoint&, const boost::asio::ip::tcp::endpoint&,
                       std::string_view)>
        on_disconnect;
};

}  // namespace srmi::server
