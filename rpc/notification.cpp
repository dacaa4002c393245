// make_notification: member order as OpenSIPS writes it (jsonrpc, method, params).
#include "rpc/notification.h"

#include <memory>
#include <string>

namespace srmi::rpc {

core::EventPayload make_notification(std::string_view event, const Json& params) {
    Json message = Json::object();
    message["jsonrpc"] = "2.0";
    message["method"] = event;
    message["params"] = params;
    return std::make_shared<const std::string>(
        message.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace srmi::rpc
