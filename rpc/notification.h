// Notifications: an event as the JSON-RPC 2.0 notification OpenSIPS's
// event_datagram and event_stream send.
#pragma once

#include <string_view>

#include "core/event.h"
#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// {"jsonrpc":"2.0","method":EVENT,"params":{NAME:VALUE,...}}, the event's
/// parameters in their order; a core::EventRenderer. Invalid UTF-8 in
/// strings is replaced, not thrown. Thread-safe.
core::EventPayload render_notification(const core::Event& event);

/// The same with free-form `params` (raise_event's, any JSON value).
core::EventPayload make_notification(std::string_view event, const Json& params);

}  // namespace srmi::rpc
