// Health-check probes: GET /health/{group}[/{identifier}], /livez, /readyz.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/registry.h"
#include "server/http/message.h"

namespace srmi::server {

/// What the probes read: the registry, and the groups /readyz requires.
struct ProbeContext {
    const core::Registry& registry;
    std::vector<std::string> ready_requires;
    /// Why the state store keeps this instance from being ready (empty: it
    /// does not); unset without a shared store.
    std::function<std::string()> state_problem = {};
};

/// The answer to a probe path, or nullopt when the path is not a probe's.
/// JSON bodies, `Cache-Control: no-store`; 200 ready, 503 not, 404 unknown;
/// GET and HEAD only (405 otherwise). Reads memory only: no I/O.
std::optional<Response> answer_probe(const Request& request, const ProbeContext& probes);

}  // namespace srmi::server
