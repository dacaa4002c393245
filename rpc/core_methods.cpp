// which, help, version, uptime: the MI commands every OpenSIPS client expects.
#include <ctime>

#include "rpc/ctime_format.h"
#include "rpc/methods.h"

namespace srmi::rpc {

void add_core_methods(Dispatcher& dispatcher, ServerInfo info) {
    dispatcher.add_schema({"CtimeDate", R"yaml(
description: |
  C `ctime()` rendering in the server's local time zone, without the
  trailing newline, e.g. `Sun Nov 22 16:26:03 2026` (the day of the
  month is space-padded: `Sun Nov  1 ...`).
type: string
pattern: '^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4,}$'
examples: ['Sun Nov 22 16:26:03 2026']
)yaml"});

    dispatcher.add({
        .name = "which",
        .help = "lists all available MI commands",
        .recipes = {{{},
                     [&dispatcher](const Params&) -> Reply {
                         Json names = Json::array();
                         for (const auto& m : dispatcher.methods()) names.push_back(m.name);
                         return names;
                     }}},
        .qualified_name = "core:which",
        .role = Role::kRead,
        .result = R"yaml(
description: Every method's flat name, in table order.
type: array
items:
  type: string
examples:
  - [sr_get_status, sr_check_status, sr_list_status, sr_list_reports, sr_list_identifiers, sr_set_status, sr_add_report, sr_add_identifier, sr_remove_identifier, events_list, event_subscribe, subscribers_list, raise_event, profiling_proc, which, help, version, uptime]
)yaml",
    });

    dispatcher.add({
        .name = "help",
        .help = "prints information about an MI command",
        .recipes = {{{"mi_cmd"},
                     [&dispatcher](const Params& p) -> Reply {
                         const RpcError unknown{404, "unknown MI command", std::nullopt};
                         if (!p["mi_cmd"].is_string()) return unknown;
                         auto found = dispatcher.resolve(p["mi_cmd"].get<std::string>());
                         if (auto* error = std::get_if<RpcError>(&found)) {
                             return error->code == -32601 ? unknown : *error;
                         }
                         Json out = Json::object();
                         out["Help"] = std::get<const Method*>(found)->help;
                         out["Exported by"] = "core";
                         return out;
                     }}},
        .qualified_name = "core:help",
        .role = Role::kRead,
        .params = {{"mi_cmd", "{description: A method name or alias., type: string}"}},
        .result = R"yaml(
type: object
required: [Help, Exported by]
additionalProperties: false
properties:
  Help:
    description: The method's one-line help text.
    type: string
  Exported by:
    const: core
examples:
  - {Help: "gets the status (only) of a 'status-report' group/identifier", Exported by: core}
)yaml",
        .errors = {{404, "unknown MI command", "", "`mi_cmd` names no method"},
                   {-32001, "Method ambiguous", "supported names: a, b",
                    "`mi_cmd` is a short name that several modules share"}},
    });

    dispatcher.add({
        .name = "version",
        .help = "prints the version string of the running server",
        .recipes = {{{},
                     [server = info.server](const Params&) -> Reply {
                         Json out = Json::object();
                         out["Server"] = server;
                         return out;
                     }}},
        .qualified_name = "core:version",
        .role = Role::kRead,
        .result = R"yaml(
type: object
required: [Server]
additionalProperties: false
properties:
  Server:
    description: '`srmi X.Y.Z (ARCH/OS)`.'
    type: string
    pattern: '^srmi [0-9]+\.[0-9]+\.[0-9]+ \([^/()]+/[^/()]+\)$'
    examples: ['srmi 0.1.0 (x86_64/linux)']
)yaml",
    });

    dispatcher.add({
        .name = "uptime",
        .help = "prints when the server started and for how long it has been running",
        .recipes = {{{},
                     [started = info.started_at](const Params&) -> Reply {
                         const auto now = static_cast<std::int64_t>(std::time(nullptr));
                         Json out = Json::object();
                         out["Now"] = ctime_string(now);
                         out["Up since"] = ctime_string(started);
                         out["Up time"] = std::to_string(now - started) + " [sec]";
                         return out;
                     }}},
        .qualified_name = "core:uptime",
        .role = Role::kRead,
        .result = R"yaml(
type: object
required: [Now, Up since, Up time]
additionalProperties: false
properties:
  Now:
    $ref: '#/components/schemas/CtimeDate'
  Up since:
    $ref: '#/components/schemas/CtimeDate'
  Up time:
    description: Whole seconds since start, as `N [sec]`.
    type: string
    pattern: '^[0-9]+ \[sec\]$'
    examples: ['204 [sec]']
)yaml",
    });
}

}  // namespace srmi::rpc
