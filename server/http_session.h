// HttpSession: one client connection, from its first byte to its close.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/event_hub.h"
#include "core/state_journal.h"
#include "server/access_control.h"
#include "server/config.h"
#include "server/http_handler.h"
#include "server/profiler.h"
#include "server/worker_pool.h"

namespace srmi::server {

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

/// Reads requests one at a time (pipelined ones wait in the buffer, which
/// bounds them), answers each, and keeps the connection while the client
/// wants it; over TLS (`TlsStream`), after a handshake. Every wait has the
/// deadline of `SessionContext::limits`. Owned by the shared_ptr captured in
/// its pending operation.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
  public:
    HttpSession(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<SessionContext> context);
    ~HttpSession();
    void run();

    /// The Common Name of the client certificate verified by the handshake
    /// (mutual TLS, `tls_client_ca`); empty otherwise. Set before the first
    /// request is read and never changed, so any thread handling one of this
    /// connection's requests may read it.
    const std::string& client_cn() const noexcept { return client_cn_; }

  private:
    void on_handshake(boost::beast::error_code ec);
    void do_read();
    void read_more();
    void wait_for_more();
    void on_bytes(boost::beast::error_code ec, std::size_t bytes);
    void parse();
    bool on_header();
    void on_continue_sent(boost::beast::error_code ec, std::size_t bytes);
    void on_request();
    void start_event_stream(const Request& request);
    Response respond(const Request& request) const;
    void answer_when_durable(Response response);
    void send(Response response, bool counted);
    void on_write(bool counted, boost::beast::error_code ec, std::size_t bytes);
    void reject(boost::beast::http::status status);
    void do_shutdown();
    void do_linger();
    void on_linger(boost::beast::error_code ec, std::size_t bytes);
    void expire_after(std::chrono::steady_clock::duration timeout);
    void arm_deadline();
    void on_deadline(std::uint64_t id, boost::beast::error_code ec);
    bool timed_out(boost::beast::error_code ec);
    boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

    Stream stream_;
    boost::beast::flat_buffer buffer_;
    std::shared_ptr<SessionContext> context_;
    boost::asio::ip::tcp::endpoint client_;  // kept: the socket may be closed at the end
    boost::asio::ip::tcp::endpoint local_;
    std::string client_cn_;  // of a verified client certificate (TLS); empty: none
    // Our own deadline rather than tcp_stream's, whose expiry closes the
    // socket: a client that stalls mid-request is owed a 408 first. Moving
    // the deadline only stores a time: the timer, armed for an earlier or
    // equal time, looks again when it fires (a timer set and cancelled per
    // operation cost more than parsing the request).
    boost::asio::steady_timer deadline_;
    std::chrono::steady_clock::time_point deadline_at_ =
        std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point armed_at_ = std::chrono::steady_clock::time_point::max();
    std::uint64_t arm_id_ = 0;  // tells the current wait from a superseded one
    bool expired_ = false;      // the current deadline passed; the operation was cancelled
    bool answered_ = false;     // a request was answered: waits between requests are idle ones
    bool begun_ = false;        // a byte of the current request has arrived
    /// Which wait the deadline is for: a header's and a body's time run from
    /// their start, however many reads they take.
    enum class Wait { kIdle, kHeader, kBody } wait_ = Wait::kIdle;
    std::size_t header_bytes_ = 0;  // of the request being read, parsed so far
    bool handed_over_ = false;      // the connection now belongs to an EventStream
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    http::response<http::empty_body> interim_;  // 100 Continue, alive while written
    Response response_;                         // alive while written
    std::string head_;  // the answer's status line and fields (and a small body), reused
    std::array<char, 4096> discard_{};
    void* reactor_ = nullptr;  // for detail::async_read_draining (plain HTTP)
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace srmi::server
