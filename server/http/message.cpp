// The answers every page shares: errors, 405s, no-store pages; the path of a target.
#include "server/http/message.h"

#include <algorithm>

#include <boost/url/parse.hpp>

namespace srmi::server {

namespace {

// RFC 3986's pchar without percent-encodings, and '/': a target made only of
// these is an origin-form path as it stands.
bool plain_path_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '/': case '-': case '.': case '_': case '~': case '!': case '$': case '&':
        case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
        case ':': case '@':
            return true;
        default:
            return false;
    }
}

}  // namespace

std::string_view path_of(std::string_view target) {
    // Nearly every request's target is a plain path such as /mi: it is its
    // own path, and Boost.URL is asked only about the others.
    if (!target.empty() && target.front() == '/' &&
        std::all_of(target.begin(), target.end(), plain_path_char)) {
        return target;
    }
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) return {};
    const std::string_view path = url->encoded_path();
    return path;  // a view of `target`, which url_view only points into
}

Response error_response(http::status status, unsigned version, bool keep_alive) {
    Response res{status, version};
    res.set(http::field::server, kServerName);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(keep_alive);
    res.body() = std::string(http::obsolete_reason(status)) + "\n";
    res.prepare_payload();
    return res;
}

Response method_not_allowed(const Request& request, std::string_view allow) {
    auto res =
        error_response(http::status::method_not_allowed, request.version(), request.keep_alive());
    res.set(http::field::allow, allow);
    return res;
}

Response page_response(const Request& request, http::status status, std::string_view content_type,
                       std::string body) {
    Response res{status, request.version()};
    res.set(http::field::server, kServerName);
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(request.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

}  // namespace srmi::server
