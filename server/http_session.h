// HttpSession: one client connection, from its first byte to its close.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <array>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "server/http_handler.h"

namespace srmi::server {

/// What every session of one server shares. Lives as long as the server.
struct SessionContext {
    const rpc::Dispatcher& dispatcher;
    std::size_t body_limit;
    bool access_log;
    std::chrono::seconds io_timeout{30};
    std::atomic<bool> draining{false};  ///< stopping: answer, then close
    std::atomic<int> in_flight{0};      ///< requests read but not yet answered
};

/// Reads requests one at a time (pipelined ones wait in the buffer, which
/// bounds them), answers each, and keeps the connection while the client
/// wants it. Owned by the shared_ptr captured in its pending operation.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(boost::asio::ip::tcp::socket&& socket, SessionContext& context);
    void run();

private:
    void do_read();
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    void on_continue_sent(boost::beast::error_code ec, std::size_t bytes);
    void do_read_body();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void send(Response response, bool counted);
    void on_write(bool counted, boost::beast::error_code ec, std::size_t bytes);
    void reject(boost::beast::http::status status);
    void do_linger();
    void on_linger(boost::beast::error_code ec, std::size_t bytes);

    boost::beast::tcp_stream stream_;
    boost::beast::flat_buffer buffer_;
    SessionContext& context_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    http::response<http::empty_body> interim_;  // 100 Continue, alive while written
    Response response_;                         // alive while written
    std::array<char, 4096> discard_{};
};

}  // namespace srmi::server
