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

class Comparator {
public:
    std::vector<std::string> mismatches;

    void compare(const json& expected, const json& actual, const std::string& path) {
        if (expected.is_object() && actual.is_object()) return compare_objects(expected, actual, path);
        if (expected.is_array() && actual.is_array()) {
            json want = expected;
            if (is_group_list(want)) std::reverse(want.begin(), want.end());
            if (want.size() != actual.size()) {
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
        comparator.compare(c["body"], actual, "$");
        std::string report;
        for (const auto& m : comparator.mismatches) report += m + "\n";
        CAPTURE(report);
        CHECK(comparator.mismatches.empty());
        ++replayed;
    }
    CHECK(replayed == cases.size());
}
