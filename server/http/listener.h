// Listener: accepts connections and gives each its own HttpSession.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include "server/http/session.h"

namespace srmi::server {

/// Binds on construction (throws boost::system::system_error when it cannot),
/// accepts once run() is called, until close(). Serves HTTPS when the
/// context has a TLS context, else plain HTTP; beyond
/// `limits.max_connections` open connections, closes new ones at once.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    /// Sessions go to `session_contexts` in turn, each of which must be run
    /// by exactly one thread (a session then needs no strand, and its
    /// completions never hop between threads); none given: to `ioc`, on strands.
    Listener(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
             std::shared_ptr<SessionContext> context,
             std::vector<boost::asio::io_context*> session_contexts = {});

    void run();
    /// Stops accepting; thread-safe.
    void close();
    boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }

private:
    void do_accept();
    void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& ioc_;
    boost::asio::ip::tcp::acceptor acceptor_;  // used on its strand only
    boost::asio::steady_timer retry_timer_;
    boost::asio::ip::tcp::endpoint endpoint_;
    std::shared_ptr<SessionContext> context_;
    std::vector<boost::asio::io_context*> session_contexts_;
    std::size_t next_context_ = 0;  // used on the acceptor's strand only
};

}  // namespace srmi::server
