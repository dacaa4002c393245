// Event: one raised event as data (its id, its name, its parameters with
// typed values, in order), before any wire format is chosen.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace srmi::core {

/// A parameter's value: text or a whole number.
using EventValue = std::variant<std::string_view, std::int64_t, std::uint64_t>;

struct EventParam {
    std::string_view name;
    EventValue value;
};

/// Views, valid only during the call that is handed the event.
struct Event {
    int id;
    std::string_view name;
    std::span<const EventParam> params;  ///< in the order a subscriber sees them
};

/// The text of one raised event as subscribers receive it, made once and
/// shared by every subscriber it goes to.
using EventPayload = std::shared_ptr<const std::string>;

/// Turns an event into its payload (the embedding program supplies the wire
/// format: a JSON-RPC notification). Called on the raiser's thread, so it
/// must be thread-safe.
using EventRenderer = std::function<EventPayload(const Event&)>;

}  // namespace srmi::core
