// detail::async_read_draining over a real loopback connection: every byte
// arrives, whether the last read emptied the socket or filled the buffer.
#include "server/http/detail/draining_read.h"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace {

namespace net = boost::asio;
using net::ip::tcp;
using srmi::server::detail::async_read_draining;
using srmi::server::detail::prepare_draining;

/// A connected pair on 127.0.0.1; `server` is non-blocking, as HttpSession's.
struct Pair {
    net::io_context ioc;
    tcp::socket client{ioc};
    tcp::socket server{ioc};
    void* reactor = nullptr;

    Pair() {
        tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        client.connect(acceptor.local_endpoint());
        acceptor.accept(server);
        server.non_blocking(true);
        reactor = prepare_draining(server);
    }

    struct Read {
        boost::system::error_code ec;
        std::size_t bytes = 0;
    };

    /// Starts a read into `into` (its whole size); the outcome lands in `out`.
    void start(std::string& into, std::optional<Read>& out) {
        async_read_draining(server, reactor, net::buffer(into),
                            [&out](boost::system::error_code ec, std::size_t bytes) {
                                out = Read{ec, bytes};
                            });
    }

    /// Runs what is ready, for at most `limit`.
    void run_for(std::chrono::milliseconds limit) {
        ioc.restart();
        ioc.run_for(limit);
    }

    /// One read of at most `size` bytes, run for at most 2 s; nullopt if it
    /// did not complete.
    std::optional<Read> read(std::string& into, std::size_t size) {
        into.assign(size, '\0');
        std::optional<Read> out;
        start(into, out);
        run_for(kLong);
        if (out) into.resize(out->bytes);
        return out;
    }

    /// Starts a read that must still wait after a moment (nothing to read),
    /// then does `then` and returns the read's outcome, given 2 s.
    template <class Then>
    std::optional<Read> read_after(std::string& into, Then then) {
        into.assign(64, '\0');
        std::optional<Read> out;
        start(into, out);
        run_for(kMoment);
        CHECK(!out);  // it waits
        then();
        run_for(kLong);
        if (out) into.resize(out->bytes);
        return out;
    }

    static constexpr std::chrono::milliseconds kMoment{20};
    static constexpr std::chrono::milliseconds kLong{2000};
};

}  // namespace

TEST_CASE("the draining read is built here (epoll, Boost 1.81)") {
    // Elsewhere it is async_read_some, correct but a syscall per request
    // dearer; this says so when the platform changes.
#if defined(__linux__) && BOOST_VERSION == 108100
    CHECK(SRMI_DRAINING_READ == 1);
    Pair pair;
    CHECK(pair.reactor != nullptr);
#endif
}

TEST_CASE("bytes sent after a read emptied the socket are read") {
    // The read that empties the socket tells the reactor to wait for the next
    // edge; the bytes written later must make it read again.
    Pair pair;
    std::string got;
    net::write(pair.client, net::buffer(std::string("first")));
    auto read = pair.read(got, 64);
    REQUIRE(read);
    CHECK(!read->ec);
    CHECK(got == "first");

    for (int i = 0; i < 3; ++i) {
        const std::string next = "next" + std::to_string(i);
        auto later = pair.read_after(got, [&] { net::write(pair.client, net::buffer(next)); });
        REQUIRE(later);
        CHECK(!later->ec);
        CHECK(got == next);
    }
}

TEST_CASE("a read that fills its buffer leaves the rest to be read at once") {
    // Full is not empty: the bytes already waiting raise no new edge, so a
    // read marked drained here would wait forever.
    Pair pair;
    const std::string sent(10'000, 'x');
    net::write(pair.client, net::buffer(sent));
    std::string all;
    std::string got;
    while (all.size() < sent.size()) {
        auto read = pair.read(got, 1000);
        REQUIRE(read);
        REQUIRE(!read->ec);
        all += got;
    }
    CHECK(all == sent);
}

TEST_CASE("the peer's close ends a waiting read with eof") {
    Pair pair;
    std::string got;
    net::write(pair.client, net::buffer(std::string("bye")));
    REQUIRE(pair.read(got, 64));
    auto last = pair.read_after(got, [&] { pair.client.close(); });
    REQUIRE(last);
    CHECK(last->ec == net::error::eof);
}

TEST_CASE("bytes and the peer's shutdown that arrive together are read, then eof at once") {
    // One edge brings both. A read that took the bytes and told the reactor
    // the socket was empty would leave the next read waiting for an edge
    // that never comes: a client that half-closes after its request would
    // hold its connection until a timeout.
    Pair pair;
    std::string got;
    auto read = pair.read_after(got, [&] {
        net::write(pair.client, net::buffer(std::string("last")));
        pair.client.shutdown(tcp::socket::shutdown_send);
    });
    REQUIRE(read);
    CHECK(!read->ec);
    CHECK(got == "last");
    auto last = pair.read(got, 64);
    REQUIRE(last);
    CHECK(last->ec == net::error::eof);
}

TEST_CASE("cancelling a waiting read ends it with operation_aborted") {
    // How HttpSession's deadline stops a read.
    Pair pair;
    std::string got;
    auto read = pair.read_after(got, [&] { pair.server.cancel(); });
    REQUIRE(read);
    CHECK(read->ec == net::error::operation_aborted);
}

TEST_CASE("a waiting read is destroyed, not called, when its io_context goes") {
    // The handler's captures end with it: what a stopped server relies on.
    auto alive = std::make_shared<int>(0);
    std::weak_ptr<int> watch = alive;
    bool called = false;
    {
        Pair pair;
        std::string into(64, '\0');
        async_read_draining(pair.server, pair.reactor, net::buffer(into),
                            [&called, alive = std::move(alive)](boost::system::error_code,
                                                                std::size_t) { called = true; });
        pair.run_for(Pair::kMoment);
    }
    CHECK(!called);
    CHECK(watch.expired());
}
