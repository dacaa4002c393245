// The Event Interface end to end: JSON-RPC subscriptions on the real server,
// real receivers on 127.0.0.1, and each core event provoked for real.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "server/events/event_stream.h"
#include "tests/support/test_server.h"
#include "tests/support/rpc_over_http.h"
#include "tests/support/udp_receiver.h"
#include "tests/support/wait_until.h"

namespace {

using srmi::test::wait_until;

using nlohmann::json;
using srmi::test::HttpClient;
using srmi::test::TestServer;
using srmi::test::UdpReceiver;
using srmi::test::call;
using srmi::test::error;
using srmi::test::result;




}  // namespace

TEST_CASE("events_list names OpenSIPS's core events at their ids, then srmi's own") {
    TestServer server;
    HttpClient client(server.port());
    srmi::test::check_events_list(result(client, "events_list")["Events"]);
}

TEST_CASE("a UDP subscriber receives status changes as OpenSIPS's event_datagram sends them") {
    TestServer server;
    HttpClient client(server.port());
    UdpReceiver udp;
    // As opensips-event subscribes: positional, expire an integer.
    CHECK(result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", udp.socket(), 120}) == "OK");

    result(client, "sr_set_status", {{"group", "custom"}, {"status", -3}, {"details", "warming up"}});
    CHECK(udp.receive() ==
          R"({"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":{"group":"custom","identifier":"main","status":-3,"details":"warming up","old_status":1}})");

    SUBCASE("no details, no details key; an unchanged status raises nothing") {
        result(client, "sr_set_status", {"custom", "2"});
        result(client, "sr_set_status", {"custom", "2"});
        result(client, "sr_set_status", {"alarms", "-1"});
        CHECK(udp.receive() ==
              R"({"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":{"group":"custom","identifier":"main","status":2,"old_status":-3}})");
        CHECK(json::parse(*udp.receive())["params"]["group"] == "alarms");
    }
    SUBCASE("unsubscribing stops delivery") {
        CHECK(result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", udp.socket(), 0}) == "OK");
        CHECK(result(client, "subscribers_list")["Events"].empty());
        CHECK(error(client, "raise_event", {"E_CORE_SR_STATUS_CHANGED"})["code"] == 480);
    }
}

TEST_CASE("subscribers_list shapes and the errors of the event methods") {
    TestServer server;
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {{"event", "E_CORE_LOG"}, {"socket", udp.socket()}});

    auto all = result(client, "subscribers_list");
    REQUIRE(all["Events"].size() == 1);
    CHECK(all["Events"][0]["name"] == "E_CORE_LOG");
    CHECK(all["Events"][0]["id"] == 6);
    auto subscriber = all["Events"][0]["Subscribers"][0];
    CHECK(subscriber["socket"] == udp.socket());
    CHECK(subscriber["expire"] == 3600);
    CHECK(subscriber["ttl"].get<int>() > 3590);
    CHECK(subscriber["dropped"] == 0);

    auto one = result(client, "subscribers_list", {"E_CORE_LOG"});
    CHECK(one["Event"]["Subscribers"].size() == 1);
    CHECK(result(client, "subscribers_list", {"E_CORE_LOG", udp.socket()})["Event"]["name"] == "E_CORE_LOG");
    CHECK(result(client, "subscribers_list", {"E_CORE_THRESHOLD"})["Event"]["Subscribers"].empty());

    CHECK(error(client, "subscribers_list", {"E_NOPE"}) == json{{"code", 404}, {"message", "Event not published"}});
    CHECK(error(client, "subscribers_list", {"E_CORE_LOG", "udp:127.0.0.1:1"}) ==
          json{{"code", 404}, {"message", "Subscriber does not exist"}});
    CHECK(error(client, "event_subscribe", {"E_NOPE", udp.socket()})["code"] == 400);
    CHECK(error(client, "event_subscribe", {"E_NOPE", udp.socket()})["message"] == "Bad parameter value");
    CHECK(error(client, "event_subscribe", {"E_CORE_LOG", "carrier-pigeon:1"})["code"] == 400);
    CHECK(error(client, "event_subscribe", {"E_CORE_LOG", "https:///x"})["code"] == 400);
    CHECK(error(client, "event_subscribe", {"E_CORE_LOG", udp.socket(), -5}) ==
          json{{"code", -32602}, {"message", "Invalid params"}, {"data", "Negative expire value"}});
    CHECK(error(client, "raise_event", {"E_NOPE"}) == json{{"code", 404}, {"message", "Event not registered"}});
    CHECK(error(client, "raise_event", {"E_CORE_THRESHOLD"}) ==
          json{{"code", 480}, {"message", "Temporarily Unavailable"}});
    srmi::test::check_events_list(result(client, "evi:list")["Events"]);  // the alias answers alike
}

TEST_CASE("raise_event passes its params through, in each accepted form") {
    TestServer server;
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_PKG_THRESHOLD", udp.socket(), 60});

    SUBCASE("object") {
        CHECK(result(client, "raise_event", {{"event", "E_CORE_PKG_THRESHOLD"}, {"params", {{"usage", 91}}}}) == "OK");
        CHECK(udp.receive() == R"({"jsonrpc":"2.0","method":"E_CORE_PKG_THRESHOLD","params":{"usage":91}})");
    }
    SUBCASE("a string holding an object, as OpenSIPS clients send it") {
        result(client, "raise_event", {"E_CORE_PKG_THRESHOLD", R"({"a":"b"})"});
        CHECK(udp.receive() == R"({"jsonrpc":"2.0","method":"E_CORE_PKG_THRESHOLD","params":{"a":"b"}})");
    }
    SUBCASE("array") {
        result(client, "raise_event", {"E_CORE_PKG_THRESHOLD", json::array({1, "x"})});
        CHECK(udp.receive() == R"({"jsonrpc":"2.0","method":"E_CORE_PKG_THRESHOLD","params":[1,"x"]})");
    }
    SUBCASE("none") {
        result(client, "raise_event", {"E_CORE_PKG_THRESHOLD"});
        CHECK(udp.receive() == R"({"jsonrpc":"2.0","method":"E_CORE_PKG_THRESHOLD","params":{}})");
    }
    SUBCASE("not an object") {
        CHECK(error(client, "raise_event", {"E_CORE_PKG_THRESHOLD", 5})["code"] == -32602);
        CHECK(error(client, "raise_event", {"E_CORE_PKG_THRESHOLD", "{not json"})["code"] == -32602);
    }
}

TEST_CASE("subscriptions expire and disappear") {
    TestServer server;
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", udp.socket(), 1});
    CHECK(result(client, "subscribers_list")["Events"].size() == 1);
    CHECK(wait_until([&] { return result(client, "subscribers_list")["Events"].empty(); }));
    CHECK(error(client, "raise_event", {"E_CORE_SR_STATUS_CHANGED"})["code"] == 480);
}

TEST_CASE("E_CORE_TCP_DISCONNECT names both ends of a closed HTTP connection") {
    TestServer server;
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_TCP_DISCONNECT", udp.socket(), 60});
    std::uint16_t client_port = 0;
    {
        HttpClient leaving(server.port());
        client_port = leaving.stream().socket().local_endpoint().port();
        result(leaving, "version");
    }
    auto event = udp.next("E_CORE_TCP_DISCONNECT");
    CHECK(event["params"] == json{{"src_ip", "127.0.0.1"}, {"src_port", client_port}, {"dst_ip", "127.0.0.1"},
                                  {"dst_port", server.port()}, {"proto", "tcp"}});
}

TEST_CASE("E_CORE_THRESHOLD for a request slower than exec_threshold_us") {
    auto config = srmi::test::conformance_config();
    config.exec_threshold_us = 1;  // every real request takes longer than a microsecond
    TestServer server(config);
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_THRESHOLD", udp.socket(), 60});
    for (int i = 0; i < 40; ++i) result(client, "sr_add_report", {"custom", std::string(200, 'r')});
    result(client, "sr_list_reports");

    auto event = udp.next("E_CORE_THRESHOLD");
    CHECK(event["params"]["time"].get<std::int64_t>() > 1);
    const std::string source = event["params"]["source"];
    const std::string extra = event["params"]["extra"];
    CHECK((source == "sr_add_report" || source == "sr_list_reports" || source == "event_subscribe"));
    // The request text as received (this client sends its members sorted).
    CHECK(extra.rfind("{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"" + source + "\"", 0) == 0);
    CHECK(extra.size() <= 256);
}

TEST_CASE("E_CORE_LOG carries log lines when log_event_enabled, without recursing") {
    auto config = srmi::test::conformance_config();
    config.log_event_enabled = true;
    TestServer server(config);
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_LOG", udp.socket(), 60});
    spdlog::warn("disk {} is {}% full", "/var", 93);

    auto event = udp.next("E_CORE_LOG");
    CHECK(event["params"]["level"] == "WARNING");
    CHECK(event["params"]["message"] == "disk /var is 93% full");
    CHECK(event["params"]["pid"] == static_cast<int>(::getpid()));
    CHECK(event["params"]["time"].get<std::string>().size() == 15);  // "Aug 20 16:15:26"
}

TEST_CASE("GET /events streams events as Server-Sent Events") {
    TestServer server;
    HttpClient client(server.port());
    HttpClient watcher(server.port());
    watcher.write_raw("GET /events?event=E_CORE_SR_STATUS_CHANGED HTTP/1.1\r\nHost: x\r\n\r\n");

    // Reads until `done` holds, each read with a deadline.
    std::string seen;
    auto read_until = [&](auto done) {
        char buffer[4096];
        for (int i = 0; i < 100 && !done(); ++i) {
            boost::beast::error_code ec;
            watcher.stream().expires_after(std::chrono::seconds(5));
            const auto n = watcher.stream().read_some(boost::asio::buffer(buffer), ec);
            if (ec) break;
            seen.append(buffer, n);
        }
        return done();
    };
    REQUIRE(read_until([&] { return seen.find("\r\n\r\n") != std::string::npos; }));
    CHECK(seen.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(seen.find("Content-Type: text/event-stream") != std::string::npos);

    // The stream is tapped before its header is sent, so this change is seen.
    result(client, "sr_set_status", {"custom", "-4"});
    REQUIRE(read_until([&] {
        const auto at = seen.find("data: ");
        return at != std::string::npos && seen.find("\n\n", at) != std::string::npos;
    }));
    CHECK(seen.find(R"(data: {"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":{"group":"custom","identifier":"main","status":-4,"old_status":1}})"
                    "\n\n") != std::string::npos);

    SUBCASE("an unknown event name is 404") {
        HttpClient other(server.port());
        CHECK(other.request(boost::beast::http::verb::get, "/events?event=E_NOPE").result_int() == 404);
    }
    SUBCASE("POST /events is 405") {
        HttpClient other(server.port());
        auto res = other.request(boost::beast::http::verb::post, "/events", "{}");
        CHECK(res.result_int() == 405);
        CHECK(res[boost::beast::http::field::allow] == "GET");
    }
}

TEST_CASE("E_CORE_SHM_THRESHOLD once per upward crossing, and the store limit is enforced") {
    auto config = srmi::test::conformance_config();
    config.registry_memory_limit = 1000;
    config.event_shm_threshold = 50;
    TestServer server(config);
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_SHM_THRESHOLD", udp.socket(), 60});
    const std::string hundred(100, 'x');
    const auto baseline = server.server().registry().store_bytes();  // core's details, e.g. "running"

    for (int i = 0; i < 30; ++i) result(client, "sr_add_report", {"custom", hundred});
    auto event = udp.next("E_CORE_SHM_THRESHOLD");
    CHECK(event["params"]["threshold"] == 50);
    CHECK(event["params"]["size"] == 1000);
    CHECK(event["params"]["usage"].get<int>() >= 50);
    CHECK(event["params"]["used"].get<std::uint64_t>() >= 500);
    CHECK_FALSE(event["params"].contains("pid"));
    CHECK_FALSE(udp.receive().has_value());  // still above: not raised again

    // 30 reports of 100 bytes do not fit in 1000: the oldest went first.
    CHECK(server.server().registry().store_bytes() <= 1000);
    auto reports = result(client, "sr_list_reports", {"custom", "main"});
    CHECK(reports.size() == (1000 - baseline) / 100);
}

TEST_CASE("E_CORE_PKG_THRESHOLD when the heap crosses its share of pkg_memory_size") {
#ifdef SRMI_SANITIZED
    // The heap is measured with glibc's mallinfo2 (server/observe/memory_watch.cpp);
    // ASan and TSan replace malloc, so glibc's arenas hold next to nothing and
    // the threshold is never crossed. Normal builds run this test.
    MESSAGE("skipped in sanitizer builds: the sanitizer replaces malloc, so mallinfo2 sees no heap");
#else
    auto config = srmi::test::conformance_config();
    config.pkg_memory_size = 1024;  // any real heap is far above 1 %
    config.event_pkg_threshold = 1;
    TestServer server(config);
    HttpClient client(server.port());
    UdpReceiver udp;
    result(client, "event_subscribe", {"E_CORE_PKG_THRESHOLD", udp.socket(), 60});
    auto event = udp.next("E_CORE_PKG_THRESHOLD");  // sampled every second
    CHECK(event["params"]["threshold"] == 1);
    CHECK(event["params"]["size"] == 1024);
    CHECK(event["params"]["usage"].get<int>() >= 1);
    CHECK(event["params"]["pid"] == static_cast<int>(::getpid()));
#endif
}

TEST_CASE("E_PROFILING_PROC traces each request when profiling_proc is on") {
    auto config = srmi::test::conformance_config();
    config.profiling_proc = "off";
    TestServer server(config);
    HttpClient client(server.port());
    UdpReceiver udp;
    srmi::test::check_events_list(result(client, "events_list")["Events"],
                                  {"E_PROFILING_PROC", "E_SRMI_REPORT_ADDED"});
    result(client, "event_subscribe", {"E_PROFILING_PROC", udp.socket(), 60});
    CHECK(result(client, "profiling_proc") == json{{"state", "off"}});
    result(client, "version");
    CHECK_FALSE(udp.receive().has_value());  // off: nothing

    CHECK(result(client, "profiling_proc", {"on"}) == "OK");
    call(client, "sr_get_status", {"nope"});
    // profiling_proc's own end record may come first; then the four of the call.
    std::vector<json> records;
    while (records.size() < 4) {
        auto message = udp.next("E_PROFILING_PROC");
        if (message["params"]["verb"] == "start") records.clear();
        records.push_back(message["params"]);
    }
    CHECK(records[0]["verb"] == "start");
    CHECK(records[0]["name"] == "HTTP POST /mi");
    CHECK(records[0]["depth"] == 0);
    CHECK_FALSE(records[0].contains("status"));
    CHECK(records[1]["verb"] == "enter");
    CHECK(records[1]["name"] == "sr_get_status");
    CHECK(records[1]["depth"] == 1);
    CHECK(records[1].contains("file"));
    CHECK(records[1].contains("line"));
    CHECK(records[2]["verb"] == "exit");
    CHECK(records[2]["depth"] == 0);
    CHECK(records[2]["status"] == 404);
    CHECK(records[3]["verb"] == "end");
    CHECK(records[3]["status"] == 200);
    for (const auto& r : records) {
        CHECK(r["session"] == records[0]["session"]);
        CHECK(r["type"] == 1);
        CHECK(r["sec"].is_number_integer());
        CHECK(r["usec"].get<int>() < 1'000'000);
    }
    CHECK(error(client, "profiling_proc", {"sideways"})["code"] == -32602);
}

TEST_CASE("E_CORE_PROC_AUTO_SCALE as the worker pool follows the load") {
    auto config = srmi::test::conformance_config();
    config.min_workers = 1;
    config.max_workers = 2;
    config.exec_threshold_us = 0;
    TestServer server(config);
    UdpReceiver udp;
    {
        HttpClient client(server.port());
        result(client, "event_subscribe", {"E_CORE_PROC_AUTO_SCALE", udp.socket(), 60});
        // Listing a full registry keeps one worker busy; several clients queue behind it.
        for (int i = 0; i < 50; ++i) result(client, "sr_add_report", {"custom", std::string(1000, 'x')});
    }
    std::atomic<bool> done{false};
    std::vector<std::jthread> load;  // joined on every way out of the test
    for (int c = 0; c < 6; ++c) {
        load.emplace_back([&] {
            try {
                HttpClient client(server.port());
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
                while (!done && std::chrono::steady_clock::now() < deadline) {
                    client.post(R"({"jsonrpc":"2.0","method":"sr_list_reports","id":1})");
                }
            } catch (const std::exception&) {
                // A failed load client only means less load; the event is what is tested.
            }
        });
    }
    auto up = udp.next("E_CORE_PROC_AUTO_SCALE", std::chrono::seconds(20));
    done = true;
    load.clear();
    CHECK(up["params"]["scale"] == "up");
    CHECK(up["params"]["group_type"] == "workers");
    CHECK(up["params"]["group_filter"] == "jsonrpc handlers");
    CHECK(up["params"]["process_id"] == 1);
    CHECK(up["params"]["group_load"].get<int>() >= 80);
    CHECK(up["params"]["pid"] == static_cast<int>(::getpid()));

    // Idle again: the pool gives the worker back (after about a second).
    auto down = udp.next("E_CORE_PROC_AUTO_SCALE", std::chrono::seconds(20));
    CHECK(down["params"]["scale"] == "down");
    CHECK(down["params"]["group_load"].get<int>() <= 20);
}

TEST_CASE("a subscriber that never reads costs only its own events") {
    auto config = srmi::test::conformance_config();
    config.event_queue_limit = 16;
    config.history_changes = 16;  // this case is about events: no 100 MB of kept details
    TestServer server(config);
    HttpClient client(server.port());

    // Accepts the connection, then never reads: the kernel buffers fill up.
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    const std::string socket = "tcp:127.0.0.1:" + std::to_string(port);
    // An hour's lifetime: the 10 000 changes below take minutes in a sanitizer build, and a
    // subscription that expired meanwhile would look like one dropped for not reading.
    result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", socket, 3600});
    UdpReceiver udp;  // a healthy subscriber beside it
    result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", udp.socket(), 3600});

    result(client, "sr_set_status", {{"group", "custom"}, {"status", 2}, {"details", std::string(60000, 'd')}});
    boost::asio::ip::tcp::socket stuck(ioc);
    acceptor.accept(stuck);

    // 200 batches of 50 changes: every request is answered all the same.
    int answered = 0;
    for (int batch = 0; batch < 200; ++batch) {
        json requests = json::array();
        for (int i = 0; i < 50; ++i) {
            const int status = (batch * 50 + i) % 2 == 0 ? -1 : 3;
            requests.push_back({{"jsonrpc", "2.0"}, {"method", "sr_set_status"}, {"id", i},
                                {"params", {{"group", "custom"}, {"status", status}, {"details", std::string(10000, 'd')}}}});
        }
        auto res = client.post(requests.dump());
        if (res.result_int() == 200 && json::parse(res.body()).size() == 50) ++answered;
    }
    CHECK(answered == 200);
    CHECK(wait_until([&] {
        auto list = result(client, "subscribers_list", {"E_CORE_SR_STATUS_CHANGED", socket});
        return list["Event"]["Subscribers"][0]["dropped"].get<std::uint64_t>() > 0;
    }));
    // The healthy subscriber still hears the latest change.
    result(client, "sr_set_status", {"custom", "7"});
    bool heard = false;
    for (int i = 0; i < 20000 && !heard; ++i) {
        auto text = udp.receive();
        if (!text) break;
        heard = json::parse(*text)["params"]["status"] == 7;
    }
    CHECK(heard);
}

TEST_CASE("event_filter: ?event= values are %-decoded, '+' is a space there") {
    srmi::core::EventHub hub(
        [](std::string_view) -> std::variant<std::shared_ptr<srmi::core::EventSink>, std::string> {
            return std::string("no transports here");
        });
    REQUIRE(hub.publish("E_A") == 0);
    REQUIRE(hub.publish("E B+C") == 1);
    using Ids = std::vector<int>;
    auto filter = [&](std::string_view target) { return srmi::server::event_filter(target, hub); };
    CHECK(std::get<Ids>(filter("/events")).empty());
    CHECK(std::get<Ids>(filter("/events?event=E_A&other=1&event=E+B%2BC")) == Ids{0, 1});
    CHECK(std::get<Ids>(filter("/events?event=%45_A")) == Ids{0});
    CHECK(std::get<Ids>(filter("/events?event")).empty());  // no value: not a filter
    CHECK(std::get<std::string>(filter("/events?event=E%20B%2bC%2")) ==
          "the request target is not a URL path and query");  // a malformed %XX
    CHECK(std::get<std::string>(filter("/events?event=E+A")) == "unknown event 'E A'");
}
