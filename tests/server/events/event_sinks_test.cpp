// Event sink tests: real receivers on 127.0.0.1 (or a Unix socket in a temp
// directory) and the sinks on an io_context thread, because what counts is
// the bytes another program receives.
#include "server/events/event_sinks.h"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "tests/support/wait_until.h"

namespace {

using srmi::test::wait_until;

using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;
using net::ip::udp;
using srmi::core::EventPayload;
using srmi::core::EventSink;
using srmi::core::SinkFactory;
using srmi::server::make_sink_factory;
using srmi::server::SinkOptions;

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

EventPayload payload(std::string text) {
    return std::make_shared<const std::string>(std::move(text));
}

std::string notification(int n) {
    return R"({"jsonrpc":"2.0","method":"E_TEST","params":{"n":)" + std::to_string(n) + "}}";
}

std::shared_ptr<EventSink> make_sink(const SinkFactory& factory, const std::string& socket) {
    auto made = factory(socket);
    if (const auto* error = std::get_if<std::string>(&made)) FAIL("refused ", socket, ": ", *error);
    return std::get<std::shared_ptr<EventSink>>(made);
}

/// The factory's error text, or "" when it made a sink.
std::string refusal(const SinkFactory& factory, const std::string& socket) {
    auto made = factory(socket);
    if (auto* sink = std::get_if<std::shared_ptr<EventSink>>(&made)) {
        (*sink)->close();
        return {};
    }
    return std::get<std::string>(made);
}

/// One datagram if one is waiting on the non-blocking `socket`.
template <class Socket>
bool try_receive(Socket& socket, std::string& out) {
    std::vector<char> buffer(65536);
    beast::error_code ec;
    const auto size = socket.receive(net::buffer(buffer), 0, ec);
    if (ec) return false;
    out.assign(buffer.data(), size);
    return true;
}

/// A private directory under /tmp (short, for sun_path), removed afterwards.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string pattern = "/tmp/srmi-sinks-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
};

/// A Unix datagram subscriber bound in a private directory, polled from the
/// test thread.
struct UnixReceiver {
    TempDir dir;
    std::string path = (dir.path / "events.sock").string();
    net::io_context ioc;
    net::local::datagram_protocol::socket socket{ioc,
                                                 net::local::datagram_protocol::endpoint(path)};

    UnixReceiver() { socket.non_blocking(true); }
    /// A new socket bound on the same path, as a restarted subscriber's.
    void restart() {
        socket.close();
        std::filesystem::remove(path);
        socket.open();
        socket.bind(net::local::datagram_protocol::endpoint(path));
        socket.non_blocking(true);
    }
    /// The socket string a sink is made for.
    std::string subscriber() const { return "unix:" + path; }
    bool receive(std::string& out) { return try_receive(socket, out); }
};

/// A TCP subscriber polled from the test thread: accepts one connection and
/// collects what arrives on it.
class TcpReceiver {
  public:
    explicit TcpReceiver(std::uint16_t port = 0) : acceptor_(ioc_) {
        const tcp::endpoint endpoint(net::ip::address_v4::loopback(), port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen();
        acceptor_.non_blocking(true);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    const std::string& data() const { return data_; }

    bool poll_accept() {
        if (peer_) return true;
        tcp::socket socket(ioc_);
        beast::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) return false;
        socket.non_blocking(true);
        peer_.emplace(std::move(socket));
        return true;
    }

    /// Reads what has arrived; true once at least `size` bytes have.
    bool poll_read(std::size_t size) {
        if (!poll_accept()) return false;
        std::array<char, 65536> buffer;
        for (int i = 0; i < 1000; ++i) {
            beast::error_code ec;
            const auto n = peer_->read_some(net::buffer(buffer), ec);
            if (ec) break;
            data_.append(buffer.data(), n);
        }
        return data_.size() >= size;
    }

  private:
    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::optional<tcp::socket> peer_;
    std::string data_;
};

/// A webhook receiver: Beast's synchronous server on a thread, answering every
/// request with `status` and remembering what it got.
class HttpReceiver {
  public:
    struct Post {
        std::string method, target, host, content_type, body;
    };

    explicit HttpReceiver(http::status status = http::status::ok, bool close_after_answer = false)
        : acceptor_(ioc_, tcp::endpoint(net::ip::address_v4::loopback(), 0)),
          listen_fd_(acceptor_.native_handle()),
          status_(status),
          close_after_answer_(close_after_answer),
          thread_([this] { serve(); }) {}

    ~HttpReceiver() {
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

    std::vector<Post> posts() const {
        std::lock_guard lock(mutex_);
        return posts_;
    }

    int connections() const {
        std::lock_guard lock(mutex_);
        return connections_;
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
                ++connections_;
            }
            serve_connection(socket);
            std::lock_guard lock(mutex_);
            peer_fd_ = -1;  // before the socket closes, so stop() never hits a reused fd
        }
    }

    void serve_connection(tcp::socket& socket) {
        beast::flat_buffer buffer;
        for (int i = 0; i < 10000; ++i) {
            http::request<http::string_body> request;
            beast::error_code ec;
            http::read(socket, buffer, request, ec);
            if (ec) return;
            {
                std::lock_guard lock(mutex_);
                posts_.push_back({std::string(request.method_string()),
                                  std::string(request.target()),
                                  std::string(request[http::field::host]),
                                  std::string(request[http::field::content_type]), request.body()});
            }
            http::response<http::string_body> response{status_, request.version()};
            response.keep_alive(request.keep_alive());
            response.body() = "ok";
            response.prepare_payload();
            http::write(socket, response, ec);
            if (ec || !response.keep_alive() || close_after_answer_) return;
        }
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    const int listen_fd_;
    const http::status status_;
    const bool close_after_answer_;
    mutable std::mutex mutex_;
    std::vector<Post> posts_;
    int connections_ = 0;
    int peer_fd_ = -1;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the rest exists
};

}  // namespace

TEST_CASE("udp sink sends one datagram per event with exactly the payload") {
    SinkThread io;
    net::io_context receiver_ioc;
    udp::socket receiver(receiver_ioc, udp::endpoint(net::ip::address_v4::loopback(), 0));
    receiver.non_blocking(true);

    auto sink = make_sink(make_sink_factory(io.ioc),
                          "udp:127.0.0.1:" + std::to_string(receiver.local_endpoint().port()));
    const std::vector<std::string> sent = {
        R"({"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":{"group":"custom","identifier":"main","status":2,"details":"ok now","old_status":-3}})",
        notification(2), notification(3)};
    for (const auto& text : sent) sink->push(payload(text));

    for (const auto& expected : sent) {
        std::string got;
        REQUIRE(wait_until([&] { return try_receive(receiver, got); }));
        CHECK(got == expected);
    }
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("udp sink drops the oldest events beyond its queue limit, counting each") {
    net::io_context ioc;  // not running yet: every push stays queued
    udp::socket receiver(ioc, udp::endpoint(net::ip::address_v4::loopback(), 0));
    receiver.non_blocking(true);
    SinkOptions options;
    options.queue_limit = 4;
    auto sink = make_sink(make_sink_factory(ioc, options),
                          "udp:127.0.0.1:" + std::to_string(receiver.local_endpoint().port()));

    for (int n = 1; n <= 10; ++n) sink->push(payload(notification(n)));
    CHECK(sink->dropped() == 6);

    ioc.run();  // delivers what the queue kept, then runs out of work
    for (int n = 7; n <= 10; ++n) {
        std::string got;
        REQUIRE(try_receive(receiver, got));
        CHECK(got == notification(n));
    }
    std::string extra;
    CHECK_FALSE(try_receive(receiver, extra));
    CHECK(sink->dropped() == 6);
}

TEST_CASE("udp sink ignores events pushed after close") {
    SinkThread io;
    auto sink = make_sink(make_sink_factory(io.ioc), "udp:127.0.0.1:9");
    sink->close();
    sink->close();  // idempotent
    const auto event = payload(notification(1));
    sink->push(event);
    CHECK(event.use_count() == 1);  // not queued
    CHECK(sink->dropped() == 0);
}

TEST_CASE("udp sink reaches a subscriber that was down and is back") {
    // The sink's socket is connected, so the kernel reports the "port
    // unreachable" of a datagram sent while the subscriber was down on the
    // next send; that send must still go out.
    SinkThread io;
    net::io_context receiver_ioc;
    std::optional<udp::socket> receiver;
    receiver.emplace(receiver_ioc, udp::endpoint(net::ip::address_v4::loopback(), 0));
    const auto port = receiver->local_endpoint().port();
    auto sink = make_sink(make_sink_factory(io.ioc), "udp:127.0.0.1:" + std::to_string(port));
    sink->push(payload(notification(1)));
    std::string got;
    REQUIRE(wait_until([&] { return try_receive(*receiver, got); }));

    receiver.reset();  // down: the next datagram comes back as "port unreachable"
    sink->push(payload(notification(2)));
    // Sent while nobody listens: the sink's thread has passed it once a task
    // posted after it has run.
    std::atomic<bool> passed{false};
    net::post(io.ioc, [&] { passed = true; });
    REQUIRE(wait_until([&] { return passed.load(); }));
    receiver.emplace(receiver_ioc, udp::endpoint(net::ip::address_v4::loopback(), port));
    receiver->non_blocking(true);

    sink->push(payload(notification(3)));
    REQUIRE(wait_until([&] { return try_receive(*receiver, got); }));
    CHECK(got == notification(3));
    CHECK(sink->dropped() == 0);  // 2 was sent; nobody was there to read it
    sink->close();
}

TEST_CASE("unix sink reaches a subscriber that restarts on the same path") {
    SinkThread io;
    UnixReceiver receiver;
    auto sink = make_sink(make_sink_factory(io.ioc), receiver.subscriber());
    sink->push(payload(notification(1)));
    std::string got;
    REQUIRE(wait_until([&] { return receiver.receive(got); }));

    receiver.restart();
    sink->push(payload(notification(2)));
    REQUIRE(wait_until([&] { return receiver.receive(got); }));
    CHECK(got == notification(2));
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("unix sink sends one datagram per event to the path") {
    SinkThread io;
    UnixReceiver receiver;
    auto sink = make_sink(make_sink_factory(io.ioc), receiver.subscriber());
    sink->push(payload(notification(1)));
    sink->push(payload(notification(2)));
    for (int n = 1; n <= 2; ++n) {
        std::string got;
        REQUIRE(wait_until([&] { return receiver.receive(got); }));
        CHECK(got == notification(n));
    }
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("unix sink waits while the receiver's queue is full, losing and reordering nothing") {
    // A Unix datagram receiver queues a few datagrams only (net.unix.max_dgram_qlen):
    // beyond them a send would block, and the sink must wait for room, not drop.
    SinkThread io;
    UnixReceiver receiver;
    auto sink = make_sink(make_sink_factory(io.ioc), receiver.subscriber());
    constexpr int kEvents = 200;
    for (int n = 1; n <= kEvents; ++n) sink->push(payload(notification(n)));
    std::this_thread::sleep_for(20ms);  // the receiver's queue fills meanwhile
    for (int n = 1; n <= kEvents; ++n) {
        std::string got;
        REQUIRE(wait_until([&] { return receiver.receive(got); }));
        CHECK(got == notification(n));
    }
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("unix sink closed while it waits for room releases its socket") {
    const auto open_sockets = [] {
        int sockets = 0;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
            std::error_code ignored;
            sockets += std::filesystem::read_symlink(entry.path(), ignored)
                           .string()
                           .starts_with("socket:");
        }
        return sockets;
    };
    UnixReceiver receiver;  // never read: its queue fills and the sink waits
    SinkThread io;
    const auto factory = make_sink_factory(io.ioc);
    const auto before = open_sockets();
    auto sink = make_sink(factory, receiver.subscriber());
    for (int n = 1; n <= 200; ++n) sink->push(payload(notification(n)));
    CHECK(wait_until([&] { return open_sockets() == before + 1; }));
    std::this_thread::sleep_for(20ms);  // the receiver's queue is full by then
    sink->close();
    CHECK(wait_until([&] { return open_sockets() == before; }));
}

TEST_CASE("unix sink counts events for a path nobody listens on as dropped") {
    SinkThread io;
    TempDir dir;
    auto sink = make_sink(make_sink_factory(io.ioc), "unix:" + (dir.path / "nobody.sock").string());
    sink->push(payload(notification(1)));
    sink->push(payload(notification(2)));
    CHECK(wait_until([&] { return sink->dropped() == 2; }));
    sink->close();
}

TEST_CASE("tcp sink writes the events back to back, in order, on one connection") {
    SinkThread io;
    TcpReceiver receiver;
    auto sink =
        make_sink(make_sink_factory(io.ioc), "tcp:127.0.0.1:" + std::to_string(receiver.port()));

    std::string expected;
    for (int n = 1; n <= 20; ++n) {
        expected += notification(n);
        sink->push(payload(notification(n)));
    }
    REQUIRE(wait_until([&] { return receiver.poll_read(expected.size()); }));
    CHECK(receiver.data() == expected);
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("tcp sink reconnects after the subscriber restarts") {
    SinkThread io;
    SinkOptions options;
    options.reconnect_min = 10ms;
    options.reconnect_max = 100ms;
    auto receiver = std::make_unique<TcpReceiver>();
    const auto port = receiver->port();
    auto sink =
        make_sink(make_sink_factory(io.ioc, options), "tcp:127.0.0.1:" + std::to_string(port));

    sink->push(payload(notification(1)));
    sink->push(payload(notification(2)));
    const auto first = notification(1) + notification(2);
    REQUIRE(wait_until([&] { return receiver->poll_read(first.size()); }));
    CHECK(receiver->data() == first);

    receiver.reset();                                // the subscriber goes away ...
    receiver = std::make_unique<TcpReceiver>(port);  // ... and comes back on the same port

    // An event raised before the sink notices the drop may go down with the
    // old connection, so keep raising until one arrives.
    int n = 3;
    REQUIRE(wait_until([&] {
        if (receiver->poll_read(1)) return true;
        if (n < 900) sink->push(payload(notification(n++)));
        return false;
    }));
    const int last = n - 1;
    REQUIRE(wait_until([&] {
        receiver->poll_read(0);
        return receiver->data().ends_with(notification(last));
    }));

    // What arrives is whole notifications, in order, with no gap after the first.
    const std::string prefix = R"({"jsonrpc":"2.0","method":"E_TEST","params":{"n":)";
    const auto& data = receiver->data();
    REQUIRE(data.starts_with(prefix));
    const int resumed = std::stoi(data.substr(prefix.size()));
    CHECK(resumed >= 3);
    std::string expected;
    for (int k = resumed; k <= last; ++k) expected += notification(k);
    CHECK(data == expected);
    sink->close();
}

TEST_CASE("tcp sink to a subscriber that never reads stays bounded and counts drops") {
    SinkThread io;
    TcpReceiver receiver;  // accepts, never reads
    SinkOptions options;
    options.queue_limit = 64;
    auto sink = make_sink(make_sink_factory(io.ioc, options),
                          "tcp:127.0.0.1:" + std::to_string(receiver.port()));

    const auto big = payload(std::string(64 * 1024, 'x'));
    for (int i = 0; i < 5000; ++i) sink->push(big);  // 320 MB, far beyond any socket buffer

    REQUIRE(wait_until([&] {
        receiver.poll_accept();
        return sink->dropped() > 0;
    }));
    CHECK(sink->dropped() < 5000);
    // Ours, at most queue_limit queued, and the one being written.
    CHECK(big.use_count() <= 1 + 64 + 1);

    sink->close();
    CHECK(wait_until([&] { return big.use_count() == 1; }));  // queue and write let go
    const auto dropped = sink->dropped();
    sink->push(big);
    CHECK(big.use_count() == 1);
    CHECK(sink->dropped() == dropped);
}

TEST_CASE(
    "tcp sink drops the connection of a subscriber that stops reading, after the write timeout") {
    SinkThread io;
    net::io_context receiver_ioc;
    tcp::acceptor acceptor(receiver_ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    acceptor.non_blocking(true);
    std::vector<tcp::socket> peers;  // accepted, never read
    auto accept_waiting = [&] {
        for (;;) {
            tcp::socket socket(receiver_ioc);
            beast::error_code ec;
            acceptor.accept(socket, ec);
            if (ec) return;
            peers.push_back(std::move(socket));
        }
    };
    SinkOptions options;
    options.queue_limit = 4;
    options.tcp_write_timeout = 200ms;
    options.reconnect_min = 10ms;
    auto sink = make_sink(make_sink_factory(io.ioc, options),
                          "tcp:127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));

    // Events until the first connection's buffers are full and its write
    // expires: the sink then connects again, for the events that follow.
    const auto big = payload(std::string(1024 * 1024, 'x'));
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(wait_until(
        [&] {
            sink->push(big);
            accept_waiting();
            return peers.size() >= 2;
        },
        10s));
    CHECK(std::chrono::steady_clock::now() - start >= 200ms);
    CHECK(sink->dropped() > 0);
    sink->close();
}

TEST_CASE("http sink posts each event with its body and content type, keeping the connection") {
    SinkThread io;
    HttpReceiver receiver;
    const auto authority = "127.0.0.1:" + std::to_string(receiver.port());
    auto sink = make_sink(make_sink_factory(io.ioc), "http://" + authority + "/hooks/opensips?x=1");

    for (int n = 1; n <= 3; ++n) sink->push(payload(notification(n)));
    REQUIRE(wait_until([&] { return receiver.posts().size() == 3; }));
    const auto posts = receiver.posts();
    for (int n = 1; n <= 3; ++n) {
        const auto& post = posts[static_cast<std::size_t>(n - 1)];
        CHECK(post.method == "POST");
        CHECK(post.target == "/hooks/opensips?x=1");
        CHECK(post.host == authority);
        CHECK(post.content_type == "application/json");
        CHECK(post.body == notification(n));
    }
    CHECK(receiver.connections() == 1);
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("http sink retries once on a fresh connection when the kept one was closed") {
    SinkThread io;
    HttpReceiver receiver(http::status::ok, true);  // closes after every answer, unannounced
    auto sink = make_sink(make_sink_factory(io.ioc),
                          "http://127.0.0.1:" + std::to_string(receiver.port()) + "/");

    sink->push(payload(notification(1)));
    REQUIRE(wait_until([&] { return receiver.posts().size() == 1; }));
    sink->push(payload(notification(2)));
    REQUIRE(wait_until([&] { return receiver.posts().size() == 2; }));
    CHECK(receiver.posts()[1].body == notification(2));
    CHECK(receiver.connections() == 2);
    CHECK(sink->dropped() == 0);
    sink->close();
}

TEST_CASE("http sink counts a non-2xx answer as dropped") {
    SinkThread io;
    HttpReceiver receiver(http::status::internal_server_error);
    auto sink = make_sink(make_sink_factory(io.ioc),
                          "http://127.0.0.1:" + std::to_string(receiver.port()) + "/events");
    sink->push(payload(notification(1)));
    sink->push(payload(notification(2)));
    REQUIRE(wait_until([&] { return sink->dropped() == 2; }));
    CHECK(receiver.posts().size() == 2);
    sink->close();
}

TEST_CASE("http sink counts a receiver that never answers as dropped after the timeout") {
    SinkThread io;
    net::io_context silent_ioc;  // listens, so connect succeeds, but never answers
    tcp::acceptor silent(silent_ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    SinkOptions options;
    options.http_timeout = 100ms;
    auto sink =
        make_sink(make_sink_factory(io.ioc, options),
                  "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/");
    sink->push(payload(notification(1)));
    CHECK(wait_until([&] { return sink->dropped() == 1; }));
    sink->close();
}

TEST_CASE("sink factory refuses malformed sockets with a clear text") {
    net::io_context ioc;  // nothing is sent: sinks are only made and closed
    const auto factory = make_sink_factory(ioc);

    CHECK(refusal(factory, "udp:127.0.0.1") ==
          "bad socket 'udp:127.0.0.1': expected udp:HOST:PORT");

    struct Case {
        std::string socket;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {"", "unknown scheme"},
        {"ftp://127.0.0.1/x", "unknown scheme"},
        {"udp:", "expected udp:HOST:PORT"},
        {"udp:127.0.0.1:", "missing port"},
        {"udp:127.0.0.1:0", "out of range"},
        {"udp:127.0.0.1:65536", "out of range"},
        {"udp:127.0.0.1:123456789", "out of range"},
        {"udp:127.0.0.1:9x", "bad port"},
        {"udp::9000", "missing host"},
        {"udp:::1:9000", "brackets"},
        {"udp:[::1:9000", "']'"},
        {"udp:[::1]9000", "expected udp:HOST:PORT"},
        {"udp:[127.0.0.1]:9000", "not an IPv6 address"},
        {"tcp:127.0.0.1", "expected tcp:HOST:PORT"},
        {"tcp:127.0.0.1:99999", "out of range"},
        {"unix:", "empty path"},
        {"unix:/" + std::string(200, 'a'), "path too long"},
        {"http://", "missing host"},
        {"http:///events", "missing host"},
        {"http://127.0.0.1:0/x", "out of range"},
        {"http://user:secret@127.0.0.1/x", "credentials"},
        {"https://", "missing host; expected https://HOST[:PORT]/path"},
        {"https://127.0.0.1:0/x", "out of range"},
        {"https://user@127.0.0.1/x", "credentials"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.socket);
        const auto text = refusal(factory, c.socket);
        CHECK(text.starts_with("bad socket '" + c.socket + "': "));
        CHECK(text.find(c.reason) != std::string::npos);
    }

    for (const std::string good :
         {"udp:[::1]:9000", "tcp:[::1]:9000", "tcp:127.0.0.1:1", "unix:/tmp/srmi-events.sock",
          "http://127.0.0.1", "http://[::1]:8080/x?y#z", "udp:localhost:9000",
          "https://127.0.0.1/events", "https://[::1]:8443/x"}) {
        CAPTURE(good);
        CHECK(refusal(factory, good).empty());
    }
}
