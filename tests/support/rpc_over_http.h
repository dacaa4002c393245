// JSON-RPC calls to the real server over an HttpClient, for the wire tests.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_server.h"

namespace srmi::test {

/// The whole answer to one request with id 1.
inline nlohmann::json call(HttpClient& client, const std::string& method,
                           const nlohmann::json& params = nullptr) {
    nlohmann::json request = {{"jsonrpc", "2.0"}, {"method", method}, {"id", 1}};
    if (!params.is_null()) request["params"] = params;
    auto res = client.post(request.dump());
    REQUIRE(res.result_int() == 200);
    return nlohmann::json::parse(res.body());
}

/// The `result` of a call that must succeed.
inline nlohmann::json result(HttpClient& client, const std::string& method,
                             const nlohmann::json& params = nullptr) {
    auto answer = call(client, method, params);
    REQUIRE_MESSAGE(answer.contains("result"), answer.dump());
    return answer["result"];
}

/// The `error` of a call that must fail.
inline nlohmann::json error(HttpClient& client, const std::string& method,
                            const nlohmann::json& params = nullptr) {
    auto answer = call(client, method, params);
    REQUIRE_MESSAGE(answer.contains("error"), answer.dump());
    return answer["error"];
}

/// OpenSIPS 3.6's events_list, ids 0..6 in this order.
inline constexpr std::array<std::string_view, 7> kCoreEvents = {
    "E_CORE_SR_STATUS_CHANGED", "E_CORE_THRESHOLD",      "E_CORE_SHM_THRESHOLD", "E_CORE_PKG_THRESHOLD",
    "E_CORE_PROC_AUTO_SCALE",   "E_CORE_TCP_DISCONNECT", "E_CORE_LOG"};

/// Checks that `events` (events_list's "Events") is OpenSIPS's seven at ids
/// 0..6, then exactly `more` at the ids after them: by default what a server
/// without profiling adds (E_PROFILING_PROC comes before it when loaded).
inline void check_events_list(const nlohmann::json& events,
                              std::vector<std::string_view> more = {"E_SRMI_REPORT_ADDED"}) {
    REQUIRE(events.size() == kCoreEvents.size() + more.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        CAPTURE(i);
        const auto name = i < kCoreEvents.size() ? kCoreEvents[i] : more[i - kCoreEvents.size()];
        CHECK(events[i]["name"] == name);
        CHECK(events[i]["id"] == i);
    }
}

}  // namespace srmi::test
