// add_all_methods: the method families in table order, for the server and
// for `srmi openapi` alike.
#include "rpc/methods.h"

namespace srmi::rpc {

void add_all_methods(Dispatcher& dispatcher, core::Registry& registry, core::EventHub& hub,
                     std::atomic<bool>* profiling, ServerInfo info) {
    add_status_report_methods(dispatcher, registry);
    add_history_methods(dispatcher, registry);
    add_event_methods(dispatcher, hub);
    if (profiling != nullptr) add_profiling_methods(dispatcher, *profiling);
    add_core_methods(dispatcher, std::move(info));
}

}  // namespace srmi::rpc
