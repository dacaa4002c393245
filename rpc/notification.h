// make_notification: an event as the JSON-RPC 2.0 notification OpenSIPS's
// event_datagram and event_stream send.
#pragma once

#include <string_view>

#include "core/event_hub.h"
#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// {"jsonrpc":"2.0","method":EVENT,"params":PARAMS}, serialised once and
/// shared by every subscriber. Invalid UTF-8 in strings is replaced, not thrown.
core::EventPayload make_notification(std::string_view event, const Json& params);

}  // namespace srmi::rpc
