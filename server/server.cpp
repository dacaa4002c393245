// Server: start-up order follows the core life cycle of the spec
// (NONE -> INITIALIZING -> RUNNING once accepting -> TERMINATING on stop).
#include "server/server.h"

#include <csignal>
#include <ctime>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "rpc/methods.h"
#include "server/listener.h"
#include "version.h"

namespace srmi::server {

namespace net = boost::asio;

Server::Server(Config config)
    : config_(std::move(config)),
      core_(registry_),
      context_{dispatcher_, config_.body_limit, config_.access_log},
      ioc_(),
      signals_(ioc_),
      drain_timer_(ioc_) {
    core_.initializing();
    for (auto& group : config_.groups) {
        registry_.add_group(group.name, core::Visibility::kPublic, group.identifiers);
    }
    rpc::add_status_report_methods(dispatcher_, registry_);
    rpc::add_core_methods(dispatcher_,
                          rpc::ServerInfo{kServerString, static_cast<std::int64_t>(std::time(nullptr))});
}

Server::~Server() {
    stop();
    wait();
}

void Server::start(bool handle_signals) {
    const auto address = net::ip::make_address(config_.listen_host);
    listener_ = std::make_shared<Listener>(ioc_, net::ip::tcp::endpoint{address, config_.listen_port},
                                           context_);
    listener_->run();

    if (handle_signals) {
        signals_.add(SIGINT);
        signals_.add(SIGTERM);
        signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            spdlog::info("signal {} received, shutting down", signal);
            begin_stop();
        });
    }

    unsigned threads = config_.threads != 0 ? config_.threads : std::thread::hardware_concurrency();
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });

    core_.running();
    std::string groups = "core";
    for (const auto& g : config_.groups) groups += ", " + g.name;
    const auto endpoint = listener_->local_endpoint();
    spdlog::info("{} listening on http://{}/mi with {} I/O thread(s); groups: {}", kServerString,
                 endpoint.address().is_v6() ? "[" + endpoint.address().to_string() + "]:" + std::to_string(endpoint.port())
                                            : endpoint.address().to_string() + ":" + std::to_string(endpoint.port()),
                 threads, groups);
}

std::uint16_t Server::port() const { return listener_ ? listener_->local_endpoint().port() : 0; }

void Server::stop() { net::post(ioc_, [this] { begin_stop(); }); }

void Server::begin_stop() {
    if (stopping_) return;
    stopping_ = true;
    core_.terminating();
    context_.draining = true;
    if (listener_) listener_->close();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    check_drained(std::chrono::steady_clock::now() + kGrace);
}

void Server::check_drained(std::chrono::steady_clock::time_point deadline) {
    if (context_.in_flight == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (context_.in_flight != 0) {
            spdlog::warn("{} request(s) still in flight after {} s; stopping anyway",
                         context_.in_flight.load(), kGrace.count());
        }
        ioc_.stop();
        return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(10));
    drain_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
        if (!ec) check_drained(deadline);
    });
}

void Server::wait() {
    std::lock_guard lock(join_mutex_);
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

}  // namespace srmi::server
