// Listener: Beast's accept loop, with a pause after errors such as EMFILE so
// that running out of descriptors does not turn into a busy loop.
#include "server/listener.h"

#include <boost/asio/strand.hpp>
#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

namespace srmi::server {

namespace net = boost::asio;

Listener::Listener(net::io_context& ioc, const net::ip::tcp::endpoint& endpoint,
                   std::shared_ptr<SessionContext> context)
    : ioc_(ioc),
      acceptor_(net::make_strand(ioc)),
      retry_timer_(acceptor_.get_executor()),
      context_(std::move(context)) {
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
    acceptor_.async_accept(net::make_strand(ioc_),
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
    std::make_shared<HttpSession>(std::move(socket), context_)->run();
    do_accept();
}

}  // namespace srmi::server
