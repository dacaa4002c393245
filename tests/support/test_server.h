// TestServer and HttpClient: the real server on 127.0.0.1, port 0, and a
// small blocking HTTP/1.1 client for wire tests.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>

#include "server/server.h"

namespace srmi::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

/// The server of the conformance file: public groups `custom` then `alarms`.
inline server::Config conformance_config() {
    server::Config config;
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.threads = 2;
    config.groups.push_back({"custom", {core::IdentifierSpec{}}});
    config.groups.push_back({"alarms", {core::IdentifierSpec{}}});
    return config;
}

/// Starts on construction, stops and joins on destruction.
class TestServer {
public:
    explicit TestServer(server::Config config = conformance_config()) : server_(quiet(std::move(config))) {
        server_.start();
    }
    std::uint16_t port() const { return server_.port(); }
    server::Server& server() { return server_; }

private:
    static server::Config quiet(server::Config config) {
        spdlog::set_level(spdlog::level::warn);  // start-up lines would drown the test output
        return config;
    }
    server::Server server_;
};

using StringResponse = http::response<http::string_body>;

/// One keep-alive connection; every call has a deadline so a hung server
/// fails the test instead of hanging it.
class HttpClient {
public:
    explicit HttpClient(std::uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(10))
        : stream_(ioc_), timeout_(timeout) {
        stream_.expires_after(timeout_);
        stream_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    StringResponse request(http::verb verb, const std::string& target, std::string body = {},
                           std::string content_type = "application/json") {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!content_type.empty()) req.set(http::field::content_type, content_type);
        req.keep_alive(true);
        if (verb != http::verb::get && verb != http::verb::head) {
            req.body() = std::move(body);
            req.prepare_payload();
        }
        return send(req);
    }

    StringResponse post(const std::string& body) { return request(http::verb::post, "/mi", body); }

    StringResponse send(http::request<http::string_body>& req) {
        stream_.expires_after(timeout_);
        http::write(stream_, req);
        return read();
    }

    StringResponse read() {
        StringResponse res;
        stream_.expires_after(timeout_);
        http::read(stream_, buffer_, res);
        return res;
    }

    /// Raw bytes, for requests a well-behaved client would never send.
    void write_raw(const std::string& bytes) {
        stream_.expires_after(timeout_);
        net::write(stream_, net::buffer(bytes));
    }

    /// True when the server has closed the connection (EOF or reset).
    bool closed_by_peer() {
        char byte;
        beast::error_code ec;
        stream_.expires_after(timeout_);
        stream_.read_some(net::buffer(&byte, 1), ec);
        return ec == net::error::eof || ec == net::error::connection_reset;
    }

    beast::tcp_stream& stream() { return stream_; }

private:
    net::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::chrono::seconds timeout_;
};

}  // namespace srmi::test
