// The answers every page shares: errors, 405s, no-store pages; URL decoding.
#include "server/http/message.h"

#include <cctype>

namespace srmi::server {

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find_first_of("?#"));
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

std::string url_decode(std::string_view text, bool plus_is_space) {
    auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    auto value = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) && hex(text[i + 2])) {
            out += static_cast<char>(value(text[i + 1]) * 16 + value(text[i + 2]));
            i += 2;
        } else if (text[i] == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace srmi::server
