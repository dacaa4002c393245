// RawClient: bytes over a plain TCP connection to 127.0.0.1, for wire tests
// of what well-behaved clients never do (stalling, not reading, not TLS).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

namespace srmi::test {

namespace beast = boost::beast;
namespace net = boost::asio;

/// How a connection ended, seen from the client.
struct Ending {
    std::string data;      // everything received
    beast::error_code ec;  // eof or reset once the server closed; timeout if it did not
    std::chrono::steady_clock::duration elapsed{};

    bool closed() const { return ec == net::error::eof || ec == net::error::connection_reset; }
};

/// A client of raw bytes, for what well-behaved clients never do; every wait
/// is bounded, so a server that hangs fails the test instead of hanging it.
class RawClient {
public:
    /// `receive_buffer`: a small SO_RCVBUF, for a client that stops reading.
    explicit RawClient(std::uint16_t port, std::optional<int> receive_buffer = std::nullopt) : socket_(ioc_) {
        socket_.open(net::ip::tcp::v4());
        if (receive_buffer) socket_.set_option(net::socket_base::receive_buffer_size(*receive_buffer));
        socket_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    void write(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }

    /// Reads until the server closes the connection, for at most `limit`;
    /// meanwhile writes `trickle` every 50 ms when it is not empty, as a slow
    /// client would. `elapsed` counts from the call.
    Ending read_until_closed(std::chrono::steady_clock::duration limit = std::chrono::seconds(5),
                             const std::string& trickle = {}) {
        Ending out;
        bool done = false;
        const auto start = std::chrono::steady_clock::now();
        net::steady_timer tick(ioc_);
        std::function<void()> drip = [&] {
            tick.expires_after(std::chrono::milliseconds(50));
            tick.async_wait([&](beast::error_code ec) {
                if (ec || done) return;
                beast::error_code ignored;
                net::write(socket_, net::buffer(trickle), ignored);
                drip();
            });
        };
        if (!trickle.empty()) drip();
        net::async_read(socket_, net::dynamic_buffer(out.data), [&](beast::error_code ec, std::size_t) {
            done = true;
            out.ec = ec;
            out.elapsed = std::chrono::steady_clock::now() - start;
            tick.cancel();
        });
        ioc_.restart();
        ioc_.run_for(limit);
        if (!done) {
            socket_.close();
            ioc_.restart();
            ioc_.run();  // lets the cancelled handlers end before their captures do
            out.ec = beast::error::timeout;
        }
        return out;
    }

private:
    net::io_context ioc_;
    net::ip::tcp::socket socket_;
};

}  // namespace srmi::test
