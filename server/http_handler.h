// handle_request: one HTTP request in, one HTTP response out; no sockets here.
#pragma once

#include <boost/beast/http.hpp>

#include "rpc/dispatcher.h"

namespace srmi::server {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

/// Routes a complete request: POST /mi to the dispatcher, everything else to
/// the right 4xx. Thread-safe as long as the dispatcher is no longer changed.
Response handle_request(const Request& request, const rpc::Dispatcher& dispatcher);

/// A plain-text error response (400, 404, 405, 413, ...) for `version`.
Response error_response(http::status status, unsigned version, bool keep_alive);

}  // namespace srmi::server
