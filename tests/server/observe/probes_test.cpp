// Health-check probes without sockets: every core state, every answer.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/core_status.h"
#include "rpc/dispatcher.h"
#include "server/http/router.h"
#include "server/observe/probes.h"

namespace {

namespace http = boost::beast::http;
using nlohmann::json;

struct ProbeFixture {
    srmi::core::Registry registry;
    srmi::core::CoreStatus core{registry};
    srmi::rpc::Dispatcher dispatcher;
    srmi::server::ProbeContext probes{registry, {"db"}};

    ProbeFixture() {
        registry.add_group("db", srmi::core::Visibility::kPublic,
                           {srmi::core::IdentifierSpec{"main", -1, std::string("unknown"), 50},
                            srmi::core::IdentifierSpec{"replica", 1, std::nullopt, 50}});
        registry.add_group("web", srmi::core::Visibility::kPublic);
    }

    srmi::server::Response get(const std::string& target, http::verb verb = http::verb::get) {
        srmi::server::Request req{verb, target, 11};
        return srmi::server::handle_request(req, dispatcher, &probes);
    }
    json body(const std::string& target) { return json::parse(get(target).body()); }
    int code(const std::string& target) { return static_cast<int>(get(target).result_int()); }
};

}  // namespace

TEST_CASE_FIXTURE(ProbeFixture, "probe answers through the core life cycle") {
    SUBCASE("created, not started: alive, not ready") {
        CHECK(code("/livez") == 200);
        CHECK(code("/readyz") == 503);
        CHECK(body("/readyz") == json{{"status", "failed"}, {"failed", {"core", "db"}}});
    }
    SUBCASE("running, a required group not ready") {
        core.running();
        CHECK(code("/readyz") == 503);
        CHECK(body("/readyz")["failed"] == json::array({"db"}));
        registry.set_status("db", "main", 2);
        CHECK(code("/readyz") == 200);
        CHECK(body("/readyz") == json{{"status", "ok"}});
        CHECK(body("/readyz?verbose")["checks"] ==
              json::array({{{"name", "core"}, {"ok", true}, {"status", 1}},
                           {{"name", "db"}, {"ok", true}, {"status", 1}}}));
    }
    SUBCASE("shutting down: neither alive nor ready") {
        core.running();
        core.terminating();
        CHECK(code("/livez") == 503);
        CHECK(body("/livez?verbose") ==
              json{{"status", "failed"}, {"checks", {{{"name", "core"}, {"ok", false}, {"status", -2}}}}});
        CHECK(code("/readyz") == 503);
    }
}

TEST_CASE_FIXTURE(ProbeFixture, "/health/{group}[/{identifier}]") {
    CHECK(code("/health/web") == 200);
    CHECK(body("/health/WEB") == json{{"group", "web"}, {"identifier", "main"}, {"status", 1}, {"readiness", true}});
    CHECK(code("/health/db") == 503);
    CHECK(body("/health/db") ==
          json{{"group", "db"}, {"identifier", "main"}, {"status", -1}, {"readiness", false}, {"details", "unknown"}});
    CHECK(code("/health/db/replica") == 200);
    CHECK(code("/health/db/all") == 503);
    CHECK(body("/health/db/all")["details"] == "aggregated");
    CHECK(code("/health/nope") == 404);
    CHECK(body("/health/nope") == json{{"error", "Group not found"}});
    CHECK(code("/health/db/nope") == 404);
    CHECK(code("/health/core") == 503);  // core at -100 until running
    CHECK(code("/health/") == 404);
    CHECK(code("/health/db/main/more") == 404);
}

TEST_CASE_FIXTURE(ProbeFixture, "/health/ segments are %-decoded; '+' is itself in a path") {
    registry.add_group("a b+c", srmi::core::Visibility::kPublic,
                       {srmi::core::IdentifierSpec{"x/y", 1, std::nullopt, 50}});
    CHECK(body("/health/a%20b+c/x%2Fy") ==
          json{{"group", "a b+c"}, {"identifier", "x/y"}, {"status", 1}, {"readiness", true}});
    CHECK(code("/health/w%65b") == 200);
    CHECK(code("/health/a+b+c/x%2Fy") == 404);
    CHECK(code("/health/a%20b+c/x/y") == 404);  // a '/' of its own ends the identifier
    CHECK(code("/health/w%6") == 404);          // a malformed %XX: not a URL path
    CHECK(code("/health/web?verbose") == 200);

    auto res = get("/health/web");
    CHECK(res[http::field::cache_control] == "no-store");
    CHECK(res[http::field::content_type] == "application/json");
}

TEST_CASE_FIXTURE(ProbeFixture, "HEAD works on every probe; other methods are refused") {
    for (const char* target : {"/livez", "/readyz", "/health/web", "/health/db"}) {
        CAPTURE(target);
        auto head = get(target, http::verb::head);
        auto full = get(target);
        CHECK(head.result() == full.result());
        CHECK(head.body().empty());
        CHECK(head[http::field::content_length] == std::to_string(full.body().size()));
        auto post = get(target, http::verb::post);
        CHECK(post.result() == http::status::method_not_allowed);
        CHECK(post[http::field::allow] == "GET, HEAD");
    }
}
