// which, help, version, uptime through a Dispatcher.
#include <cstdint>
#include <ctime>
#include <regex>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "core/registry.h"
#include "rpc/dispatcher.h"
#include "rpc/methods.h"
#include "tests/support/dispatcher_calls.h"
#include "version.h"

using namespace srmi;
using json = nlohmann::ordered_json;

namespace {

constexpr std::int64_t kUpFor = 3600;

/// The server's table as the server builds it: core methods, then sr_* methods.
struct CoreFixture : test::DispatcherCalls {
    core::Registry registry;
    rpc::Dispatcher dispatcher;
    std::int64_t started_at = static_cast<std::int64_t>(std::time(nullptr)) - kUpFor;

    CoreFixture() : test::DispatcherCalls(dispatcher) {
        rpc::add_core_methods(dispatcher, rpc::ServerInfo{kServerString, started_at});
        rpc::add_status_report_methods(dispatcher, registry);
    }

    std::string help_of(const std::string& flat_name) const {
        for (const auto& m : dispatcher.methods()) {
            if (m.name == flat_name) return m.help;
        }
        FAIL("no method " << flat_name);
        return {};
    }
};

std::string ctime_of(std::int64_t timestamp) {
    const auto t = static_cast<std::time_t>(timestamp);
    std::string out = std::ctime(&t);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool looks_like_ctime(const std::string& text) {
    static const std::regex ctime_form(R"(^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4}$)");
    return std::regex_match(text, ctime_form);
}

const json kUnknownCommand{{"code", 404}, {"message", "unknown MI command"}};

}  // namespace

TEST_CASE_FIXTURE(CoreFixture, "which lists every flat method name in table order") {
    const json expected =
        json::array({"which", "help", "version", "uptime", "sr_get_status", "sr_check_status", "sr_list_status",
                     "sr_list_reports", "sr_list_identifiers", "sr_set_status", "sr_add_report",
                     "sr_add_identifier", "sr_remove_identifier"});
    CHECK(result("which") == expected);
    CHECK(result("core:which", json::array()) == expected);
    for (const auto& name : result("which")) {
        CHECK(name.get<std::string>().find(':') == std::string::npos);
    }
    CHECK(error("which", {"x"})["code"] == -32602);
}

TEST_CASE_FIXTURE(CoreFixture, "help describes a command") {
    SUBCASE("by flat name") {
        const json expected{{"Help", help_of("sr_get_status")}, {"Exported by", "core"}};
        // The text OpenSIPS 3.6 answers for this command.
        CHECK(help_of("sr_get_status") == "gets the status (only) of a 'status-report' group/identifier");
        CHECK(result("help", {{"mi_cmd", "sr_get_status"}}) == expected);
        CHECK(result("help", {"sr_get_status"}) == expected);
        CHECK(result("core:help", {{"mi_cmd", "sr_get_status"}}) == expected);
    }
    SUBCASE("by qualified or short name") {
        CHECK(result("help", {{"mi_cmd", "status_report:get"}}) ==
              json{{"Help", help_of("sr_get_status")}, {"Exported by", "core"}});
        CHECK(result("help", {{"mi_cmd", "core:uptime"}}) == json{{"Help", help_of("uptime")}, {"Exported by", "core"}});
        CHECK(result("help", {{"mi_cmd", "identifiers"}}) ==
              json{{"Help", help_of("sr_list_identifiers")}, {"Exported by", "core"}});
    }
    SUBCASE("of itself") {
        CHECK(result("help", {{"mi_cmd", "help"}})["Help"] == help_of("help"));
    }
    SUBCASE("unknown or non-string commands") {
        CHECK(error("help", {{"mi_cmd", "nope"}}) == kUnknownCommand);
        CHECK(error("help", {{"mi_cmd", "status_report:nope"}}) == kUnknownCommand);
        CHECK(error("help", {{"mi_cmd", 5}}) == kUnknownCommand);
        CHECK(error("help", {{"mi_cmd", nullptr}}) == kUnknownCommand);
    }
    SUBCASE("the parameter is required") {
        CHECK(error("help") ==
              json{{"code", -32602}, {"message", "Invalid params"}, {"data", "Too few or too many parameters"}});
    }
}

TEST_CASE_FIXTURE(CoreFixture, "version names the server") {
    const json r = result("version");
    REQUIRE(r.size() == 1);
    REQUIRE(r.contains("Server"));
    REQUIRE(r["Server"].is_string());
    const auto server = r["Server"].get<std::string>();
    CHECK(server.rfind("srmi ", 0) == 0);
    CHECK(server == kServerString);
    CHECK(server.find(kVersion) != std::string::npos);
    CHECK(result("core:version") == r);
}

TEST_CASE_FIXTURE(CoreFixture, "uptime reports now, start time and seconds up") {
    const json r = result("uptime");
    std::vector<std::string> keys;
    for (const auto& [key, value] : r.items()) keys.push_back(key);
    CHECK(keys == std::vector<std::string>{"Now", "Up since", "Up time"});

    CHECK(looks_like_ctime(r["Now"].get<std::string>()));
    CHECK(r["Up since"] == ctime_of(started_at));

    const auto up = r["Up time"].get<std::string>();
    std::smatch m;
    REQUIRE(std::regex_match(up, m, std::regex(R"(^([0-9]+) \[sec\]$)")));
    CHECK(std::stoll(m[1].str()) >= kUpFor);

    CHECK(result("core:uptime").contains("Up time"));
}
