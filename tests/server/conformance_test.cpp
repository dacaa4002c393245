// Replays what OpenSIPS 3.6 answered (tests/data/opensips-3.6-observed.json,
// a copy of shared/conformance) against the real server over HTTP.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rpc/ctime_format.h"
#include "tests/support/test_server.h"

namespace {

using nlohmann::json;
using srmi::test::HttpClient;
using srmi::test::TestServer;

json load_cases() {
    std::ifstream in(std::string(SRMI_TEST_DATA_DIR) + "/opensips-3.6-observed.json");
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str())["cases"];
}

bool is_ctime(const std::string& s) {
    static const std::regex kCtime(R"(^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] \d\d:\d\d:\d\d \d{4}$)");
    return std::regex_match(s, kCtime);
}

// OpenSIPS lists groups newest first; srmi in registration order.
bool is_group_list(const json& v) {
    return v.is_array() && !v.empty() && v[0].is_object() && v[0].contains("Identifiers") &&
           (v[0].contains("Name") || v[0].contains("Group"));
}

// events_list is the one answer srmi may make longer than OpenSIPS's record:
// OpenSIPS itself lists more events as more modules are loaded, and srmi lists
// every event one can subscribe to (issue 16, item 8): OpenSIPS's seven at ids
// 0..6 first, then E_PROFILING_PROC when profiling is configured, then srmi's
// own E_SRMI_* events. An entry after the recorded ones must be one of these
// documented additions, at the id that follows.
bool is_srmi_event_addition(const json& entry, std::size_t index) {
    if (!entry.is_object() || entry.size() != 2 || !entry.contains("name") ||
        !entry["name"].is_string() || entry["id"] != index) {
        return false;
    }
    const auto name = entry["name"].get<std::string>();
    return name == "E_PROFILING_PROC" || name.rfind("E_SRMI_", 0) == 0;
}

class Comparator {
public:
    std::vector<std::string> mismatches;
    /// The path of events_list's array, when comparing that answer: there the
    /// recorded list must be an exact prefix of srmi's (see is_srmi_event_addition).
    std::string events_list_path;

    void compare(const json& expected, const json& actual, const std::string& path) {
        if (expected.is_object() && actual.is_object()) return compare_objects(expected, actual, path);
        if (expected.is_array() && actual.is_array()) {
            json want = expected;
            if (is_group_list(want)) std::reverse(want.begin(), want.end());
            std::size_t compared = actual.size();
            if (path == events_list_path && actual.size() > want.size()) {
                for (std::size_t i = want.size(); i < actual.size(); ++i) {
                    if (!is_srmi_event_addition(actual[i], i)) {
                        fail(path + "[" + std::to_string(i) + "]",
                             "not one of srmi's documented additions: " + actual[i].dump());
                    }
                }
                compared = want.size();
            }
            if (want.size() != compared) {
                return fail(path, "array of " + std::to_string(want.size()) + ", got " +
                                      std::to_string(actual.size()));
            }
            for (std::size_t i = 0; i < want.size(); ++i) {
                compare(want[i], actual[i], path + "[" + std::to_string(i) + "]");
            }
            return;
        }
        if (expected != actual) fail(path, "expected " + expected.dump() + ", got " + actual.dump());
    }

private:
    void fail(const std::string& path, const std::string& what) { mismatches.push_back(path + ": " + what); }

    void compare_objects(const json& expected, const json& actual, const std::string& path) {
        for (const auto& [key, value] : expected.items()) {
            if (!actual.contains(key)) {
                fail(path + "." + key, "missing");
                continue;
            }
            const auto& got = actual[key];
            const auto here = path + "." + key;
            if (key == "Timestamp") {
                if (!got.is_number_integer()) fail(here, "not an integer");
            } else if (key == "Date") {
                // Dates differ from the recorded run; they must render our own Timestamp.
                if (!actual.contains("Timestamp") || !got.is_string() ||
                    got != srmi::rpc::ctime_string(actual["Timestamp"].get<std::int64_t>())) {
                    fail(here, "not the ctime of Timestamp: " + got.dump());
                }
            } else if (key == "Now" || key == "Up since") {
                if (!got.is_string() || !is_ctime(got.get<std::string>())) fail(here, "not ctime: " + got.dump());
            } else if (key == "Up time") {
                if (!got.is_string() || !std::regex_match(got.get<std::string>(), std::regex(R"(^\d+ \[sec\]$)"))) {
                    fail(here, "not 'N [sec]': " + got.dump());
                }
            } else if (key == "Server") {
                if (!got.is_string() || got.get<std::string>().rfind("srmi ", 0) != 0) {
                    fail(here, "not an srmi version: " + got.dump());
                }
            } else {
                compare(value, got, here);
            }
        }
        for (const auto& [key, value] : actual.items()) {
            if (!expected.contains(key)) fail(path + "." + key, "unexpected member");
        }
    }
};

}  // namespace

TEST_CASE("srmi answers every recorded OpenSIPS 3.6 request as OpenSIPS did") {
    TestServer server;
    HttpClient client(server.port());

    // The recorded state: custom at -3 "warming up" with two reports.
    auto setup = [&](const std::string& body) {
        auto res = client.post(body);
        REQUIRE(res.result_int() == 200);
        REQUIRE(json::parse(res.body())["result"] == "OK");
    };
    setup(R"({"jsonrpc":"2.0","method":"sr_set_status","params":{"group":"custom","status":-3,"details":"warming up"},"id":1})");
    setup(R"({"jsonrpc":"2.0","method":"sr_add_report","params":{"group":"custom","report":"first report"},"id":2})");
    setup(R"({"jsonrpc":"2.0","method":"sr_add_report","params":{"group":"custom","report":"second report"},"id":3})");

    const json cases = load_cases();
    REQUIRE(cases.size() >= 40);
    std::size_t replayed = 0;
    for (const auto& c : cases) {
        const std::string name = c["name"];
        CAPTURE(name);
        REQUIRE(c["method"] == "POST");

        auto res = client.request(boost::beast::http::verb::post, c.value("path", "/mi"),
                                  c["request"].get<std::string>(), c.value("ctype", ""));
        CHECK(res.result_int() == c["status"].get<int>());
        CHECK(std::string(res[boost::beast::http::field::content_type]) == c["resp_ctype"].get<std::string>());

        const json actual = json::parse(res.body(), nullptr, false);
        REQUIRE_FALSE(actual.is_discarded());
        Comparator comparator;
        if (name == "events_list") comparator.events_list_path = "$.result.Events";
        comparator.compare(c["body"], actual, "$");
        std::string report;
        for (const auto& m : comparator.mismatches) report += m + "\n";
        CAPTURE(report);
        CHECK(comparator.mismatches.empty());
        ++replayed;
    }
    CHECK(replayed == cases.size());
}

TEST_CASE("the replay's comparator lets events_list grow only by srmi's documented additions") {
    const json recorded = {{"Events",
                            {{{"name", "E_CORE_SR_STATUS_CHANGED"}, {"id", 0}},
                             {{"name", "E_CORE_LOG"}, {"id", 1}}}}};
    auto mismatches = [&](const json& events, bool events_list) {
        Comparator comparator;
        if (events_list) comparator.events_list_path = "$.Events";
        comparator.compare(recorded, json{{"Events", events}}, "$");
        return comparator.mismatches.size();
    };
    json answer = recorded["Events"];
    CHECK(mismatches(answer, true) == 0);
    answer.push_back({{"name", "E_PROFILING_PROC"}, {"id", 2}});
    answer.push_back({{"name", "E_SRMI_REPORT_ADDED"}, {"id", 3}});
    CHECK(mismatches(answer, true) == 0);
    CHECK(mismatches(answer, false) == 1);  // any other answer: sizes must agree

    SUBCASE("an addition that is not srmi's") {
        answer.push_back({{"name", "E_OTHER"}, {"id", 4}});
        CHECK(mismatches(answer, true) == 1);
    }
    SUBCASE("an addition out of its id") {
        answer[3]["id"] = 7;
        CHECK(mismatches(answer, true) == 1);
    }
    SUBCASE("the recorded ones, changed") {
        answer[1]["id"] = 6;
        CHECK(mismatches(answer, true) == 1);
    }
    SUBCASE("fewer than recorded") {
        answer.erase(answer.begin() + 1, answer.end());
        CHECK(mismatches(answer, true) == 1);
    }
}
