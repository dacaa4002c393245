// Roles, group limits and request bounds as the dispatcher enforces them.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/event_hub.h"
#include "core/registry.h"
#include "tests/support/dispatcher_calls.h"
#include "rpc/dispatcher.h"
#include "rpc/methods.h"

using namespace srmi;
using json = nlohmann::ordered_json;

namespace {

/// Every real method over a registry with public groups db and web.
struct AccessFixture {
    core::Registry registry;
    core::EventHub hub{
        [](std::string_view) -> std::variant<std::shared_ptr<core::EventSink>, std::string> {
            return std::string("no delivery in this test");
        }};
    rpc::Dispatcher dispatcher;

    AccessFixture() {
        hub.publish("E_CORE_LOG");
        registry.add_group("db", core::Visibility::kPublic, {core::IdentifierSpec{}});
        registry.add_group("web", core::Visibility::kPublic, {core::IdentifierSpec{}});
        rpc::add_status_report_methods(dispatcher, registry);
        rpc::add_event_methods(dispatcher, hub);
        rpc::add_core_methods(dispatcher, rpc::ServerInfo{"srmi test", 0});
    }
    test::DispatcherCalls as(const rpc::Caller& caller) const {
        return test::DispatcherCalls(dispatcher, caller);
    }
};

struct NullSink : core::EventSink {
    void push(core::EventPayload) override {}
    std::uint64_t dropped() const override { return 0; }
    void close() override {}
};

void check_forbidden(const json& error) {
    CHECK(error["code"] == 403);
    CHECK(error["message"] == "Forbidden");
    CHECK(error.contains("data"));
}

}  // namespace

TEST_CASE("every method names its role; none is left at the admin default by accident") {
    AccessFixture f;
    for (const auto& method : f.dispatcher.methods()) {
        INFO(method.name);
        const bool writes = method.name == "sr_set_status" || method.name == "sr_add_report" ||
                            method.name == "sr_add_identifier" ||
                            method.name == "sr_remove_identifier";
        const bool admin = method.name == "event_subscribe" || method.name == "raise_event";
        CHECK(method.role == (admin    ? rpc::Role::kAdmin
                              : writes ? rpc::Role::kWrite
                                       : rpc::Role::kRead));
    }
}

TEST_CASE("a caller gets 403 Forbidden for a method beyond its role") {
    AccessFixture f;
    const rpc::Caller reader{rpc::Role::kRead, {}, "reader"};
    const rpc::Caller writer{rpc::Role::kWrite, {}, "writer"};
    const rpc::Caller admin{rpc::Role::kAdmin, {}, "admin"};

    SUBCASE("read: reads only") {
        auto calls = f.as(reader);
        CHECK(calls.result("sr_get_status", {{"group", "db"}})["Status"] == 1);
        CHECK(calls.result("sr_list_status").is_array());
        CHECK(calls.result("which").is_array());
        CHECK(calls.result("events_list").contains("Events"));
        check_forbidden(calls.error("sr_set_status", {{"group", "db"}, {"status", 5}}));
        check_forbidden(calls.error("sr_add_report", {{"group", "db"}, {"report", "x"}}));
        check_forbidden(calls.error("sr_add_identifier", {{"group", "db"}, {"identifier", "x"}}));
        check_forbidden(calls.error("event_subscribe",
                                    {{"event", "E_CORE_LOG"}, {"socket", "udp:127.0.0.1:9"}}));
        CHECK(calls.error("sr_set_status", {{"group", "db"}, {"status", 5}})["data"] ==
              "sr_set_status needs the write role");
        // Refused before anything ran: the status did not change.
        CHECK(calls.result("sr_get_status", {{"group", "db"}})["Status"] == 1);
    }
    SUBCASE("write: plus status, reports and identifiers, not subscriptions") {
        auto calls = f.as(writer);
        CHECK(calls.result("sr_set_status", {{"group", "db"}, {"status", 5}}) == "OK");
        CHECK(calls.result("sr_add_report", {{"group", "web"}, {"report", "up"}}) == "OK");
        CHECK(calls.result("sr_add_identifier", {{"group", "db"}, {"identifier", "replica"}}) ==
              "OK");
        CHECK(calls.result("sr_remove_identifier", {{"group", "db"}, {"identifier", "replica"}}) ==
              "OK");
        check_forbidden(calls.error("event_subscribe",
                                    {{"event", "E_CORE_LOG"}, {"socket", "udp:127.0.0.1:9"}}));
        check_forbidden(calls.error("raise_event", {{"event", "E_CORE_LOG"}}));
    }
    SUBCASE("admin: everything") {
        auto calls = f.as(admin);
        CHECK(calls.result("sr_set_status", {{"group", "db"}, {"status", 5}}) == "OK");
        // Past the role check: no subscriber, so nobody to raise it to.
        CHECK(calls.error("raise_event", {{"event", "E_CORE_LOG"}})["code"] == 480);
    }
    SUBCASE("the role is checked whatever the name the method is called by") {
        const json subscribe = {{"event", "E_CORE_LOG"}, {"socket", "udp:127.0.0.1:9"}};
        check_forbidden(f.as(reader).error("evi:subscribe", subscribe));
        check_forbidden(f.as(reader).error("subscribe", subscribe));
    }
    SUBCASE("unknown methods stay -32601, whatever the role") {
        CHECK(f.as(reader).error("no_such_method")["code"] == -32601);
    }
}

TEST_CASE("a caller limited to some groups writes those only, reads all") {
    AccessFixture f;
    const rpc::Caller producer{rpc::Role::kWrite, {"DB"}, "producer"};
    auto calls = f.as(producer);
    CHECK(calls.result("sr_set_status", {{"group", "db"}, {"status", 7}}) ==
          "OK");  // case-insensitive
    CHECK(calls.result("sr_add_report",
                       {{"group", "db"}, {"identifier", "main"}, {"report", "ok"}}) == "OK");
    check_forbidden(calls.error("sr_set_status", {{"group", "web"}, {"status", 7}}));
    check_forbidden(calls.error("sr_add_report", {{"group", "web"}, {"report", "x"}}));
    check_forbidden(calls.error("sr_add_identifier", {{"group", "web"}, {"identifier", "x"}}));
    check_forbidden(calls.error("sr_set_status", {{"group", 5}, {"status", 7}}));
    // Positional parameters are bound first, so the limit applies to them too.
    check_forbidden(calls.error("sr_set_status", json::array({"web", "main", 7, "details"})));
    CHECK(calls.result("sr_get_status", {{"group", "web"}})["Status"] == 1);
    CHECK(f.as(rpc::unrestricted_caller()).result("sr_get_status", {{"group", "web"}})["Status"] ==
          1);
}

TEST_CASE("a batch over max_batch is refused whole, with one -32600") {
    AccessFixture f;
    f.dispatcher.set_limits(rpc::DispatchLimits{3, 64});
    json batch = json::array();
    for (int i = 0; i < 4; ++i) {
        batch.push_back({{"jsonrpc", "2.0"},
                         {"method", "sr_set_status"},
                         {"params", {{"group", "db"}, {"status", 10 + i}}},
                         {"id", i}});
    }
    auto answer = json::parse(*f.dispatcher.handle(batch.dump()));
    REQUIRE(answer.is_object());
    CHECK(answer["error"]["code"] == -32600);
    CHECK(answer["error"]["data"] == "batch of 4 requests; at most 3 are answered");
    CHECK(answer["id"].is_null());
    CHECK(
        test::DispatcherCalls(f.dispatcher).result("sr_get_status", {{"group", "db"}})["Status"] ==
        1);

    batch.erase(3);
    auto three = json::parse(*f.dispatcher.handle(batch.dump()));
    CHECK(three.size() == 3);
}

TEST_CASE("JSON nested deeper than max_json_depth is refused without recursion") {
    AccessFixture f;
    SUBCASE("100 000 levels of arrays and of objects") {
        for (auto [open, close] : {std::pair{std::string("["), std::string("]")},
                                   std::pair{std::string("{\"a\":"), std::string("}")}}) {
            std::string body;
            for (int i = 0; i < 100000; ++i) body += open;
            body += "1";
            for (int i = 0; i < 100000; ++i) body += close;
            auto answer = json::parse(*f.dispatcher.handle(body));
            CHECK(answer["error"]["code"] == -32600);
            CHECK(answer["error"]["data"] == "nested deeper than 64 levels");
        }
    }
    SUBCASE("unterminated nesting is refused the same way") {
        auto answer = json::parse(*f.dispatcher.handle(std::string(1'000'000, '[')));
        CHECK(answer["error"]["code"] == -32600);
    }
    SUBCASE("brackets inside strings do not count") {
        f.dispatcher.set_limits(rpc::DispatchLimits{1000, 4});
        const std::string report = std::string(100, '[') + "\\\"{{{";
        json request = {{"jsonrpc", "2.0"},
                        {"method", "sr_add_report"},
                        {"params", {{"group", "db"}, {"report", report}}},
                        {"id", 1}};
        auto answer = json::parse(*f.dispatcher.handle(request.dump()));
        CHECK(answer["result"] == "OK");
    }
    SUBCASE("too deep is the verdict even where a syntax error comes first") {
        // The depth is judged on the text as a flat scan sees it, so where the
        // parser gives up first does not change the answer.
        f.dispatcher.set_limits(rpc::DispatchLimits{1000, 3});
        auto deep = json::parse(*f.dispatcher.handle(R"({"a":nope,"b":[[[[1]]]]})"));
        CHECK(deep["error"]["code"] == -32600);
        CHECK(deep["error"]["data"] == "nested deeper than 3 levels");
        auto shallow = json::parse(*f.dispatcher.handle(R"({"a":nope,"b":[[1]]})"));
        CHECK(shallow["error"]["code"] == -32700);
    }
    SUBCASE("at the limit is answered") {
        f.dispatcher.set_limits(rpc::DispatchLimits{1000, 3});
        // request object, params object, one array value: three levels.
        auto answer = json::parse(*f.dispatcher.handle(
            R"({"jsonrpc":"2.0","method":"sr_get_status","params":{"group":["db"]},"id":1})"));
        CHECK(answer["error"]["code"] != -32600);
        auto deeper = json::parse(*f.dispatcher.handle(
            R"({"jsonrpc":"2.0","method":"sr_get_status","params":{"group":[["db"]]},"id":1})"));
        CHECK(deeper["error"]["code"] == -32600);
    }
}

TEST_CASE("raise_event's params given as a string are held to the same depth") {
    AccessFixture f;
    // A subscriber, so that raise_event would go as far as building the event.
    f.hub.add_tap({0}, std::make_shared<NullSink>());
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    json request = {
        {"jsonrpc", "2.0"}, {"method", "raise_event"}, {"params", {"E_CORE_LOG", deep}}, {"id", 1}};
    auto answer = json::parse(*f.dispatcher.handle(request.dump()));
    CHECK(answer["error"]["code"] == -32602);
    request["params"][1] = "[[1]]";
    answer = json::parse(*f.dispatcher.handle(request.dump()));
    CHECK(answer["result"] == "OK");
}
