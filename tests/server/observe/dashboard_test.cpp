// The dashboard route (without sockets) and the srmi-only event that keeps its
// reports live (on the real server), with events_list left as OpenSIPS's.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/core_status.h"
#include "core/event_hub.h"
#include "rpc/methods.h"
#include "server/observe/dashboard.h"
#include "server/http/router.h"
#include "tests/support/test_server.h"
#include "tests/support/rpc_over_http.h"
#include "tests/support/udp_receiver.h"

namespace {

namespace http = boost::beast::http;
using nlohmann::json;
using srmi::test::HttpClient;
using srmi::test::TestServer;

struct Fixture {
    srmi::core::Registry registry;
    srmi::core::CoreStatus core{registry};
    srmi::rpc::Dispatcher dispatcher;
    Fixture() { srmi::rpc::add_status_report_methods(dispatcher, registry); }

    srmi::server::Response call(http::verb verb, const std::string& target, const std::string& body = {}) {
        srmi::server::Request req{verb, target, 11};
        req.body() = body;
        if (!body.empty()) req.prepare_payload();
        return srmi::server::handle_request(req, dispatcher);
    }
};

using srmi::test::UdpReceiver;



}  // namespace

TEST_CASE("GET / serves the embedded dashboard page with a strict CSP") {
    Fixture f;
    for (const std::string target : {"/", "/index.html", "/?filter=x"}) {
        CAPTURE(target);
        auto res = f.call(http::verb::get, target);
        CHECK(res.result() == http::status::ok);
        CHECK(res[http::field::content_type] == "text/html; charset=utf-8");
        CHECK(res[http::field::cache_control] == "no-store");
        CHECK(res["X-Content-Type-Options"] == "nosniff");
        CHECK(res.body().rfind("<!doctype html>", 0) == 0);
        CHECK(res.body().find("new EventSource(") != std::string::npos);
        CHECK(res[http::field::content_length] == std::to_string(res.body().size()));

        const std::string csp(res["Content-Security-Policy"]);
        CHECK(csp == srmi::server::dashboard_csp());
        CHECK(csp.rfind("default-src 'none';", 0) == 0);
        CHECK(csp.find("script-src 'sha256-") != std::string::npos);
        CHECK(csp.find("style-src 'sha256-") != std::string::npos);
        CHECK(csp.find("connect-src 'self'") != std::string::npos);
        CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
        CHECK(csp.find("unsafe") == std::string::npos);
    }
}

TEST_CASE("HEAD / announces the page without a body; other methods are 405") {
    Fixture f;
    const auto page_size = f.call(http::verb::get, "/").body().size();
    SUBCASE("HEAD") {
        auto res = f.call(http::verb::head, "/");
        CHECK(res.result() == http::status::ok);
        CHECK(res.body().empty());
        CHECK(res[http::field::content_type] == "text/html; charset=utf-8");
        CHECK(res[http::field::content_length] == std::to_string(page_size));
    }
    SUBCASE("POST") {
        auto res = f.call(http::verb::post, "/", "{}");
        CHECK(res.result() == http::status::method_not_allowed);
        CHECK(res[http::field::allow] == "GET, HEAD");
    }
    SUBCASE("DELETE /index.html") {
        auto res = f.call(http::verb::delete_, "/index.html");
        CHECK(res.result() == http::status::method_not_allowed);
    }
    SUBCASE("other paths stay 404") {
        CHECK(f.call(http::verb::get, "/index.htm").result() == http::status::not_found);
        CHECK(f.call(http::verb::get, "/dashboard").result() == http::status::not_found);
    }
}

TEST_CASE("the page is served over the wire") {
    TestServer server;
    HttpClient client(server.port());
    auto res = client.request(http::verb::get, "/", {}, {});
    CHECK(res.result_int() == 200);
    CHECK(res.body().find("<title>srmi") != std::string::npos);
}

TEST_CASE("E_SRMI_REPORT_ADDED is raised for each report, and events_list lists it after OpenSIPS's seven") {
    TestServer server;
    HttpClient client(server.port());

    srmi::test::check_events_list(srmi::test::result(client, "events_list")["Events"]);

    SUBCASE("to a UDP subscriber, by name") {
        UdpReceiver udp;
        CHECK(srmi::test::result(client, "event_subscribe", {"E_SRMI_REPORT_ADDED", udp.socket(), 60}) == "OK");
        const auto before = static_cast<std::int64_t>(std::time(nullptr));
        srmi::test::result(client, "sr_add_report", {{"group", "custom"}, {"report", "disk \"full\""}});
        auto text = udp.receive();
        REQUIRE(text.has_value());
        auto event = json::parse(*text);
        CHECK(event["jsonrpc"] == "2.0");
        CHECK(event["method"] == "E_SRMI_REPORT_ADDED");
        CHECK(event["params"]["group"] == "custom");
        CHECK(event["params"]["identifier"] == "main");
        CHECK(event["params"]["log"] == "disk \"full\"");
        CHECK(event["params"]["timestamp"].get<std::int64_t>() >= before);
        // subscribers_list finds it by name, and events_list still shows it after OpenSIPS's seven.
        auto listed = srmi::test::result(client, "subscribers_list", {"E_SRMI_REPORT_ADDED"});
        CHECK(listed.dump().find(udp.socket()) != std::string::npos);
        srmi::test::check_events_list(srmi::test::result(client, "events_list")["Events"]);

        SUBCASE("a refused report raises nothing") {
            srmi::test::result(client, "sr_add_identifier", {{"group", "custom"}, {"identifier", "quiet"}, {"max_reports", 0}});
            auto answer = json::parse(client.post(R"({"jsonrpc":"2.0","method":"sr_add_report","params":{"group":"custom","identifier":"quiet","report":"x"},"id":2})").body());
            CHECK(answer.contains("error"));
            CHECK_FALSE(udp.receive().has_value());
        }
    }

    SUBCASE("to a Server-Sent Events stream, with the status changes the page follows") {
        HttpClient watcher(server.port());
        watcher.write_raw("GET /events?event=E_CORE_SR_STATUS_CHANGED&event=E_SRMI_REPORT_ADDED HTTP/1.1\r\n"
                          "Host: x\r\n\r\n");
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
        srmi::test::result(client, "sr_set_status", {{"group", "alarms"}, {"status", -2}, {"details", "smoke"}});
        srmi::test::result(client, "sr_add_report", {"alarms", "smoke in room 2"});
        REQUIRE(read_until([&] { return seen.find("\"log\":\"smoke in room 2\"}}\n\n") != std::string::npos; }));
        const auto status_at = seen.find(R"(data: {"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":{"group":"alarms","identifier":"main","status":-2,"details":"smoke","old_status":1}})");
        const auto report_at = seen.find(R"(data: {"jsonrpc":"2.0","method":"E_SRMI_REPORT_ADDED","params":{"group":"alarms","identifier":"main","timestamp":)");
        CHECK(status_at != std::string::npos);
        CHECK(report_at != std::string::npos);
        CHECK(status_at < report_at);
    }
}

TEST_CASE("Registry::on_report hears each added report, outside the registry's locks") {
    srmi::core::Registry registry([] { return std::int64_t{1'700'000'000}; });
    registry.add_group("custom", srmi::core::Visibility::kPublic);
    std::vector<std::string> heard;
    registry.on_report([&](const srmi::core::ReportAdded& r) {
        // Outside the identifier's lock: reading it back does not deadlock.
        auto reports = registry.list_reports(r.group, r.identifier);
        REQUIRE(reports);
        heard.push_back(std::string(r.group) + "/" + std::string(r.identifier) + "@" +
                        std::to_string(r.timestamp) + ":" + std::string(r.log) + " of " +
                        std::to_string(reports->size()));
    });
    CHECK(registry.add_report("CUSTOM", "MAIN", "one"));
    CHECK(registry.add_report("custom", "main", "two"));
    CHECK_FALSE(registry.add_report("custom", "nope", "lost"));
    CHECK(heard == std::vector<std::string>{"custom/main@1700000000:one of 1", "custom/main@1700000000:two of 2"});
}
