// which, help, version, uptime: the MI commands every OpenSIPS client expects.
#include <ctime>

#include "rpc/ctime_format.h"
#include "rpc/methods.h"

namespace srmi::rpc {

void add_core_methods(Dispatcher& dispatcher, ServerInfo info) {
    dispatcher.add({"which",
                    "lists all available MI commands",
                    {{{},
                      [&dispatcher](const Params&) -> Reply {
                          Json names = Json::array();
                          for (const auto& m : dispatcher.methods()) names.push_back(m.name);
                          return names;
                      }}},
                    "core:which", Role::kRead});

    dispatcher.add({"help",
                    "prints information about an MI command",
                    {{{"mi_cmd"},
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
                    "core:help", Role::kRead});

    dispatcher.add({"version",
                    "prints the version string of the running server",
                    {{{},
                      [server = info.server](const Params&) -> Reply {
                          Json out = Json::object();
                          out["Server"] = server;
                          return out;
                      }}},
                    "core:version", Role::kRead});

    dispatcher.add({"uptime",
                    "prints when the server started and for how long it has been running",
                    {{{},
                      [started = info.started_at](const Params&) -> Reply {
                          const auto now = static_cast<std::int64_t>(std::time(nullptr));
                          Json out = Json::object();
                          out["Now"] = ctime_string(now);
                          out["Up since"] = ctime_string(started);
                          out["Up time"] = std::to_string(now - started) + " [sec]";
                          return out;
                      }}},
                    "core:uptime", Role::kRead});
}

}  // namespace srmi::rpc
