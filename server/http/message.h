// The HTTP request and response types, and the answers every page shares.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

namespace srmi::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

inline constexpr std::string_view kRpcPath = "/mi";
inline constexpr std::string_view kEventsPath = "/events";
inline constexpr std::string_view kMetricsPath = "/metrics";

/// The path of a request target, still %-encoded: the target must be RFC 3986
/// origin-form ("/path?query", read by Boost.URL's parse_origin_form); for any
/// other (absolute-form, '*', a malformed %XX) it is empty, which no page answers.
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

/// A plain-text error response (400, 404, 405, 413, ...) for `version`.
Response error_response(http::status status, unsigned version, bool keep_alive);

/// The `Server` header of every answer.
inline constexpr std::string_view kServerName = "srmi";

}  // namespace srmi::server
