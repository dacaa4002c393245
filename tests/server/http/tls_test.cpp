// TLS end to end: a throwaway PKI made with the openssl command at run time,
// the real server speaking HTTPS on 127.0.0.1, Beast ssl_stream clients, and
// https:// event delivery to a small Beast TLS receiver.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <openssl/ssl.h>
#include <spdlog/sinks/ostream_sink.h>

#include "tests/support/raw_client.h"
#include "server/events/event_sinks.h"
#include "server/http/tls.h"
#include "tests/support/test_server.h"
#include "tests/support/udp_receiver.h"
#include "tests/support/wait_until.h"

namespace {

using srmi::test::wait_until;

using namespace std::chrono_literals;
using nlohmann::json;
using srmi::server::ConfigError;
using srmi::test::RawClient;
using srmi::test::StringResponse;
using srmi::test::TestServer;
using srmi::test::UdpReceiver;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using net::ip::tcp;

const std::string kVersion = R"({"jsonrpc":"2.0","method":"version","id":1})";

/// Two CAs and certificates they sign, made once per test run in a private
/// directory (EC P-256 keys: quick to make). `ca` signs `server` (for
/// 127.0.0.1 and localhost), `wrong-host` (for other.example only) and
/// `client` (CN ops-client); `other-ca`, trusted by nobody, signs `stranger`
/// (CN ops-client too).
class Pki {
public:
    static const Pki& get() {
        static const Pki pki;
        return pki;
    }
    std::string path(const std::string& file) const { return (dir_.path / file).string(); }

private:
    /// Removed with the Pki, or when making it fails half-way.
    struct Dir {
        std::filesystem::path path;
        Dir() {
            std::string pattern = (std::filesystem::temp_directory_path() / "srmi-tls-XXXXXX").string();
            REQUIRE(::mkdtemp(pattern.data()) != nullptr);
            path = pattern;
        }
        ~Dir() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    };

    Pki() {
        make_ca("ca", "srmi test CA");
        make_ca("other-ca", "another CA");
        make_leaf("server", "ca", "localhost",
                  "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        make_leaf("wrong-host", "ca", "other.example",
                  "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth\n");
        make_leaf("client", "ca", "ops-client", "extendedKeyUsage=clientAuth\n");
        make_leaf("stranger", "other-ca", "ops-client", "extendedKeyUsage=clientAuth\n");
    }

    void openssl(const std::string& arguments) const {
        const auto command = "cd '" + dir_.path.string() + "' && openssl " + arguments + " >/dev/null 2>&1";
        INFO(command);
        REQUIRE(std::system(command.c_str()) == 0);
    }

    void make_ca(const std::string& name, const std::string& cn) const {
        openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj '/CN=" + cn +
                "' -keyout " + name + ".key -out " + name + ".pem");
    }

    void make_leaf(const std::string& name, const std::string& ca, const std::string& cn,
                   const std::string& extensions) {
        std::ofstream(dir_.path / (name + ".ext")) << extensions;
        openssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/O=srmi tests/CN=" + cn +
                "' -keyout " + name + ".key -out " + name + ".csr");
        openssl("x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca + ".key -set_serial " +
                std::to_string(++serial_) + " -days 2 -extfile " + name + ".ext -out " + name + ".pem");
    }

    Dir dir_;
    int serial_ = 1;
};

std::string pki(const std::string& file) { return Pki::get().path(file); }

/// The test server over HTTPS; with `mutual`, client certificates of `ca` are required.
srmi::server::Config tls_config(bool mutual = false) {
    auto config = srmi::test::conformance_config();
    config.tls_cert = pki("server.pem");
    config.tls_key = pki("server.key");
    if (mutual) config.tls_client_ca = pki("ca.pem");
    return config;
}

/// A client context trusting the test CA; with `identity`, presenting that certificate.
std::unique_ptr<ssl::context> client_context(const std::string& identity = {}) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->load_verify_file(pki("ca.pem"));
    ctx->set_verify_mode(ssl::verify_peer);
    if (!identity.empty()) {
        ctx->use_certificate_chain_file(pki(identity + ".pem"));
        ctx->use_private_key_file(pki(identity + ".key"), ssl::context::pem);
    }
    return ctx;
}

/// One HTTPS connection. Each call runs its asynchronous operation with a
/// deadline on a private io_context, so a hung server fails the test
/// instead of hanging it.
class TlsClient {
public:
    TlsClient(std::uint16_t port, ssl::context& ctx) : stream_(ioc_, ctx) {
        beast::get_lowest_layer(stream_).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    /// The handshake, verifying that the server's certificate names `host`.
    beast::error_code handshake(const std::string& host = "127.0.0.1") {
        stream_.set_verify_callback(ssl::host_name_verification(host));
        return run([&](auto done) { stream_.async_handshake(ssl::stream_base::client, done); });
    }

    /// POST /mi with `body`; the answer, or nothing when the exchange failed.
    std::optional<StringResponse> post(const std::string& body) {
        http::request<http::string_body> req{http::verb::post, "/mi", 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::content_type, "application/json");
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        if (run([&](auto done) { http::async_write(stream_, req, done); })) return std::nullopt;
        StringResponse res;
        if (run([&](auto done) { http::async_read(stream_, buffer_, res, done); })) return std::nullopt;
        return res;
    }

    beast::error_code write(const std::string& bytes) {
        return run([&](auto done) { net::async_write(stream_, net::buffer(bytes), done); });
    }

    /// Reads into `text` until it holds `marker`; false on error or timeout.
    bool read_until(std::string& text, const std::string& marker) {
        return !run([&](auto done) { net::async_read_until(stream_, net::dynamic_buffer(text), marker, done); });
    }

private:
    template <class Start>
    beast::error_code run(Start start) {
        beast::error_code result;
        beast::get_lowest_layer(stream_).expires_after(5s);
        start([&result](beast::error_code ec, auto&&...) { result = ec; });
        ioc_.restart();
        ioc_.run();
        return result;
    }

    net::io_context ioc_;
    beast::ssl_stream<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
};

/// True when a client with `ctx` gets through the handshake and a POST /mi answered 200.
bool served(std::uint16_t port, ssl::context& ctx) {
    TlsClient client(port, ctx);
    if (client.handshake()) return false;
    // In TLS 1.3 the server judges the client's certificate after the client's
    // handshake is done: a refusal shows on the first exchange.
    const auto res = client.post(kVersion);
    return res && res->result_int() == 200;
}

/// The default logger's lines (pattern %v) while it lives, at info level.
class LogCapture {
public:
    LogCapture() : old_(spdlog::default_logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
        sink->set_pattern("%v");
        auto logger = std::make_shared<spdlog::logger>("tls-test", sink);
        logger->set_level(spdlog::level::info);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(old_); }
    /// Read once nothing logs any more (the server is stopped).
    std::string text() const { return text_.str(); }

private:
    std::shared_ptr<spdlog::logger> old_;
    std::ostringstream text_;
};

/// An https:// event receiver: a synchronous Beast TLS server on a thread,
/// presenting `identity`, answering 200 to every request and keeping the
/// bodies it got.
class TlsReceiver {
public:
    explicit TlsReceiver(const std::string& identity)
        : ctx_(ssl::context::tls_server),
          acceptor_(ioc_, tcp::endpoint(net::ip::address_v4::loopback(), 0)),
          listen_fd_(acceptor_.native_handle()) {
        ctx_.use_certificate_chain_file(pki(identity + ".pem"));
        ctx_.use_private_key_file(pki(identity + ".key"), ssl::context::pem);
        thread_ = std::thread([this] { serve(); });
    }

    ~TlsReceiver() {
        {
            // shutdown() wakes the thread's blocking accept or read.
            std::lock_guard lock(mutex_);
            stopping_ = true;
            ::shutdown(listen_fd_, SHUT_RDWR);
            if (peer_fd_ >= 0) ::shutdown(peer_fd_, SHUT_RDWR);
        }
        thread_.join();
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    std::vector<std::string> bodies() const {
        std::lock_guard lock(mutex_);
        return bodies_;
    }

    int failed_handshakes() const {
        std::lock_guard lock(mutex_);
        return failed_handshakes_;
    }

private:
    void serve() {
        for (int i = 0; i < 100; ++i) {
            tcp::socket socket(ioc_);
            beast::error_code ec;
            acceptor_.accept(socket, ec);
            if (ec) return;
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
                peer_fd_ = socket.native_handle();
            }
            serve_connection(socket);
            std::lock_guard lock(mutex_);
            peer_fd_ = -1;  // before the socket closes, so the destructor never hits a reused fd
        }
    }

    void serve_connection(tcp::socket& socket) {
        ssl::stream<tcp::socket&> stream(socket, ctx_);
        beast::error_code ec;
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) {
            std::lock_guard lock(mutex_);
            ++failed_handshakes_;
            return;
        }
        beast::flat_buffer buffer;
        for (int i = 0; i < 1000; ++i) {
            http::request<http::string_body> request;
            http::read(stream, buffer, request, ec);
            if (ec) return;
            {
                std::lock_guard lock(mutex_);
                bodies_.push_back(request.body());
            }
            http::response<http::string_body> response{http::status::ok, request.version()};
            response.keep_alive(request.keep_alive());
            response.prepare_payload();
            http::write(stream, response, ec);
            if (ec || !response.keep_alive()) return;
        }
    }

    ssl::context ctx_;
    net::io_context ioc_;
    tcp::acceptor acceptor_;
    const int listen_fd_;
    mutable std::mutex mutex_;
    std::vector<std::string> bodies_;
    int failed_handshakes_ = 0;
    int peer_fd_ = -1;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the rest exists
};

/// The sinks' io_context, run on its own thread for the test's lifetime.
struct SinkThread {
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(ioc);
    std::thread thread{[this] { ioc.run(); }};

    ~SinkThread() {
        work.reset();
        ioc.stop();
        thread.join();
    }
};

std::shared_ptr<srmi::core::EventSink> make_sink(const srmi::core::SinkFactory& factory,
                                                 const std::string& socket) {
    auto made = factory(socket);
    if (const auto* error = std::get_if<std::string>(&made)) FAIL("refused ", socket, ": ", *error);
    return std::get<std::shared_ptr<srmi::core::EventSink>>(made);
}

std::string config_error(const srmi::server::Config& config) {
    try {
        srmi::server::make_server_tls(config.tls_cert, config.tls_key, config.tls_client_ca);
    } catch (const srmi::server::TlsError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("HTTPS: POST /mi is answered, and the connection kept alive") {
    TestServer server(tls_config());
    auto ctx = client_context();
    TlsClient client(server.port(), *ctx);
    REQUIRE_FALSE(client.handshake());
    for (int i = 0; i < 3; ++i) {
        const auto res = client.post(R"({"jsonrpc":"2.0","method":"sr_get_status","params":["core"],"id":1})");
        REQUIRE(res);
        CHECK(res->result_int() == 200);
        CHECK(res->keep_alive());
        CHECK(json::parse(res->body())["result"]["Status"] == 1);
    }
    SUBCASE("the certificate names localhost too") {
        TlsClient by_name(server.port(), *ctx);
        CHECK_FALSE(by_name.handshake("localhost"));
    }
    SUBCASE("a client that does not trust the server's CA refuses it") {
        ssl::context stranger(ssl::context::tls_client);
        stranger.set_verify_mode(ssl::verify_peer);
        CHECK_FALSE(served(server.port(), stranger));
    }
}

TEST_CASE("HTTPS: GET /events streams events over TLS") {
    TestServer server(tls_config());
    auto ctx = client_context();
    TlsClient watcher(server.port(), *ctx);
    REQUIRE_FALSE(watcher.handshake());
    REQUIRE_FALSE(watcher.write("GET /events?event=E_CORE_SR_STATUS_CHANGED HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string text;
    REQUIRE(watcher.read_until(text, ": srmi event stream\n\n"));  // the tap is in place from here
    CHECK(text.starts_with("HTTP/1.1 200 OK\r\n"));

    TlsClient writer(server.port(), *ctx);
    REQUIRE_FALSE(writer.handshake());
    const auto res = writer.post(R"({"jsonrpc":"2.0","method":"sr_set_status","params":["custom","-4"],"id":1})");
    REQUIRE(res);
    REQUIRE(watcher.read_until(text, "}}\n\n"));
    CHECK(text.ends_with(
        "data: {\"jsonrpc\":\"2.0\",\"method\":\"E_CORE_SR_STATUS_CHANGED\",\"params\":{\"group\":\"custom\","
        "\"identifier\":\"main\",\"status\":-4,\"old_status\":1}}\n\n"));
}

TEST_CASE("HTTPS: a closed TLS connection raises E_CORE_TCP_DISCONNECT with proto tls") {
    TestServer server(tls_config());
    auto ctx = client_context();
    UdpReceiver udp;
    {
        TlsClient client(server.port(), *ctx);
        REQUIRE_FALSE(client.handshake());
        const json subscribe = {{"jsonrpc", "2.0"},
                                {"method", "event_subscribe"},
                                {"params", {"E_CORE_TCP_DISCONNECT", udp.socket(), 60}},
                                {"id", 1}};
        const auto res = client.post(subscribe.dump());
        REQUIRE(res);
        CHECK(json::parse(res->body())["result"] == "OK");
    }
    CHECK(udp.next("E_CORE_TCP_DISCONNECT")["params"]["proto"] == "tls");
}

TEST_CASE("HTTPS: clients below TLS 1.2 are refused") {
    TestServer server(tls_config());
    // A client willing to speak anything down to TLS 1.0 (security level 0
    // lets OpenSSL 3 offer it at all), capped at `max`.
    auto old_client = [](int max) {
        auto ctx = client_context();
        SSL_CTX_set_security_level(ctx->native_handle(), 0);
        SSL_CTX_set_cipher_list(ctx->native_handle(), "DEFAULT:@SECLEVEL=0");
        SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx->native_handle(), max);
        return ctx;
    };
    auto tls11 = old_client(TLS1_1_VERSION);
    TlsClient refused(server.port(), *tls11);
    const auto ec = refused.handshake();
    CHECK(ec);
    CHECK(ec.message().find("protocol version") != std::string::npos);  // the server's alert
    auto tls12 = old_client(TLS1_2_VERSION);
    CHECK(served(server.port(), *tls12));
}

TEST_CASE("HTTPS: plain HTTP on the TLS port is closed, not left hanging") {
    auto config = tls_config();
    config.limits.header_timeout = 200ms;
    TestServer server(config);
    SUBCASE("a plain request") {
        RawClient plain(server.port());
        plain.write("POST /mi HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kVersion.size()) +
                    "\r\n\r\n" + kVersion);
        const auto ending = plain.read_until_closed(5s);
        CHECK(ending.closed());
        CHECK(ending.elapsed < 1s);
        CHECK(ending.data.find("200 OK") == std::string::npos);
    }
    SUBCASE("a client that never starts its handshake: closed after header_timeout") {
        RawClient silent(server.port());
        const auto ending = silent.read_until_closed(5s);
        CHECK(ending.data.empty());
        CHECK(ending.closed());
        CHECK(ending.elapsed >= 150ms);
        CHECK(ending.elapsed < 1500ms);
    }
    auto ctx = client_context();
    CHECK(served(server.port(), *ctx));
}

TEST_CASE("mutual TLS: a client certificate of tls_client_ca is required, and its CN kept") {
    auto config = tls_config(true);
    config.access_log = true;
    auto server = std::make_unique<TestServer>(config);
    LogCapture log;

    auto anonymous = client_context();
    CHECK_FALSE(served(server->port(), *anonymous));
    auto stranger = client_context("stranger");  // another CA, the same CN
    CHECK_FALSE(served(server->port(), *stranger));
    auto known = client_context("client");
    CHECK(served(server->port(), *known));

    server.reset();  // nothing logs any more
    const auto lines = log.text();
    CHECK(lines.find("\"POST /mi\" 200 72 cn=ops-client\n") != std::string::npos);
    CHECK(lines.find("\"POST /mi\"", lines.find("\"POST /mi\"") + 1) == std::string::npos);  // one request served
}

TEST_CASE("https:// subscribers receive events over TLS, verified against event_tls_ca") {
    // One receiver per subscriber: each serves one kept connection at a time.
    TlsReceiver by_address("server");
    TlsReceiver by_name("server");
    auto config = tls_config();
    config.event_tls_ca = pki("ca.pem");
    TestServer server(config);
    auto ctx = client_context();
    TlsClient client(server.port(), *ctx);
    REQUIRE_FALSE(client.handshake());
    for (const auto& socket : {"https://127.0.0.1:" + std::to_string(by_address.port()) + "/hook",
                               "https://localhost:" + std::to_string(by_name.port()) + "/hook"}) {
        const auto res = client.post(json{{"jsonrpc", "2.0"}, {"method", "event_subscribe"},
                                          {"params", {"E_CORE_SR_STATUS_CHANGED", socket, 60}}, {"id", 1}}
                                         .dump());
        REQUIRE(res);
        CHECK(json::parse(res->body())["result"] == "OK");
    }
    REQUIRE(client.post(R"({"jsonrpc":"2.0","method":"sr_set_status","params":["custom","-3"],"id":1})"));
    const std::vector<std::string> expected = {
        R"({"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED",)"
        R"("params":{"group":"custom","identifier":"main","status":-3,"old_status":1}})"};
    CHECK(wait_until([&] { return by_address.bodies() == expected; }));
    CHECK(wait_until([&] { return by_name.bodies() == expected; }));
}

TEST_CASE("https sink drops events for a receiver it cannot verify") {
    SinkThread io;
    srmi::server::SinkOptions options;
    options.tls_ca_file = pki("ca.pem");
    const auto trusting = srmi::server::make_sink_factory(io.ioc, options);

    SUBCASE("a certificate for another host") {
        TlsReceiver receiver("wrong-host");
        auto sink = make_sink(trusting, "https://127.0.0.1:" + std::to_string(receiver.port()) + "/");
        sink->push(std::make_shared<const std::string>("{}"));
        CHECK(wait_until([&] { return sink->dropped() == 1; }));
        CHECK(receiver.bodies().empty());
        sink->close();
    }
    SUBCASE("a CA the sink does not trust (the system's store only)") {
        TlsReceiver receiver("server");
        auto sink = make_sink(srmi::server::make_sink_factory(io.ioc),
                              "https://127.0.0.1:" + std::to_string(receiver.port()) + "/");
        sink->push(std::make_shared<const std::string>("{}"));
        CHECK(wait_until([&] { return sink->dropped() == 1; }));
        CHECK(receiver.bodies().empty());
        sink->close();
    }
    SUBCASE("a verified receiver gets every event on one connection") {
        TlsReceiver receiver("server");
        auto sink = make_sink(trusting, "https://localhost:" + std::to_string(receiver.port()) + "/x");
        CHECK(sink->transport() == "https");
        for (int n = 0; n < 3; ++n) sink->push(std::make_shared<const std::string>(std::to_string(n)));
        CHECK(wait_until([&] { return receiver.bodies() == std::vector<std::string>{"0", "1", "2"}; }));
        CHECK(sink->dropped() == 0);
        CHECK(receiver.failed_handshakes() == 0);
        sink->close();
    }
}

TEST_CASE("TLS files that cannot be used stop the start-up with a clear message") {
    auto config = tls_config(true);
    CHECK(config_error(config) == "no error");

    auto missing = config;
    missing.tls_cert = "/nonexistent/cert.pem";
    CHECK(config_error(missing) == "tls_cert '/nonexistent/cert.pem': cannot be read: No such file or directory");

    auto not_pem = config;
    not_pem.tls_cert = pki("server.ext");
    CHECK(config_error(not_pem).starts_with("tls_cert '" + pki("server.ext") +
                                            "': not a PEM certificate chain ("));

    auto swapped = config;
    swapped.tls_key = pki("client.key");
    CHECK(config_error(swapped) == "tls_key '" + pki("client.key") + "': does not match the certificate of " +
                                       "tls_cert '" + pki("server.pem") + "'");

    auto bad_ca = config;
    bad_ca.tls_client_ca = pki("server.key");
    CHECK(config_error(bad_ca).starts_with("tls_client_ca '" + pki("server.key") + "': no PEM CA certificate"));

    // The server itself refuses, before it listens.
    CHECK_THROWS_AS(srmi::server::Server{missing}, ConfigError);
    auto bad_event_ca = srmi::test::conformance_config();
    bad_event_ca.event_tls_ca = "/nonexistent/hooks.pem";
    CHECK_THROWS_WITH_AS(srmi::server::Server{bad_event_ca},
                         "event_tls_ca '/nonexistent/hooks.pem': cannot be read: No such file or directory",
                         ConfigError);
}

TEST_CASE("mutual TLS with client_certs: the certificate's CN is the caller, with its role") {
    auto config = tls_config(true);
    srmi::server::Credential reader;
    reader.client_cn = "ops-client";
    reader.caller = srmi::rpc::Caller{srmi::rpc::Role::kRead, {}, "ops"};
    config.credentials.push_back(reader);
    TestServer server(config);

    auto known = client_context("client");
    TlsClient client(server.port(), *known);
    REQUIRE_FALSE(client.handshake());
    auto res = client.post(R"({"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"custom"},"id":1})");
    REQUIRE(res);
    CHECK(res->result_int() == 200);
    CHECK(res->body().find(R"("Status":1)") != std::string::npos);
    res = client.post(R"({"jsonrpc":"2.0","method":"sr_set_status","params":{"group":"custom","status":3},"id":1})");
    REQUIRE(res);
    CHECK(res->body().find(R"("code":403)") != std::string::npos);
}

TEST_CASE("client_certs without tls_client_ca are refused at start-up") {
    char name[] = "/tmp/srmi-tls-cfg-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    const std::string text = R"({"client_certs": [{"cn": "ops-client", "role": "read"}]})";
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    const char* args[] = {"srmi", "--config", name};
    std::string message;
    try {
        srmi::server::parse_command_line(3, args);
    } catch (const srmi::server::ConfigError& e) {
        message = e.what();
    }
    std::remove(name);
    CHECK(message.find("client_certs need tls_client_ca") != std::string::npos);
}
