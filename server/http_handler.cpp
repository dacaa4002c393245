// handle_request: the HTTP surface of mi_http, answering where OpenSIPS hung.
#include "server/http_handler.h"

#include "server/access_control.h"
#include "server/dashboard.h"
#include "server/metrics.h"
#include "server/probes.h"

#include <cctype>
#include <string_view>

namespace srmi::server {

namespace {

constexpr std::string_view kServerName = "srmi";

}  // namespace

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
    auto res = error_response(http::status::method_not_allowed, request.version(), request.keep_alive());
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

namespace {

Response route(const Request& request, const rpc::Dispatcher& dispatcher, const ProbeContext* probes,
               const Metrics* metrics, const AccessControl* access, std::string_view client_cn) {
    auto who = authorize(request, access, client_cn);
    if (auto* unauthorized = std::get_if<Response>(&who)) return std::move(*unauthorized);
    const rpc::Caller& caller = *std::get<const rpc::Caller*>(who);
    if (probes != nullptr) {
        if (auto answer = answer_probe(request, *probes)) return std::move(*answer);
    }
    const auto path = path_of(request.target());
    if (metrics != nullptr && path == kMetricsPath) return metrics_response(request, *metrics);
    if (auto answer = answer_dashboard(request)) return std::move(*answer);
    if (path == kEventsPath) {
        if (request.method() == http::verb::get) {  // only without an event hub
            return error_response(http::status::not_found, request.version(), request.keep_alive());
        }
        return method_not_allowed(request, "GET");
    }
    if (path != kRpcPath) return error_response(http::status::not_found, request.version(), request.keep_alive());
    if (request.method() != http::verb::post) {
        return method_not_allowed(request, "POST");
    }

    // The body is JSON whatever Content-Type says: curl -d sends form encoding.
    auto answer = dispatcher.handle(request.body(), caller);
    if (!answer) {
        Response res{http::status::no_content, request.version()};
        res.set(http::field::server, kServerName);
        res.keep_alive(request.keep_alive());
        return res;
    }
    Response res{http::status::ok, request.version()};
    res.set(http::field::server, kServerName);
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(request.keep_alive());
    res.body() = std::move(*answer);
    res.prepare_payload();
    return res;
}

}  // namespace

Response handle_request(const Request& request, const rpc::Dispatcher& dispatcher,
                        const ProbeContext* probes, const Metrics* metrics, const AccessControl* access,
                        std::string_view client_cn) {
    Response res = route(request, dispatcher, probes, metrics, access, client_cn);
    // A HEAD answer announces the length of the body it does not carry.
    if (request.method() == http::verb::head) res.body().clear();
    return res;
}

}  // namespace srmi::server
