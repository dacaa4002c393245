// fuzz_http: the server's HTTP request path without sockets. The input is
// what a client sends on one connection: it is parsed as HttpSession reads it
// (same body and header limits, need_more and end of input handled the same
// way, pipelined requests one after another), each complete request goes to
// handle_request with the server's probes, metrics, dashboard and dispatcher,
// and every answer must be a well-formed HTTP message.
//
// Each input gets a fresh server state (registry, hub, dispatcher, metrics),
// so a crash replays from its input alone.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/core_events.h"
#include "core/core_status.h"
#include "core/event_hub.h"
#include "core/registry.h"
#include "fuzz/null_sink.h"
#include "rpc/dispatcher.h"
#include "rpc/methods.h"
#include "rpc/notification.h"
#include "server/config.h"
#include "server/events/event_stream.h"
#include "server/http/router.h"
#include "server/observe/metrics.h"
#include "server/observe/probes.h"
#include "server/observe/profiler.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using srmi::core::IdentifierSpec;
using srmi::core::Visibility;
using srmi::server::Request;
using srmi::server::Response;

/// Requests answered per input at most (HttpSession has no such bound, but
/// -max_len already caps an input and this keeps one run short).
constexpr int kMaxRequests = 64;

/// The server's state, wired as Server's constructor wires it (server.cpp),
/// minus sockets, threads and the state file. A tap with a NullSink listens
/// to every event, so each raise builds its notification text.
struct World {
    srmi::core::Registry registry{srmi::fuzz::fixed_clock};
    srmi::core::EventHub hub{srmi::fuzz::null_sink_factory(), srmi::fuzz::fixed_clock};
    srmi::core::CoreEvents core_events{hub, srmi::rpc::render_notification, {.profiling = true}};
    srmi::core::CoreStatus core{registry};
    srmi::server::ProbeContext probes{registry, {"custom"}};
    srmi::server::Profiler profiler{core_events, true};
    srmi::rpc::Dispatcher dispatcher;
    std::unique_ptr<srmi::server::Metrics> metrics;

    World() {
        registry.set_store_limit(64 * 1024);
        registry.on_status_change([this](const srmi::core::StatusChange& c) { core_events.status_changed(c); });
        dispatcher.on_slow_call(std::chrono::microseconds(1), [this](const srmi::rpc::SlowCall& call) {
            core_events.threshold(call.method, call.micros, call.request);
        });
        dispatcher.on_call([this](const srmi::rpc::CallTrace& call) { profiler.trace(call); });
        registry.on_report([this](const srmi::core::ReportAdded& r) { core_events.report_added(r); });
        hub.add_tap({}, std::make_shared<srmi::fuzz::NullSink>());

        core.initializing();
        registry.add_group("custom", Visibility::kPublic);
        registry.add_group("db", Visibility::kPublic,
                           {IdentifierSpec{"main", 1, std::nullopt, 50},
                            IdentifierSpec{"replica-1", -1, std::string("syncing"), 2}});
        srmi::rpc::add_status_report_methods(dispatcher, registry);
        srmi::rpc::add_event_methods(dispatcher, hub);
        srmi::rpc::add_profiling_methods(dispatcher, profiler.enabled());
        srmi::rpc::add_core_methods(dispatcher, srmi::rpc::ServerInfo{"srmi fuzz", 1700000000});

        std::vector<std::string> methods;
        for (const auto& method : dispatcher.methods()) methods.push_back(method.name);
        metrics = std::make_unique<srmi::server::Metrics>(
            srmi::server::MetricSources{registry, hub, std::move(methods), [] { return std::int64_t{1}; }});
        dispatcher.on_call_done([m = metrics.get()](std::string_view method, int code, std::chrono::nanoseconds t) {
            m->record_call(method, code, t);
        });
        registry.on_status_change([m = metrics.get()](const srmi::core::StatusChange&) { m->record_status_change(); });
        hub.on_delivered([m = metrics.get()](int id, std::string_view transport) { m->record_delivery(id, transport); });
        core.running();
    }
};

/// Says which invariant broke (libFuzzer shows it above the stack), then
/// crashes so that libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, std::string_view text) {
    std::fprintf(stderr, "fuzz_http: %s:\n%.*s\n", what, static_cast<int>(text.size()), text.data());
    __builtin_trap();
}

/// An answer must serialise and read back as exactly one HTTP response, framed
/// so that a kept-alive connection can carry the next one: its own length,
/// no reading to the end of the connection. Traps otherwise.
template <class Message>
void check_wire(const Message& response, bool head) {
    std::ostringstream out;
    out << response;
    const std::string wire = out.str();

    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.eager(true);
    parser.skip(head);  // a HEAD answer announces a length it does not carry
    beast::error_code ec;
    const auto used = parser.put(net::buffer(wire), ec);
    if (ec == http::error::need_more && !response.keep_alive()) {
        parser.put_eof(ec);  // a closing answer may end with the connection
    }
    if (ec || used != wire.size() || !parser.is_done()) fail("the answer does not read back as one message", wire);
    if (parser.get().result_int() != response.result_int()) fail("the status does not read back", wire);
    if constexpr (std::is_same_v<typename Message::body_type, http::string_body>) {
        if (!head && parser.get().body() != response.body()) fail("the body does not read back", wire);
    }
}

/// The JSON-RPC answer of a POST /mi is one JSON text.
void check_rpc_answer(const Request& request, const Response& response) {
    if (request.method() != http::verb::post || srmi::server::path_of(request.target()) != "/mi") return;
    if (response.result() != http::status::ok) return;
    if (response[http::field::content_type] != "application/json") fail("a JSON-RPC answer that is not JSON", response.body());
    if (nlohmann::json::parse(response.body(), nullptr, false).is_discarded()) {
        fail("a JSON-RPC answer that is not JSON", response.body());
    }
}

/// HttpSession::on_read's answer to a request that could not be read (after
/// which it closes), or nothing when the connection just ends.
void reject(const http::request_parser<http::string_body>& parser, beast::error_code ec) {
    http::status status;
    if (ec == http::error::body_limit) {
        status = http::status::payload_too_large;
    } else if (ec == http::error::header_limit) {
        status = http::status::request_header_fields_too_large;
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        status = http::status::bad_request;
    } else {
        return;
    }
    const unsigned version = parser.is_header_done() ? parser.get().version() : 11;
    check_wire(srmi::server::error_response(status, version, false), false);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    World world;
    std::string_view rest(reinterpret_cast<const char*>(data), size);

    for (int n = 0; n < kMaxRequests && !rest.empty(); ++n) {
        // HttpSession::do_read: a new parser per request, the server's limits.
        http::request_parser<http::string_body> parser;
        parser.body_limit(srmi::server::kDefaultBodyLimit);
        beast::error_code ec;
        bool interim_sent = false;
        while (!parser.is_done()) {
            const auto used = parser.put(net::buffer(rest.data(), rest.size()), ec);
            rest.remove_prefix(used);
            if (parser.is_header_done() && !interim_sent) {
                interim_sent = true;  // on_header: the 100 Continue goes out first
                if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                    check_wire(http::response<http::empty_body>{http::status::continue_, parser.get().version()},
                               false);
                }
            }
            if (!ec && used == 0 && !parser.is_done()) ec = http::error::need_more;  // no progress
            if (ec == http::error::need_more) {
                if (used > 0 && !rest.empty()) continue;
                // The input is over: the client closed its end (beast's read does this).
                if (!parser.got_some()) return 0;  // end_of_stream between requests
                ec = {};
                parser.put_eof(ec);
                if (!ec && !parser.is_done()) fail("put_eof neither ended the request nor failed", {});
            }
            if (ec) break;
        }
        if (ec) {
            reject(parser, ec);
            return 0;
        }

        Request request = parser.release();
        const bool head = request.method() == http::verb::head;
        if (request.method() == http::verb::get && srmi::server::path_of(request.target()) == "/events") {
            // HttpSession hands the connection to an EventStream, or answers 404.
            auto filter = srmi::server::event_filter(request.target(), world.hub);
            if (std::holds_alternative<std::vector<int>>(filter)) return 0;
            auto res = srmi::server::error_response(http::status::not_found, request.version(), request.keep_alive());
            res.body() = std::get<std::string>(filter) + "\n";
            res.prepare_payload();
            check_wire(res, false);
            if (!res.keep_alive()) return 0;
            continue;
        }

        world.profiler.begin("HTTP " + std::string(request.method_string()) + " " +
                             std::string(srmi::server::path_of(request.target())));
        Response response = srmi::server::handle_request(request, world.dispatcher, &world.probes,
                                                         world.metrics.get());
        world.profiler.end(static_cast<int>(response.result_int()));

        check_wire(response, head);
        check_rpc_answer(request, response);
        if (!response.keep_alive()) return 0;  // HttpSession lingers, then closes
    }
    return 0;
}
