// Notifications: the rendered event is the JSON-RPC text OpenSIPS sends, and
// the same bytes as the tree-built form raise_event uses.
#include "rpc/notification.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

namespace {

using srmi::core::Event;
using srmi::core::EventParam;
using srmi::rpc::Json;

}  // namespace

TEST_CASE("render_notification writes the event's parameters in their order") {
    const std::array<EventParam, 4> params{{{"group", std::string_view("custom")},
                                            {"identifier", std::string_view("main")},
                                            {"status", std::int64_t{-3}},
                                            {"old_status", std::int64_t{1}}}};
    CHECK(
        *srmi::rpc::render_notification(Event{0, "E_CORE_SR_STATUS_CHANGED", params}) ==
        R"({"jsonrpc":"2.0","method":"E_CORE_SR_STATUS_CHANGED","params":{"group":"custom","identifier":"main","status":-3,"old_status":1}})");
    CHECK(*srmi::rpc::render_notification(Event{3, "E_X", {}}) ==
          R"({"jsonrpc":"2.0","method":"E_X","params":{}})");
}

TEST_CASE("render_notification and make_notification give the same bytes") {
    const std::string awkward =
        std::string("quote \" back\\slash\nnew line \x01 caf\xc3\xa9 bad \xff end");
    const std::array<EventParam, 5> params{{{"text", std::string_view(awkward)},
                                            {"negative", std::numeric_limits<std::int64_t>::min()},
                                            {"big", std::numeric_limits<std::uint64_t>::max()},
                                            {"zero", std::uint64_t{0}},
                                            {"empty", std::string_view()}}};
    Json tree = Json::object();
    tree["text"] = awkward;
    tree["negative"] = std::numeric_limits<std::int64_t>::min();
    tree["big"] = std::numeric_limits<std::uint64_t>::max();
    tree["zero"] = std::uint64_t{0};
    tree["empty"] = "";
    const auto rendered = srmi::rpc::render_notification(Event{1, "E_CORE_LOG", params});
    CHECK(*rendered == *srmi::rpc::make_notification("E_CORE_LOG", tree));
    CHECK(rendered->find("\\ufffd") == std::string::npos);  // replaced as UTF-8, not escaped
    CHECK(rendered->find("\xef\xbf\xbd") != std::string::npos);
}
