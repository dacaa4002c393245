// handle_request: one HTTP request in, one HTTP response out; no sockets here.
#pragma once

#include <string_view>

#include <boost/beast/http.hpp>

#include "rpc/dispatcher.h"

namespace srmi::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// Routes a complete request: POST /mi to the dispatcher, everything else to
/// the right 4xx. GET /events is not answered here: HttpSession hands the
/// connection to an EventStream before. Thread-safe as long as the dispatcher is no longer changed.
struct ProbeContext;
class Metrics;

/// `probes` may be null (no probe paths then), and so may `metrics` (no
/// /metrics then).
Response handle_request(const Request& request, const rpc::Dispatcher& dispatcher,
                        const ProbeContext* probes = nullptr, const Metrics* metrics = nullptr);

inline constexpr std::string_view kRpcPath = "/mi";
inline constexpr std::string_view kEventsPath = "/events";
inline constexpr std::string_view kMetricsPath = "/metrics";

/// The path of a request target, without query or fragment.
std::string_view path_of(std::string_view target);

/// A plain-text error response (400, 404, 405, 413, ...) for `version`.
Response error_response(http::status status, unsigned version, bool keep_alive);

}  // namespace srmi::server
