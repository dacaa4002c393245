// fuzz_rpc: the JSON-RPC layer, text in, text out, over every real method of
// the server (status/report, events, profiling, core) and a real registry.
//
// Each input gets a fresh registry, hub and dispatcher, so a crash replays
// from its input alone. Invariants checked besides ASan/UBSan's: handle()
// never throws; parse_json reads every input as nlohmann does (simdjson's
// reading and the fallback to nlohmann's SAX parser alike); the answer, when
// there is one, is valid JSON: one JSON-RPC
// answer object ("jsonrpc":"2.0", an id, a result or an error), or a non-empty
// array of them; and a single request with a string or number id gets it back.
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/core_status.h"
#include "core/event_hub.h"
#include "core/registry.h"
#include "fuzz/null_sink.h"
#include "rpc/dispatcher.h"
#include "rpc/json_parse.h"
#include "rpc/methods.h"
#include "tests/support/same_json.h"

namespace {

using srmi::core::IdentifierSpec;
using srmi::core::Visibility;

/// What one input runs against; built as the server builds it (server.cpp).
struct World {
    srmi::core::Registry registry{srmi::fuzz::fixed_clock};
    srmi::core::CoreStatus core{registry};
    srmi::core::EventHub hub{srmi::fuzz::null_sink_factory(), srmi::fuzz::fixed_clock};
    std::atomic<bool> profiling{false};
    srmi::rpc::Dispatcher dispatcher;

    World() {
        core.initializing();
        registry.set_store_limit(64 * 1024);  // eviction is reachable within -max_len
        registry.add_group("custom", Visibility::kPublic);
        registry.add_group("db", Visibility::kPublic,
                           {IdentifierSpec{"main", 1, std::nullopt, 50},
                            IdentifierSpec{"replica-1", -1, std::string("syncing"), 2},
                            IdentifierSpec{"no-reports", 1, std::nullopt, 0}});
        hub.publish("E_CORE_SR_STATUS_CHANGED");
        hub.publish("E_CORE_THRESHOLD");
        hub.publish("E_SRMI_REPORT_ADDED");
        srmi::rpc::add_status_report_methods(dispatcher, registry);
        srmi::rpc::add_event_methods(dispatcher, hub);
        srmi::rpc::add_profiling_methods(dispatcher, profiling);
        srmi::rpc::add_core_methods(dispatcher, srmi::rpc::ServerInfo{"srmi fuzz", 1700000000});
        core.running();
    }
};

/// Says which invariant broke (libFuzzer shows it above the stack), then
/// crashes so that libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, const std::string& answer) {
    std::fprintf(stderr, "fuzz_rpc: %s:\n%s\n", what, answer.c_str());
    __builtin_trap();
}

bool is_answer(const nlohmann::json& value) {
    if (!value.is_object()) return false;
    const auto version = value.find("jsonrpc");
    if (version == value.end() || *version != "2.0" || !value.contains("id")) return false;
    return value.contains("result") != value.contains("error");  // exactly one of them
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(
        spdlog::level::off);  // method failures log; the fuzzer's output stays readable
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    // The dispatcher's reader against nlohmann's parser: the same verdict and
    // the same tree (parse_json refuses what nests deeper than its bound).
    if (!srmi::rpc::nests_deeper_than(body, 1000)) {
        const auto theirs = srmi::rpc::Json::parse(body, nullptr, /*allow_exceptions=*/false);
        srmi::rpc::Json ours;
        const bool accepted = srmi::rpc::parse_json(body, ours, 1000);
        if (accepted == theirs.is_discarded())
            fail("parse_json and nlohmann disagree on", std::string(body));
        if (accepted && !srmi::test::same_json(ours, theirs))
            fail("parse_json made another tree of", std::string(body));
    }

    World world;
    const auto answer = world.dispatcher.handle(body);  // declared never to throw
    if (!answer) return 0;

    const auto parsed = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) fail("an answer that is not JSON", *answer);
    if (parsed.is_array()) {
        if (parsed.empty()) fail("an empty batch answer", *answer);  // JSON-RPC 2.0: never []
        for (const auto& element : parsed) {
            if (!is_answer(element)) fail("a batch element that is no JSON-RPC answer", *answer);
        }
    } else if (!is_answer(parsed)) {
        fail("no JSON-RPC answer", *answer);
    }

    // A single request with a usable id gets it back, unchanged; unless it
    // was refused whole, unread, for nesting too deep (then the id is null, as
    // for a parse error).
    const auto request = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    const bool refused_unread = parsed.is_object() && parsed.contains("error") &&
                                parsed["id"].is_null() && parsed["error"]["code"] == -32600 &&
                                parsed["error"].contains("data");
    if (request.is_object() && !refused_unread) {
        const auto id = request.find("id");
        if (id != request.end() && (id->is_string() || id->is_number())) {
            if (!parsed.is_object() || parsed["id"] != *id)
                fail("the answer has another id", *answer);
        }
    }
    return 0;
}
