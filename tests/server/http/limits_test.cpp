// Connection limits and timeouts over real sockets on 127.0.0.1. Timeouts are
// configured short (200 ms): where a timeout passing is the behaviour under
// test, the test waits for it, bounded; nothing else sleeps.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/raw_client.h"
#include "tests/support/test_server.h"
#include "tests/support/wait_until.h"

namespace {

using srmi::test::wait_until;

using namespace std::chrono_literals;
using nlohmann::json;
using srmi::test::HttpClient;
using srmi::test::RawClient;
using srmi::test::TestServer;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;
using Clock = std::chrono::steady_clock;

const std::string kVersion = R"({"jsonrpc":"2.0","method":"version","id":1})";

std::string post_request(const std::string& body, bool keep_alive = true) {
    return "POST /mi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
           std::string(keep_alive ? "" : "Connection: close\r\n") +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

/// The value of an unlabelled sample of GET /metrics.
std::int64_t metric(HttpClient& client, const std::string& name) {
    const auto body = client.request(http::verb::get, "/metrics").body();
    const auto at = body.find("\n" + name + " ");
    REQUIRE(at != std::string::npos);
    return std::stoll(body.substr(at + name.size() + 2));
}

srmi::server::Config short_timeouts() {
    auto config = srmi::test::conformance_config();
    config.limits.header_timeout = 200ms;
    config.limits.body_timeout = 200ms;
    config.limits.idle_timeout = 200ms;
    config.limits.write_timeout = 200ms;
    return config;
}

}  // namespace

TEST_CASE("a client trickling its header (slowloris) gets 408 after header_timeout, then the close") {
    TestServer server(short_timeouts());
    RawClient client(server.port());
    client.write("POST /mi HTTP/1.1\r\nHost: x\r\n");
    const auto ending = client.read_until_closed(5s, "X-Slow: 1\r\n");
    CHECK(ending.data.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    CHECK(ending.data.find("Connection: close\r\n") != std::string::npos);
    CHECK(ending.closed());
    CHECK(ending.elapsed >= 150ms);
    CHECK(ending.elapsed < 1500ms);
}

TEST_CASE("a body that stalls gets 408 after body_timeout") {
    auto config = short_timeouts();
    config.limits.header_timeout = 10s;  // so that only the body's deadline can end it
    TestServer server(config);
    RawClient client(server.port());
    client.write("POST /mi HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"");
    const auto ending = client.read_until_closed();
    CHECK(ending.data.starts_with("HTTP/1.1 408 Request Timeout\r\n"));
    CHECK(ending.closed());
    CHECK(ending.elapsed < 1500ms);
}

TEST_CASE("a connection that sends nothing is closed silently after header_timeout") {
    auto config = short_timeouts();
    config.limits.idle_timeout = 10s;  // a new connection waits the header's time, not the idle one
    TestServer server(config);
    RawClient client(server.port());
    const auto ending = client.read_until_closed();
    CHECK(ending.data.empty());
    CHECK(ending.closed());
    CHECK(ending.elapsed >= 150ms);
    CHECK(ending.elapsed < 1500ms);
}

TEST_CASE("a kept-alive connection idle for idle_timeout is closed silently") {
    auto config = short_timeouts();
    config.limits.header_timeout = 10s;  // so that only the idle deadline can end it
    TestServer server(config);
    RawClient client(server.port());
    client.write(post_request(kVersion));
    const auto ending = client.read_until_closed();
    CHECK(ending.data.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(ending.data.find("HTTP/1.1", 1) == std::string::npos);  // the answer, nothing after it
    CHECK(ending.closed());
    CHECK(ending.elapsed >= 150ms);
    CHECK(ending.elapsed < 1500ms);
}

TEST_CASE("a client that does not read its answer is dropped after write_timeout") {
    auto config = short_timeouts();
    config.body_limit = 16 * 1024 * 1024;
    TestServer server(config);
    // A batch whose answer (about 12 MB) is far beyond the socket buffers.
    std::string batch = "[";
    for (int i = 0; i < 30000; ++i) batch += R"({"jsonrpc":"2.0","method":"which","id":1},)";
    batch.back() = ']';

    HttpClient observer(server.port());
    REQUIRE(metric(observer, "srmi_http_connections") == 1);
    RawClient reader_that_stops(server.port(), 4096);
    reader_that_stops.write(post_request(batch));
    // Handling the batch takes a while; then the write stalls and its deadline passes.
    CHECK(wait_until([&] { return metric(observer, "srmi_http_connections") == 1; }));
    CHECK(observer.post(kVersion).result_int() == 200);
}

TEST_CASE("an event stream whose client stops reading is dropped after write_timeout") {
    TestServer server(short_timeouts());
    HttpClient writer(server.port());
    RawClient stream(server.port(), 4096);
    stream.write("GET /events?event=E_SRMI_REPORT_ADDED HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(wait_until([&] { return metric(writer, "srmi_http_connections") == 2; }));

    const json report = {{"jsonrpc", "2.0"}, {"method", "sr_add_report"},
                         {"params", {"alarms", std::string(64 * 1024, 'r')}}, {"id", 1}};
    int sent = 0;
    CHECK(wait_until([&] {
        for (int i = 0; i < 10 && sent < 2000; ++i, ++sent) writer.post(report.dump());
        return metric(writer, "srmi_http_connections") == 1;
    }));
}

TEST_CASE("beyond max_connections new clients are turned away and existing ones keep their service") {
    auto config = srmi::test::conformance_config();
    config.limits.max_connections = 5;
    TestServer server(config);
    std::vector<std::unique_ptr<HttpClient>> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(std::make_unique<HttpClient>(server.port()));
        REQUIRE(clients.back()->post(kVersion).result_int() == 200);  // served: counted
    }

    RawClient sixth(server.port());
    sixth.write(post_request(kVersion));
    const auto ending = sixth.read_until_closed(3s);
    CHECK(ending.closed());
    CHECK(ending.elapsed < 1s);
    // A 503 when it could be written at once, else just the close.
    if (!ending.data.empty()) {
        CHECK(ending.data.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        CHECK(ending.data.find("Retry-After: 1\r\n") != std::string::npos);
    }
    for (auto& client : clients) CHECK(client->post(kVersion).result_int() == 200);

    clients.pop_back();  // one leaves: its place is free again, once the server has seen it go
    CHECK(wait_until([&] {
        RawClient next(server.port());
        next.write(post_request(kVersion, false));
        return next.read_until_closed(3s).data.starts_with("HTTP/1.1 200 OK\r\n");
    }));
    CHECK(metric(*clients.front(), "srmi_connections_rejected_total") >= 1);
}

TEST_CASE("a request target over url_limit gets 414") {
    TestServer server;  // the default limit, 8192 bytes
    HttpClient at_limit(server.port());
    CHECK(at_limit.request(http::verb::get, "/mi?" + std::string(8192 - 4, 'a')).result_int() == 405);

    HttpClient over(server.port());
    const auto res = over.request(http::verb::get, "/mi?" + std::string(8192 - 3, 'a'));
    CHECK(res.result_int() == 414);
    CHECK(res.body() == "URI Too Long\n");
    CHECK_FALSE(res.keep_alive());
    CHECK(over.closed_by_peer());
}

TEST_CASE("a header block over header_limit gets 431") {
    TestServer server;  // the default limit, 16384 bytes
    {
        HttpClient client(server.port());
        http::request<http::string_body> req{http::verb::post, "/mi", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set("X-Padding", std::string(15000, 'p'));
        req.body() = kVersion;
        req.prepare_payload();
        CHECK(client.send(req).result_int() == 200);
    }
    HttpClient client(server.port());
    http::request<http::string_body> req{http::verb::post, "/mi", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set("X-Padding", std::string(17000, 'p'));
    req.body() = kVersion;
    req.prepare_payload();
    const auto res = client.send(req);
    CHECK(res.result_int() == 431);
    CHECK_FALSE(res.keep_alive());
}
