// The live web dashboard: one page, embedded in the binary at build time and
// served at GET /; it reads POST /mi and follows GET /events.
#pragma once

#include <optional>
#include <string_view>

#include "server/http/message.h"

namespace srmi::server {

inline constexpr std::string_view kDashboardPath = "/";

/// The Content-Security-Policy the page is served with: nothing from
/// elsewhere, and inline only its own style and script (by hash).
std::string_view dashboard_csp();

/// Answers `/` and `/index.html`: the page for GET and HEAD, 405 with `Allow`
/// for any other method. nullopt for any other path. No file is read: the
/// page is in the binary. Thread-safe.
std::optional<Response> answer_dashboard(const Request& request);

}  // namespace srmi::server
