// handle_request: one HTTP request in, one HTTP response out; no sockets here.
#pragma once

#include <string_view>

#include "rpc/dispatcher.h"
#include "server/http/message.h"

namespace srmi::server {

struct ProbeContext;
class Metrics;
class AccessControl;

/// Routes a complete request: POST /mi to the dispatcher, everything else to
/// the right 4xx. GET /events is not answered here: HttpSession hands the
/// connection to an EventStream before. Thread-safe as long as the dispatcher
/// is no longer changed. `probes` may be null (no probe paths then), and so
/// may `metrics` (no /metrics then) and `access` (no credentials asked then).
/// `client_cn` is the Common Name of the client's verified TLS certificate, if
/// it sent one.
Response handle_request(const Request& request, const rpc::Dispatcher& dispatcher,
                        const ProbeContext* probes = nullptr, const Metrics* metrics = nullptr,
                        const AccessControl* access = nullptr, std::string_view client_cn = {});

}  // namespace srmi::server
