// answer_dashboard: the page and its headers; the page itself is
// server/observe/dashboard/index.html, turned into dashboard_page.h by embed.cmake.
#include "server/observe/dashboard.h"

#include <string>

#include "dashboard_page.h"

namespace srmi::server {

namespace {

const std::string& csp() {
    static const std::string policy =
        "default-src 'none'; script-src '" + std::string(generated::kDashboardScriptHash) +
        "'; style-src '" + std::string(generated::kDashboardStyleHash) +
        "'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    return policy;
}

}  // namespace

std::string_view dashboard_csp() { return csp(); }

std::optional<Response> answer_dashboard(const Request& request) {
    const auto path = path_of(request.target());
    if (path != kDashboardPath && path != "/index.html") return std::nullopt;
    if (!is_get_or_head(request)) return method_not_allowed(request, "GET, HEAD");
    auto res = page_response(request, http::status::ok, "text/html; charset=utf-8",
                             std::string(generated::kDashboardHtml));
    res.set("Content-Security-Policy", csp());
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    return res;
}

}  // namespace srmi::server
