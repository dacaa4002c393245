// Probes: a load balancer or kubelet reads the status code; people and
// dashboards read the JSON body, with every check listed under ?verbose, as
// the Kubernetes API server's probes do.
#include "server/observe/probes.h"

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/core_status.h"

namespace srmi::server {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kHealthPrefix = "/health/";

bool has_flag(std::string_view target, std::string_view flag) {
    const auto question = target.find('?');
    if (question == std::string_view::npos) return false;
    auto query = target.substr(question + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        if (item == flag || item.substr(0, item.find('=')) == flag) return true;
        if (amp == std::string_view::npos) break;
        query = query.substr(amp + 1);
    }
    return false;
}

Response json_response(const Request& request, http::status status, const Json& body) {
    return page_response(request, status, "application/json",
                         body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

int core_status(const core::Registry& registry) {
    auto status = registry.status("core");
    return status ? status->status : core::kStateNone;
}

Response health(const Request& request, std::string_view rest, const core::Registry& registry) {
    const auto slash = rest.find('/');
    const auto group = url_decode(rest.substr(0, slash), false);
    const auto identifier = slash == std::string_view::npos ? std::string(core::kMainIdentifier)
                                                            : url_decode(rest.substr(slash + 1), false);
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
    auto add = [&](const std::string& name, int status, bool ok) {
        Json check = Json::object();
        check["name"] = name;
        check["ok"] = ok;
        check["status"] = status;
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
    return health(request, path.substr(kHealthPrefix.size()), probes.registry);
}

}  // namespace srmi::server
