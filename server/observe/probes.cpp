// Probes: a load balancer or kubelet reads the status code; people and
// dashboards read the JSON body, with every check listed under ?verbose, as
// the Kubernetes API server's probes do.
#include "server/observe/probes.h"

#include <iterator>
#include <string>
#include <string_view>

#include <boost/url/parse.hpp>
#include <nlohmann/json.hpp>

#include "core/core_status.h"

namespace srmi::server {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kHealthPrefix = "/health/";

/// Whether the target's query has `flag` ("?verbose", "?verbose=1").
bool has_flag(std::string_view target, std::string_view flag) {
    const auto url = boost::urls::parse_origin_form(target);
    return url && url->params().contains(flag);
}

Response json_response(const Request& request, http::status status, const Json& body) {
    return page_response(request, status, "application/json",
                         body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

int core_status(const core::Registry& registry) {
    auto status = registry.status("core");
    return status ? status->status : core::kStateNone;
}

/// /health/GROUP[/IDENTIFIER], each segment %-decoded ('+' is itself in a
/// path); an identifier may hold '/' as %2F.
Response health(const Request& request, const core::Registry& registry) {
    const boost::urls::url_view url = *boost::urls::parse_origin_form(request.target());
    const auto segments = url.segments();        // a view into `url`, which must outlive it
    auto segment = std::next(segments.begin());  // after "health"
    const std::string group = *segment++;
    const std::string identifier =
        segment == segments.end() ? std::string(core::kMainIdentifier) : std::string(*segment++);
    if (segment != segments.end()) {
        return json_response(request, http::status::not_found,
                             Json{{"error", "Identifier not found"}});
    }
    auto status = registry.status(group, identifier);
    if (!status) {
        Json body = Json::object();
        body["error"] = status.error() == core::Errc::group_not_found ? "Group not found" : "Identifier not found";
        return json_response(request, http::status::not_found, body);
    }
    Json body = Json::object();
    body["group"] = registry.list_identifiers(group) ? registry.list_identifiers(group)->name : group;
    body["identifier"] = status->name;
    body["status"] = status->status;
    body["readiness"] = status->ready();
    if (status->details) body["details"] = *status->details;
    return json_response(request, status->ready() ? http::status::ok : http::status::service_unavailable, body);
}

Response livez(const Request& request, const core::Registry& registry) {
    const int core = core_status(registry);
    const bool alive = core != core::kStateTerminating;
    Json body = Json::object();
    body["status"] = alive ? "ok" : "failed";
    if (has_flag(request.target(), "verbose")) {
        Json check = Json::object();
        check["name"] = "core";
        check["ok"] = alive;
        check["status"] = core;
        body["checks"] = Json::array({check});
    }
    return json_response(request, alive ? http::status::ok : http::status::service_unavailable, body);
}

Response readyz(const Request& request, const ProbeContext& probes) {
    Json checks = Json::array();
    Json failed = Json::array();
    auto add = [&](const std::string& name, int status, bool ok, std::string reason = {}) {
        Json check = Json::object();
        check["name"] = name;
        check["ok"] = ok;
        check["status"] = status;
        if (!reason.empty()) check["reason"] = std::move(reason);
        checks.push_back(std::move(check));
        if (!ok) failed.push_back(name);
    };
    const int core = core_status(probes.registry);
    add("core", core, core == core::kStateRunning);
    for (const auto& group : probes.ready_requires) {
        auto status = probes.registry.status(group, core::kAllIdentifiers);
        const int value = status ? status->status : -1;
        add(group, value, status && status->ready());
    }
    if (probes.state_problem) {
        auto problem = probes.state_problem();
        const bool ok = problem.empty();
        add("state", ok ? 1 : -1, ok, std::move(problem));
    }
    Json body = Json::object();
    body["status"] = failed.empty() ? "ok" : "failed";
    if (!failed.empty()) body["failed"] = failed;
    if (has_flag(request.target(), "verbose")) body["checks"] = std::move(checks);
    return json_response(request, failed.empty() ? http::status::ok : http::status::service_unavailable, body);
}

}  // namespace

std::optional<Response> answer_probe(const Request& request, const ProbeContext& probes) {
    const auto path = path_of(request.target());
    const bool is_health = path.substr(0, kHealthPrefix.size()) == kHealthPrefix && path.size() > kHealthPrefix.size();
    if (!is_health && path != "/livez" && path != "/readyz") return std::nullopt;

    if (!is_get_or_head(request)) return method_not_allowed(request, "GET, HEAD");
    if (path == "/livez") return livez(request, probes.registry);
    if (path == "/readyz") return readyz(request, probes);
    return health(request, probes.registry);  // path_of parsed the target
}

}  // namespace srmi::server
