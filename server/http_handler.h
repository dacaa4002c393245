// handle_request: one HTTP request in, one HTTP response out; no sockets here.
#pragma once

#include <string>
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
class AccessControl;

/// `probes` may be null (no probe paths then), and so may `metrics` (no
/// /metrics then) and `access` (no credentials asked then). `client_cn` is the
/// Common Name of the client's verified TLS certificate, if it sent one.
Response handle_request(const Request& request, const rpc::Dispatcher& dispatcher,
                        const ProbeContext* probes = nullptr, const Metrics* metrics = nullptr,
                        const AccessControl* access = nullptr, std::string_view client_cn = {});

inline constexpr std::string_view kRpcPath = "/mi";
inline constexpr std::string_view kEventsPath = "/events";
inline constexpr std::string_view kMetricsPath = "/metrics";

/// The path of a request target, without query or fragment.
std::string_view path_of(std::string_view target);

/// 405 for `request`, with the `Allow` header naming what the path accepts.
Response method_not_allowed(const Request& request, std::string_view allow);

/// GET or HEAD: the methods of every read-only page (probes, metrics, dashboard).
inline bool is_get_or_head(const Request& request) {
    return request.method() == http::verb::get || request.method() == http::verb::head;
}

/// A `no-store` answer of `content_type` with `body`, for the read-only pages.
Response page_response(const Request& request, http::status status, std::string_view content_type,
                       std::string body);

/// %XX decoding of a URL component; '+' becomes a space only in query values.
std::string url_decode(std::string_view text, bool plus_is_space);

/// A plain-text error response (400, 404, 405, 413, ...) for `version`.
Response error_response(http::status status, unsigned version, bool keep_alive);

}  // namespace srmi::server
