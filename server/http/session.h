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

#include "server/http/message.h"
#include "server/http/session_context.h"

namespace srmi::server {

/// Reads requests one at a time with Beast's parser (pipelined ones wait in
/// the buffer, which bounds them), answers each with Beast's serializer, and
/// keeps the connection while the client wants it; over TLS (`TlsStream`),
/// after a handshake. Every wait has the deadline of `SessionContext::limits`.
/// Owned by the shared_ptr captured in its pending operation.
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
    void wait_readable();
    void on_readable(boost::beast::error_code ec);
    void on_first_bytes(boost::beast::error_code ec, std::size_t bytes);
    void read_header();
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    void on_continue_sent(boost::beast::error_code ec, std::size_t bytes);
    void read_body();
    void on_body(boost::beast::error_code ec, std::size_t bytes);
    void on_read_error(boost::beast::error_code ec);
    void on_request();
    void start_event_stream(const Request& request);
    Response respond(const Request& request) const;
    void answer_when_durable(Response response, Request request);
    void send(Response response, bool counted);
    void on_write(bool counted, boost::beast::error_code ec, std::size_t bytes);
    void reject(boost::beast::http::status status);
    void do_shutdown();
    void do_linger();
    void on_linger(boost::beast::error_code ec, std::size_t bytes);
    void expire_after(std::chrono::steady_clock::duration timeout);
    void expire_never();
    void arm_deadline();
    void on_deadline(std::uint64_t id, boost::beast::error_code ec);
    bool timed_out(boost::beast::error_code ec) const { return ec && expired_; }
    boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

    Stream stream_;
    boost::beast::flat_buffer buffer_;  // reused: pipelined requests wait here, one read's worth
    std::shared_ptr<SessionContext> context_;
    boost::asio::ip::tcp::endpoint client_;  // kept: the socket may be closed at the end
    boost::asio::ip::tcp::endpoint local_;
    std::string client_cn_;  // of a verified client certificate (TLS); empty: none
    // One deadline for whatever the connection waits for, on a timer of our
    // own rather than tcp_stream's expiry, which closes the socket: a client
    // that stalls mid-request is owed a 408 first. Moving the deadline only
    // stores a time; the timer, armed for an earlier or equal time, looks
    // again when it fires (a timer set and cancelled per request cost more
    // than parsing the request, docs/PERFORMANCE.md). When it passes, the
    // stream's operations are cancelled.
    boost::asio::steady_timer deadline_;
    std::chrono::steady_clock::time_point deadline_at_ =
        std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point armed_at_ = std::chrono::steady_clock::time_point::max();
    std::uint64_t arm_id_ = 0;  // tells the current wait from a superseded one
    bool expired_ = false;      // the current deadline passed; the operation was cancelled
    bool answered_ = false;     // a request was answered: waits between requests are idle ones
    bool handed_over_ = false;  // the connection now belongs to an EventStream
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    http::response<http::empty_body> interim_;  // 100 Continue, alive while written
    Response response_;                         // alive while written
    std::optional<http::response_serializer<http::string_body>> serializer_;  // of response_
    std::array<char, 4096> discard_{};
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace srmi::server
