// handle_request: the HTTP surface of mi_http, answering where OpenSIPS hung.
#include "server/http/router.h"

#include "server/http/access_control.h"
#include "server/observe/dashboard.h"
#include "server/observe/metrics.h"
#include "server/observe/probes.h"

#include <string_view>

namespace srmi::server {

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
