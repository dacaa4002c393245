// Listener: Beast's accept loop, with a pause after errors such as EMFILE so
// that running out of descriptors does not turn into a busy loop, and a
// connection limit enforced at accept.
#include "server/http/listener.h"

#include <array>
#include <string_view>

#include <boost/asio/strand.hpp>
#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

namespace srmi::server {

namespace net = boost::asio;

namespace {

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Server: srmi\r\n"
    "Retry-After: 1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 20\r\n"
    "Connection: close\r\n"
    "\r\n"
    "Service Unavailable\n";

/// Closes a connection beyond the limit without a session: what the client
/// sent already is read (so that the close is no reset that could destroy
/// the answer), a 503 is written when it fits at once, and the socket closes.
/// Never waits: the acceptor's strand must not be held up by a flood.
void turn_away(net::ip::tcp::socket& socket, bool plain_http) {
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    std::array<char, 4096> discard;
    for (int i = 0; i < 16; ++i) {
        if (socket.read_some(net::buffer(discard), ignored) == 0) break;  // would block: all read
    }
    // Over TLS an answer would need a handshake: that client just sees the close.
    if (plain_http) socket.write_some(net::buffer(kBusy), ignored);
    socket.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

}  // namespace

Listener::Listener(net::io_context& ioc, const net::ip::tcp::endpoint& endpoint,
                   std::shared_ptr<SessionContext> context, std::vector<net::io_context*> session_contexts)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      retry_timer_(acceptor_.get_executor()),
      context_(std::move(context)),
      session_contexts_(std::move(session_contexts)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
    endpoint_ = acceptor_.local_endpoint();
}

void Listener::run() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::close() {
    net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
        boost::system::error_code ignored;
        self->acceptor_.close(ignored);
        self->retry_timer_.cancel();
    });
}

void Listener::do_accept() {
    net::any_io_executor executor = net::make_strand(ioc_);
    if (!session_contexts_.empty()) {
        executor = session_contexts_[next_context_++ % session_contexts_.size()]->get_executor();
    }
    acceptor_.async_accept(executor,
                           [self = shared_from_this()](boost::beast::error_code ec,
                                                       net::ip::tcp::socket socket) {
                               self->on_accept(ec, std::move(socket));
                           });
}

void Listener::on_accept(boost::beast::error_code ec, net::ip::tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // closed: we are stopping
    if (ec) {
        spdlog::warn("accept failed: {}", ec.message());
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
            if (!wait_ec) self->do_accept();
        });
        return;
    }
    if (context_->connections.load(std::memory_order_relaxed) >=
        static_cast<std::int64_t>(context_->limits.max_connections)) {
        context_->connections_rejected.fetch_add(1, std::memory_order_relaxed);
        turn_away(socket, context_->tls == nullptr);
    } else if (context_->tls) {
        std::make_shared<HttpSession<TlsStream>>(std::move(socket), context_)->run();
    } else {
        std::make_shared<HttpSession<PlainStream>>(std::move(socket), context_)->run();
    }
    do_accept();
}

}  // namespace srmi::server
