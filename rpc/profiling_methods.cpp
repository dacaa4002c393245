// profiling_proc: switches request profiling (E_PROFILING_PROC) on and off.
#include <string>

#include "rpc/methods.h"

namespace srmi::rpc {

void add_profiling_methods(Dispatcher& dispatcher, std::atomic<bool>& enabled) {
    dispatcher.add_schema({"ProfilingStateParam", R"yaml(
description: |
  `on` (or `1`, `"1"`) switches profiling on, `off` (or `0`, `"0"`)
  switches it off. Anything else: -32602
  `Parameter 'state' must be on or off`.
enum: ['on', 'off', '1', '0', 1, 0]
)yaml"});
    dispatcher.add({
        .name = "profiling_proc",
        .help = "shows or sets (on/off) request profiling, reported as E_PROFILING_PROC events",
        .recipes = {{{},
                     [&enabled](const Params&) -> Reply {
                         Json out = Json::object();
                         out["state"] = enabled.load() ? "on" : "off";
                         return out;
                     }},
                    {{"state"},
                     [&enabled](const Params& p) -> Reply {
                         const auto& state = p["state"];
                         if (state == "on" || state == 1 || state == "1") {
                             enabled = true;
                         } else if (state == "off" || state == 0 || state == "0") {
                             enabled = false;
                         } else {
                             return errors::invalid_params("Parameter 'state' must be on or off");
                         }
                         return "OK";
                     }}},
        .qualified_name = "profiling:proc",
        .role = Role::kAdmin,
        .params = {{"state", schema_ref("ProfilingStateParam")}},
        .result = R"yaml(
description: |
  Without params: the current state. With `state`: `OK`.
oneOf:
  - title: state
    type: object
    required: [state]
    additionalProperties: false
    properties:
      state:
        enum: ['on', 'off']
  - $ref: '#/components/schemas/OkResult'
examples:
  - {state: 'off'}
  - OK
)yaml",
        .errors = {{-32602, "Invalid params", "Parameter 'state' must be on or off", ""}},
        .description = "`{}` shows the state, `{state}` sets it.\n\n"
                       "Present only when request profiling is configured (`--profiling-proc\n"
                       "on|off` on the command line, or `profiling_proc` in the config file).\n"
                       "Otherwise the method does not exist (-32601 `Method not found`), and\n"
                       "`E_PROFILING_PROC` is not published.",
        .present_when = "profiling_proc is configured",
    });
}

}  // namespace srmi::rpc
