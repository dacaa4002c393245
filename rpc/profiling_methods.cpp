// profiling_proc: switches request profiling (E_PROFILING_PROC) on and off.
#include <string>

#include "rpc/methods.h"

namespace srmi::rpc {

void add_profiling_methods(Dispatcher& dispatcher, std::atomic<bool>& enabled) {
    dispatcher.add({"profiling_proc",
                    "shows or sets (on/off) request profiling, reported as E_PROFILING_PROC events",
                    {{{},
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
                    "profiling:proc", Role::kAdmin});
}

}  // namespace srmi::rpc
