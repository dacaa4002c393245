// handle_request without sockets: routing, status codes and headers.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/core_status.h"
#include "rpc/methods.h"
#include "server/http/router.h"

namespace {

namespace http = boost::beast::http;
using srmi::server::Request;

struct Fixture {
    srmi::core::Registry registry;
    srmi::core::CoreStatus core{registry};
    srmi::rpc::Dispatcher dispatcher;
    Fixture() { srmi::rpc::add_status_report_methods(dispatcher, registry); }

    srmi::server::Response call(http::verb verb, const std::string& target, const std::string& body = {}) {
        Request req{verb, target, 11};
        req.body() = body;
        req.prepare_payload();
        return srmi::server::handle_request(req, dispatcher);
    }
};

}  // namespace

TEST_CASE("POST /mi answers JSON-RPC with 200 application/json") {
    Fixture f;
    auto res = f.call(http::verb::post, "/mi", R"({"jsonrpc":"2.0","method":"sr_get_status","params":["core"],"id":1})");
    CHECK(res.result() == http::status::ok);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(nlohmann::json::parse(res.body())["result"]["Status"] == -100);
    CHECK(res[http::field::content_length] == std::to_string(res.body().size()));
}

TEST_CASE("errors are answered with 200, as OpenSIPS does") {
    Fixture f;
    auto res = f.call(http::verb::post, "/mi", R"({"jsonrpc":"2.0","method":"nope","id":1})");
    CHECK(res.result() == http::status::ok);
    CHECK(nlohmann::json::parse(res.body())["error"]["code"] == -32601);
}

TEST_CASE("notifications only: 204 without a body") {
    Fixture f;
    auto res = f.call(http::verb::post, "/mi", R"({"jsonrpc":"2.0","method":"sr_list_status"})");
    CHECK(res.result() == http::status::no_content);
    CHECK(res.body().empty());
}

TEST_CASE("other methods and paths") {
    Fixture f;
    SUBCASE("GET /mi") {
        auto res = f.call(http::verb::get, "/mi");
        CHECK(res.result() == http::status::method_not_allowed);
        CHECK(res[http::field::allow] == "POST");
    }
    SUBCASE("HEAD /mi: no body, but the length it would have") {
        auto res = f.call(http::verb::head, "/mi");
        CHECK(res.result() == http::status::method_not_allowed);
        CHECK(res.body().empty());
        CHECK(res[http::field::content_length] != "0");
    }
    SUBCASE("unknown path") { CHECK(f.call(http::verb::post, "/json").result() == http::status::not_found); }
    SUBCASE("/mi/ is another path") { CHECK(f.call(http::verb::post, "/mi/").result() == http::status::not_found); }
    SUBCASE("query string ignored") { CHECK(f.call(http::verb::post, "/mi?a=b", "[]").result() == http::status::ok); }
}
