// The sr_* methods through a Dispatcher over a Registry: result shapes, errors,
// positional forms and the writes of public groups.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <latch>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/core_status.h"
#include "core/registry.h"
#include "tests/support/dispatcher_calls.h"
#include "rpc/dispatcher.h"
#include "rpc/methods.h"

using namespace srmi;
// Ordered, so that the member order of the answers (OpenSIPS's) is checked too.
using json = nlohmann::ordered_json;

namespace {

constexpr std::int64_t kStart = 1'795'000'000;

/// Expected `Date` for a timestamp: ctime() in local time without the newline,
/// computed here independently of the production helper.
std::string ctime_of(std::int64_t timestamp) {
    const auto t = static_cast<std::time_t>(timestamp);
    std::string out = std::ctime(&t);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

json report(std::int64_t timestamp, const std::string& log) {
    return json{{"Timestamp", timestamp}, {"Date", ctime_of(timestamp)}, {"Log", log}};
}

/// core (running), then public groups custom {main, Edge} and alarms {main,
/// silent (takes no reports)}, served by a dispatcher with the sr_* methods.
struct SrFixture : test::DispatcherCalls {
    std::int64_t now = kStart;
    core::Registry registry{[this] { return now; }};
    core::CoreStatus core_status{registry};
    rpc::Dispatcher dispatcher;

    SrFixture() : test::DispatcherCalls(dispatcher) {
        core_status.initializing();
        now = kStart + 1;
        core_status.running();
        registry.add_group("custom", core::Visibility::kPublic,
                           {core::IdentifierSpec{"main", 1, std::nullopt, 50},
                            core::IdentifierSpec{"Edge", -5, "warming up", 50}});
        registry.add_group("alarms", core::Visibility::kPublic,
                           {core::IdentifierSpec{"main", 2, "quiet", 50},
                            core::IdentifierSpec{"silent", 1, std::nullopt, 0}});
        rpc::add_status_report_methods(dispatcher, registry);
        now = kStart + 100;
    }

    json status_of(const std::string& group, const std::string& identifier = "main") const {
        return result("sr_get_status", {{"group", group}, {"identifier", identifier}});
    }
};

json rpc_error(int code, const std::string& message) {
    return json{{"code", code}, {"message", message}};
}

json invalid_params(const std::string& data) {
    return json{{"code", -32602}, {"message", "Invalid params"}, {"data", data}};
}

const json kGroupNotFound = rpc_error(404, "Group not found");
const json kIdentifierNotFound = rpc_error(404, "Identifier not found");
const json kForbidden = rpc_error(403, "Forbidden");

const json kCoreRunning{{"Readiness", true}, {"Status", 1}, {"Details", "running"}};

json core_reports() {
    return json::array({report(kStart, "initializing"),
                        report(kStart + 1, "initialization completed, ready now")});
}

}  // namespace

TEST_CASE_FIXTURE(SrFixture, "sr_get_status answers Readiness, Status and Details") {
    SUBCASE("group only means main") {
        CHECK(result("sr_get_status", {{"group", "core"}}) == kCoreRunning);
        CHECK(result("sr_get_status", {{"group", "alarms"}}) ==
              json{{"Readiness", true}, {"Status", 2}, {"Details", "quiet"}});
    }
    SUBCASE("no details: no Details key") {
        CHECK(result("sr_get_status", {{"group", "custom"}}) ==
              json{{"Readiness", true}, {"Status", 1}});
    }
    SUBCASE("named identifier, any case") {
        CHECK(result("sr_get_status", {{"group", "CUSTOM"}, {"identifier", "edge"}}) ==
              json{{"Readiness", false}, {"Status", -5}, {"Details", "warming up"}});
    }
    SUBCASE("identifier all aggregates") {
        CHECK(status_of("custom", "all") ==
              json{{"Readiness", false}, {"Status", -1}, {"Details", "aggregated"}});
        CHECK(status_of("alarms", "ALL") ==
              json{{"Readiness", true}, {"Status", 1}, {"Details", "aggregated"}});
    }
    SUBCASE("positional forms") {
        CHECK(result("sr_get_status", {"core"}) == kCoreRunning);
        CHECK(result("sr_get_status", {"custom", "Edge"})["Status"] == -5);
    }
    SUBCASE("the status_report:get alias and the short name get") {
        CHECK(result("status_report:get", {{"group", "core"}}) == kCoreRunning);
        CHECK(result("get", {"core"}) == kCoreRunning);
    }
    SUBCASE("errors") {
        CHECK(error("sr_get_status", {{"group", "nope"}}) == kGroupNotFound);
        CHECK(error("sr_get_status", {{"group", 5}}) == kGroupNotFound);
        CHECK(error("sr_get_status", {{"group", nullptr}, {"identifier", "main"}}) ==
              kGroupNotFound);
        CHECK(error("sr_get_status", {{"group", "nope"}, {"identifier", "all"}}) == kGroupNotFound);
        CHECK(error("sr_get_status", {{"group", "custom"}, {"identifier", "nope"}}) ==
              rpc_error(404, "Identity not found"));
        CHECK(error("sr_get_status", {{"group", "custom"}, {"identifier", 1}}) ==
              rpc_error(404, "Identity not found"));
        CHECK(error("sr_get_status") == invalid_params("Too few or too many parameters"));
        CHECK(error("sr_get_status", {{"grp", "core"}}) ==
              invalid_params("Named parameters do not match"));
        CHECK(error("sr_get_status", {{"identifier", "main"}}) ==
              invalid_params("Named parameters do not match"));
    }
}

TEST_CASE_FIXTURE(SrFixture, "sr_list_status lists groups in registration order") {
    const json custom_ids = json::array(
        {json{{"Name", "main"}, {"Readiness", true}, {"Status", 1}},
         json{{"Name", "Edge"}, {"Readiness", false}, {"Status", -5}, {"Details", "warming up"}}});
    const json alarms_ids = json::array(
        {json{{"Name", "main"}, {"Readiness", true}, {"Status", 2}, {"Details", "quiet"}},
         json{{"Name", "silent"}, {"Readiness", true}, {"Status", 1}}});
    const json all = json::array(
        {json{
             {"Name", "core"},
             {"Identifiers",
              json::array({json{
                  {"Name", "main"}, {"Readiness", true}, {"Status", 1}, {"Details", "running"}}})}},
         json{{"Name", "custom"}, {"Identifiers", custom_ids}},
         json{{"Name", "alarms"}, {"Identifiers", alarms_ids}}});

    SUBCASE("every group") {
        CHECK(result("sr_list_status") == all);
        CHECK(result("sr_list_status", json::object()) == all);
        CHECK(result("sr_list_status", json::array()) == all);
        CHECK(result("status_report:status") == all);
    }
    SUBCASE("one group") {
        CHECK(result("sr_list_status", {{"group", "Custom"}}) == custom_ids);
        CHECK(result("sr_list_status", {"alarms"}) == alarms_ids);
    }
    SUBCASE("errors") {
        CHECK(error("sr_list_status", {{"group", "nope"}}) == kGroupNotFound);
        CHECK(error("sr_list_status", {{"group", json::array({"custom"})}}) == kGroupNotFound);
        CHECK(error("sr_list_status", {"a", "b"}) ==
              invalid_params("Too few or too many parameters"));
    }
}

TEST_CASE_FIXTURE(SrFixture,
                  "the listing of every group follows each change made since the one before") {
    // The listing keeps what it made of each group while the group is
    // unchanged; each group's part must equal that group's own listing.
    auto check_listing = [&] {
        const json all = result("sr_list_status");
        REQUIRE(all.size() == 3);
        for (const auto& group : all) {
            CHECK(group["Identifiers"] == result("sr_list_status", json::array({group["Name"]})));
        }
        return all;
    };
    check_listing();
    REQUIRE(result("sr_set_status", {{"group", "custom"}, {"status", -7}}) == "OK");
    CHECK(check_listing()[1]["Identifiers"][0]["Status"] == -7);
    // The same status with other details is a change too.
    REQUIRE(result("sr_set_status", {{"group", "custom"}, {"status", -7}, {"details", "new"}}) ==
            "OK");
    CHECK(check_listing()[1]["Identifiers"][0]["Details"] == "new");
    REQUIRE(result("sr_add_identifier", {"alarms", "late"}) == "OK");
    CHECK(check_listing()[2]["Identifiers"].size() == 3);
    REQUIRE(result("sr_remove_identifier", {"alarms", "silent"}) == "OK");
    CHECK(check_listing()[2]["Identifiers"].size() == 2);
    core_status.terminating();
    const json core = result("sr_get_status", {{"group", "core"}});
    REQUIRE(core["Status"] != 1);
    CHECK(check_listing()[0]["Identifiers"][0]["Status"] == core["Status"]);
    // Unchanged, the same answer again.
    CHECK(result("sr_list_status") == check_listing());
}

TEST_CASE_FIXTURE(SrFixture,
                  "listings made while writers change the groups end up with the last state") {
    constexpr int kWrites = 2000;
    std::thread writer([&] {
        for (int i = 1; i <= kWrites; ++i) {
            (void)registry.set_status("custom", "Edge", i, "n" + std::to_string(i));
        }
    });
    for (int i = 0; i < 200; ++i) {
        const json all = result("sr_list_status");
        REQUIRE(all.size() == 3);
    }
    writer.join();
    const json all = result("sr_list_status");
    CHECK(all[1]["Identifiers"][1]["Status"] == kWrites);
    CHECK(all[1]["Identifiers"][1]["Details"] == "n" + std::to_string(kWrites));
}

TEST_CASE_FIXTURE(SrFixture, "sr_list_reports lists reports oldest first with ctime dates") {
    for (int i = 1; i <= 3; ++i) {
        now = kStart + 1000 * i;
        REQUIRE(registry.add_report("custom", "Edge", "edge " + std::to_string(i)).ok());
    }
    const json edge_reports =
        json::array({report(kStart + 1000, "edge 1"), report(kStart + 2000, "edge 2"),
                     report(kStart + 3000, "edge 3")});
    const json custom = json::array({json{{"Name", "main"}, {"Reports", json::array()}},
                                     json{{"Name", "Edge"}, {"Reports", edge_reports}}});
    const json alarms = json::array({json{{"Name", "main"}, {"Reports", json::array()}},
                                     json{{"Name", "silent"}, {"Reports", json::array()}}});

    SUBCASE("Date is the ctime form of Timestamp") {
        const json r = result("sr_list_reports", {{"group", "core"}, {"identifier", "main"}});
        REQUIRE(r.size() == 2);
        CHECK(r[0]["Timestamp"] == kStart);
        CHECK(r[0]["Date"] == ctime_of(kStart));
        CHECK(r[0]["Date"].get<std::string>().find('\n') == std::string::npos);
        CHECK(r[0]["Date"].get<std::string>().size() == 24);  // "Sun Nov 22 16:26:03 2026"
    }
    SUBCASE("group and identifier: an array of reports") {
        CHECK(result("sr_list_reports", {{"group", "core"}, {"identifier", "main"}}) ==
              core_reports());
        CHECK(result("sr_list_reports", {{"group", "CUSTOM"}, {"identifier", "edge"}}) ==
              edge_reports);
        CHECK(result("sr_list_reports", {"custom", "Edge"}) == edge_reports);
        CHECK(result("sr_list_reports", {{"group", "custom"}, {"identifier", "main"}}) ==
              json::array());
    }
    SUBCASE("group: an array of identifiers with their reports") {
        CHECK(result("sr_list_reports", {{"group", "custom"}}) == custom);
        CHECK(result("sr_list_reports", {"alarms"}) == alarms);
    }
    SUBCASE("no group: every group in registration order") {
        const json all =
            json::array({json{{"Name", "core"},
                              {"Identifiers",
                               json::array({json{{"Name", "main"}, {"Reports", core_reports()}}})}},
                         json{{"Name", "custom"}, {"Identifiers", custom}},
                         json{{"Name", "alarms"}, {"Identifiers", alarms}}});
        CHECK(result("sr_list_reports") == all);
        CHECK(result("status_report:reports", json::object()) == all);
    }
    SUBCASE("errors") {
        CHECK(error("sr_list_reports", {{"group", "nope"}}) == kGroupNotFound);
        CHECK(error("sr_list_reports", {{"group", "nope"}, {"identifier", "main"}}) ==
              kGroupNotFound);
        CHECK(error("sr_list_reports", {{"group", 3}}) == kGroupNotFound);
        CHECK(error("sr_list_reports", {{"group", "custom"}, {"identifier", "nope"}}) ==
              kIdentifierNotFound);
        CHECK(error("sr_list_reports", {"custom", "nope"}) == kIdentifierNotFound);
    }
}

TEST_CASE_FIXTURE(SrFixture, "sr_list_identifiers lists identifier names") {
    const json custom{{"Group", "custom"}, {"Identifiers", json::array({"main", "Edge"})}};

    SUBCASE("every group, in registration order") {
        const json all = json::array(
            {json{{"Group", "core"}, {"Identifiers", json::array({"main"})}}, custom,
             json{{"Group", "alarms"}, {"Identifiers", json::array({"main", "silent"})}}});
        CHECK(result("sr_list_identifiers") == all);
        CHECK(result("status_report:identifiers") == all);
    }
    SUBCASE("one group: a single object with the registered spelling") {
        CHECK(result("sr_list_identifiers", {{"group", "CUSTOM"}}) == custom);
        CHECK(result("sr_list_identifiers", {"custom"}) == custom);
    }
    SUBCASE("errors") {
        CHECK(error("sr_list_identifiers", {{"group", "nope"}}) == kGroupNotFound);
        CHECK(error("sr_list_identifiers", {{"group", true}}) == kGroupNotFound);
    }
}

TEST_CASE_FIXTURE(SrFixture, "sr_set_status changes public groups") {
    SUBCASE("group and status") {
        CHECK(result("sr_set_status", {{"group", "custom"}, {"status", -3}}) == "OK");
        CHECK(status_of("custom") == json{{"Readiness", false}, {"Status", -3}});
    }
    SUBCASE("with details") {
        CHECK(result("sr_set_status",
                     {{"group", "Custom"}, {"status", 4}, {"details", "all good"}}) == "OK");
        CHECK(status_of("custom") ==
              json{{"Readiness", true}, {"Status", 4}, {"Details", "all good"}});
    }
    SUBCASE("with identifier") {
        CHECK(result("sr_set_status",
                     {{"group", "custom"}, {"identifier", "EDGE"}, {"status", 3}}) == "OK");
        CHECK(status_of("custom", "Edge") == json{{"Readiness", true}, {"Status", 3}});
        CHECK(status_of("custom") == json{{"Readiness", true}, {"Status", 1}});  // main untouched
    }
    SUBCASE("with identifier and details") {
        CHECK(result("sr_set_status", {{"group", "custom"},
                                       {"identifier", "Edge"},
                                       {"status", -8},
                                       {"details", "broken"}}) == "OK");
        CHECK(status_of("custom", "Edge") ==
              json{{"Readiness", false}, {"Status", -8}, {"Details", "broken"}});
    }
    SUBCASE("a set without details clears them") {
        CHECK(result("sr_set_status",
                     {{"group", "custom"}, {"identifier", "Edge"}, {"status", -5}}) == "OK");
        CHECK(status_of("custom", "Edge") == json{{"Readiness", false}, {"Status", -5}});
    }
    SUBCASE("status 0 is stored as 1") {
        CHECK(result("sr_set_status", {{"group", "alarms"}, {"status", 0}}) == "OK");
        CHECK(status_of("alarms") == json{{"Readiness", true}, {"Status", 1}});
    }
    SUBCASE("positional forms") {
        CHECK(result("sr_set_status", {"custom", -2}) == "OK");
        CHECK(status_of("custom") == json{{"Readiness", false}, {"Status", -2}});
        CHECK(result("sr_set_status", {"custom", "Edge", 6, "six"}) == "OK");
        CHECK(status_of("custom", "Edge") ==
              json{{"Readiness", true}, {"Status", 6}, {"Details", "six"}});
        // {group, status, details} and {group, identifier, status} have the same length.
        CHECK(error("sr_set_status", {"custom", 2, "x"}) == invalid_params("Ambiguous call"));
    }
    SUBCASE("status as decimal text, as opensips-mi sends it") {
        CHECK(result("sr_set_status", {{"group", "custom"}, {"status", "2"}}) == "OK");
        CHECK(status_of("custom")["Status"] == 2);
        CHECK(result("sr_set_status", {"custom", "-7"}) == "OK");
        CHECK(status_of("custom")["Status"] == -7);
    }
    SUBCASE("status that is not an integer") {
        for (const json& bad : {json("2x"), json("1.5"), json(2.5), json(true), json(""),
                                json(nullptr), json::array({1}), json("x2"), json(3'000'000'000LL),
                                json(-3'000'000'000LL), json("2147483648")}) {
            CAPTURE(bad.dump());
            const json e = error("sr_set_status", {{"group", "custom"}, {"status", bad}});
            CHECK(e["code"] == -32602);
            CHECK(e["message"] == "Invalid params");
            REQUIRE(e.contains("data"));
            CHECK(e["data"].get<std::string>().find("status") != std::string::npos);
        }
        CHECK(status_of("custom")["Status"] == 1);
    }
    SUBCASE("details that are not a string") {
        const json e = error("sr_set_status", {{"group", "custom"}, {"status", 2}, {"details", 5}});
        CHECK(e["code"] == -32602);
        CHECK(e["message"] == "Invalid params");
        REQUIRE(e.contains("data"));
        CHECK(e["data"].get<std::string>().find("details") != std::string::npos);
        CHECK(status_of("custom")["Status"] == 1);
    }
    SUBCASE("errors") {
        CHECK(error("sr_set_status", {{"group", "nope"}, {"status", 1}}) == kGroupNotFound);
        CHECK(error("sr_set_status", {{"group", 7}, {"status", 1}}) == kGroupNotFound);
        CHECK(
            error("sr_set_status", {{"group", "custom"}, {"identifier", "nope"}, {"status", 1}}) ==
            kIdentifierNotFound);
        CHECK(error("sr_set_status", {{"group", "custom"}, {"identifier", 1}, {"status", 1}}) ==
              kIdentifierNotFound);
        CHECK(error("sr_set_status", {{"group", "core"}, {"status", -1}}) == kForbidden);
        CHECK(error("sr_set_status", {{"group", "CORE"}, {"status", 1}, {"details", "x"}}) ==
              kForbidden);
        CHECK(status_of("core") == kCoreRunning);
        CHECK(error("sr_set_status", {{"group", "custom"}}) ==
              invalid_params("Too few or too many parameters"));
    }
}

TEST_CASE_FIXTURE(SrFixture, "sr_add_report appends to public groups") {
    SUBCASE("to main, stamped by the registry clock") {
        CHECK(result("sr_add_report", {{"group", "custom"}, {"report", "hello"}}) == "OK");
        now = kStart + 200;
        CHECK(result("sr_add_report", {"CUSTOM", "world"}) == "OK");
        CHECK(result("sr_list_reports", {"custom", "main"}) ==
              json::array({report(kStart + 100, "hello"), report(kStart + 200, "world")}));
    }
    SUBCASE("to a named identifier") {
        CHECK(result("sr_add_report",
                     {{"group", "custom"}, {"identifier", "edge"}, {"report", "r1"}}) == "OK");
        CHECK(result("sr_add_report", {"custom", "Edge", "r2"}) == "OK");
        CHECK(result("sr_list_reports", {"custom", "Edge"}) ==
              json::array({report(kStart + 100, "r1"), report(kStart + 100, "r2")}));
        CHECK(result("sr_list_reports", {"custom", "main"}) == json::array());
    }
    SUBCASE("report that is not a string") {
        for (const json& bad : {json(5), json(nullptr), json::object(), json(false)}) {
            CAPTURE(bad.dump());
            const json e = error("sr_add_report", {{"group", "custom"}, {"report", bad}});
            CHECK(e["code"] == -32602);
            CHECK(e["message"] == "Invalid params");
            REQUIRE(e.contains("data"));
            CHECK(e["data"].get<std::string>().find("report") != std::string::npos);
        }
        CHECK(result("sr_list_reports", {"custom", "main"}) == json::array());
    }
    SUBCASE("errors") {
        CHECK(error("sr_add_report", {{"group", "nope"}, {"report", "x"}}) == kGroupNotFound);
        CHECK(error("sr_add_report", {{"group", json::object()}, {"report", "x"}}) ==
              kGroupNotFound);
        CHECK(error("sr_add_report",
                    {{"group", "custom"}, {"identifier", "nope"}, {"report", "x"}}) ==
              kIdentifierNotFound);
        CHECK(error("sr_add_report", {{"group", "core"}, {"report", "x"}}) == kForbidden);
        CHECK(error("sr_add_report",
                    {{"group", "alarms"}, {"identifier", "SILENT"}, {"report", "x"}}) ==
              rpc_error(400, "Identifier does not accept reports"));
        CHECK(result("sr_list_reports", {"core", "main"}) == core_reports());
        CHECK(error("sr_add_report", {{"group", "custom"}, {"text", "x"}}) ==
              invalid_params("Named parameters do not match"));
    }
}

TEST_CASE_FIXTURE(SrFixture, "the sr_* methods register their flat names and aliases") {
    std::vector<std::string> names;
    for (const auto& m : dispatcher.methods()) names.push_back(m.name);
    CHECK(names == std::vector<std::string>{"sr_get_status", "sr_check_status", "sr_list_status",
                                            "sr_list_reports", "sr_list_identifiers",
                                            "sr_set_status", "sr_add_report", "sr_add_identifier",
                                            "sr_remove_identifier"});
    for (const char* alias : {"status_report:get", "status_report:status", "status_report:reports",
                              "status_report:identifiers"}) {
        CAPTURE(alias);
        CHECK(std::holds_alternative<const rpc::Method*>(dispatcher.resolve(alias)));
    }
}

TEST_CASE_FIXTURE(SrFixture, "sr_check_status answers the status integer") {
    CHECK(result("sr_check_status", {"custom"}) == 1);
    CHECK(result("sr_check_status", {"custom", "Edge"}) == -5);
    CHECK(result("sr_check_status", {"CUSTOM", "all"}) == -1);
    CHECK(result("sr_check_status", {{"group", "core"}}) == 1);
    CHECK(error("sr_check_status", {"nope"}) ==
          json{{"code", 404}, {"message", "Group not found"}});
    CHECK(error("sr_check_status", {"custom", "nope"}) ==
          json{{"code", 404}, {"message", "Identity not found"}});
}

TEST_CASE_FIXTURE(SrFixture, "identifiers added and removed at run time") {
    SUBCASE("added with defaults, then used by every method") {
        CHECK(result("sr_add_identifier", {"custom", "backend-1"}) == "OK");
        CHECK(result("sr_list_identifiers", {"custom"})["Identifiers"] ==
              json::array({"main", "Edge", "backend-1"}));
        CHECK(result("sr_get_status", {"custom", "BACKEND-1"}) ==
              json{{"Readiness", true}, {"Status", 1}});
        CHECK(result("sr_set_status",
                     {{"group", "custom"}, {"identifier", "backend-1"}, {"status", -2}}) == "OK");
        CHECK(result("sr_add_report", {"custom", "backend-1", "down"}) == "OK");
        CHECK(result("sr_list_reports", {"custom", "backend-1"}).size() == 1);
        CHECK(result("sr_check_status", {"custom", "all"}) == -1);
    }
    SUBCASE("with status, details and max_reports, named or positional") {
        CHECK(result("sr_add_identifier", {{"group", "alarms"},
                                           {"identifier", "disk"},
                                           {"status", "-1"},
                                           {"details", "unknown"},
                                           {"max_reports", 1}}) == "OK");
        CHECK(result("sr_get_status", {"alarms", "disk"}) ==
              json{{"Readiness", false}, {"Status", -1}, {"Details", "unknown"}});
        result("sr_add_report", {"alarms", "disk", "a"});
        result("sr_add_report", {"alarms", "disk", "b"});
        CHECK(result("sr_list_reports", {"alarms", "disk"}).size() == 1);
        CHECK(result("sr_add_identifier", {"alarms", "cpu", 3, "hot", 5}) == "OK");
        CHECK(result("sr_check_status", {"alarms", "cpu"}) == 3);
    }
    SUBCASE("errors") {
        CHECK(error("sr_add_identifier", {"custom", "EDGE"}) ==
              json{{"code", 409}, {"message", "Identifier already exists"}});
        CHECK(error("sr_add_identifier", {"core", "x"}) ==
              json{{"code", 403}, {"message", "Forbidden"}});
        CHECK(error("sr_add_identifier", {"nope", "x"}) ==
              json{{"code", 404}, {"message", "Group not found"}});
        CHECK(error("sr_add_identifier", {"custom", ""})["code"] == -32602);
        CHECK(error("sr_add_identifier",
                    {{"group", "custom"}, {"identifier", "x"}, {"max_reports", -1}})["code"] ==
              -32602);
        CHECK(error("sr_add_identifier",
                    {{"group", "custom"}, {"identifier", "x"}, {"status", "up"}})["code"] ==
              -32602);
        CHECK(error("sr_remove_identifier", {"custom", "nope"}) ==
              json{{"code", 404}, {"message", "Identifier not found"}});
        CHECK(error("sr_remove_identifier", {"core", "main"}) ==
              json{{"code", 403}, {"message", "Forbidden"}});
    }
    SUBCASE("main may go while another identifier remains, the last one may not") {
        CHECK(result("sr_remove_identifier", {"custom", "main"}) == "OK");
        CHECK(result("sr_list_identifiers", {"custom"})["Identifiers"] == json::array({"Edge"}));
        CHECK(error("sr_get_status", {"custom"}) ==
              json{{"code", 404}, {"message", "Identity not found"}});
        CHECK(error("sr_remove_identifier", {"custom", "edge"}) ==
              json{{"code", 400}, {"message", "Cannot remove the last identifier of a group"}});
    }
}

TEST_CASE_FIXTURE(SrFixture,
                  "concurrent readers and writers of one identifier through the dispatcher") {
    // Every thread reads and writes custom/shared at once (a latch starts them
    // together), so the registry's per-identifier lock, the dispatcher and the
    // methods all run under contention; TSan (scripts/sanitize.sh thread)
    // checks the interleavings, the checks below the snapshots' consistency.
    constexpr int kThreads = 4;
    constexpr int kOperations = 20'000;
    constexpr std::size_t kMaxReports =
        8;  // a short ring: listing it stays cheap, eviction is constant
    REQUIRE(
        registry
            .add_identifier("custom", core::IdentifierSpec{"shared", 1, std::nullopt, kMaxReports})
            .ok());
    std::latch start(kThreads);
    std::array<int, kThreads> violations{};
    std::array<int, kThreads> status_writes{};

    auto body = [&](int t) {
        int& bad = violations[t];
        auto call = [&](const json& request) -> json {
            const auto text = dispatcher.handle(request.dump());
            if (!text) return json();
            auto answer = json::parse(*text, nullptr, false);
            if (answer.is_discarded() || !answer.contains("result")) ++bad;
            return answer.value("result", json());
        };
        auto request = [](const char* method, json params) {
            return json{
                {"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}, {"id", 1}};
        };
        start.arrive_and_wait();
        for (int i = 0; i < kOperations; ++i) {
            switch (i % 4) {
                case 0: {
                    const int status = (i / 4 + t) % 2 == 0 ? 2 : -3;
                    if (call(request("sr_set_status",
                                     {{"group", "custom"},
                                      {"identifier", "shared"},
                                      {"status", status},
                                      {"details", "status " + std::to_string(status)}})) != "OK") {
                        ++bad;
                    }
                    ++status_writes[t];
                    break;
                }
                case 1:
                    if (call(request("sr_add_report", {"custom", "shared",
                                                       "t" + std::to_string(t) + " " +
                                                           std::to_string(i)})) != "OK") {
                        ++bad;
                    }
                    break;
                case 2: {  // status and details are one snapshot: never one write's status with
                           // another's details
                    const json s = call(request("sr_get_status", {"custom", "shared"}));
                    const int status = s.value("Status", 0);
                    if (status == 1) {
                        if (s.contains("Details")) ++bad;  // the initial state
                    } else if ((status != 2 && status != -3) ||
                               s.value("Details", "") != "status " + std::to_string(status) ||
                               s.value("Readiness", false) != (status > 0)) {
                        ++bad;
                    }
                    break;
                }
                default: {  // at most max_reports, each thread's own in the order it added them
                    const json reports = call(request("sr_list_reports", {"custom", "shared"}));
                    if (!reports.is_array() || reports.size() > kMaxReports) ++bad;
                    std::array<int, kThreads> last;
                    last.fill(-1);
                    for (const auto& r : reports) {
                        const std::string log = r.value("Log", "");
                        const auto space = log.find(' ');
                        if (log.size() < 3 || log[0] != 't' || space == std::string::npos) {
                            ++bad;
                            continue;
                        }
                        const int writer = std::stoi(log.substr(1, space - 1));
                        const int n = std::stoi(log.substr(space + 1));
                        if (writer < 0 || writer >= kThreads || n <= last[writer])
                            ++bad;
                        else
                            last[writer] = n;
                    }
                    if (i % 64 == 3 && call(request("sr_list_status", json::array())).size() != 3)
                        ++bad;
                    break;
                }
            }
        }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back(body, t);
    for (auto& thread : threads) thread.join();

    for (int t = 0; t < kThreads; ++t) {
        CAPTURE(t);
        CHECK(violations[t] == 0);
        CHECK(status_writes[t] == kOperations / 4);
    }
    const json last = status_of("custom", "shared");
    CHECK((last["Status"] == 2 || last["Status"] == -3));
    CHECK(last["Details"] == "status " + std::to_string(last["Status"].get<int>()));
    CHECK(result("sr_list_reports", {"custom", "shared"}).size() == kMaxReports);
}

TEST_CASE_FIXTURE(SrFixture, "sr_status_history: time order, Date in UTC with milliseconds, ranges") {
    // Times chosen for the calendar: the epoch's first day, a leap day's last
    // millisecond, and the last second the parameters accept.
    rpc::Dispatcher history_dispatcher;
    rpc::add_status_report_methods(history_dispatcher, registry);
    rpc::add_history_methods(history_dispatcher, registry);
    const test::DispatcherCalls calls(history_dispatcher);
    const auto result = [&calls](const std::string& method, const json& params) {
        return calls.result(method, params);
    };
    std::int64_t clock_ms = 0;
    registry.set_millis_clock([&clock_ms] { return clock_ms; });
    // Every change kept, however old: 10 000 years.
    registry.set_history_limits({100, std::chrono::hours(24 * 366 * 10000)});
    registry.add_group("hist", core::Visibility::kPublic,
                       {core::IdentifierSpec{"main", 1, std::nullopt, 5}});
    clock_ms = 1'709'251'199'999;  // 2024-02-29T23:59:59.999Z
    CHECK(result("sr_set_status", {{"group", "hist"}, {"status", -2}, {"details", "down"}}) == "OK");
    clock_ms = 253'402'300'799'000;  // 9999-12-31T23:59:59.000Z
    CHECK(result("sr_set_status", {{"group", "hist"}, {"status", 3}}) == "OK");

    const json all = result("sr_status_history", {"hist", "main"});
    REQUIRE(all.size() == 3);
    CHECK(all[0] == json{{"Time", 0}, {"Date", "1970-01-01T00:00:00.000Z"}, {"Identifier", "main"},
                         {"Old", nullptr}, {"Status", 1}, {"Readiness", true}});
    CHECK(all[1] == json{{"Time", 1'709'251'199'999}, {"Date", "2024-02-29T23:59:59.999Z"},
                         {"Identifier", "main"}, {"Old", 1}, {"Status", -2}, {"Readiness", false},
                         {"Details", "down"}});
    CHECK(all[2]["Date"] == "9999-12-31T23:59:59.000Z");
    CHECK(all[2]["Old"] == -2);

    // since/until in seconds (fractions allowed) bound both ends, inclusive.
    CHECK(result("sr_status_history", {{"group", "hist"}, {"since", 1'709'251'199.999}}).size() == 2);
    CHECK(result("sr_status_history", {{"group", "hist"}, {"until", "1709251199.998"}}).size() == 1);
    CHECK(result("sr_status_history", {{"group", "hist"}, {"limit", 1}})[0]["Status"] == 3);
}
