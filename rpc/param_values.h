// Typed reads of JSON-RPC parameter values, shared by the method families.
#pragma once

#include <optional>
#include <string_view>

#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// An integer given as a JSON integer or as decimal text ("-3", "+2"):
/// opensips-mi sends every positional value as a string. nullopt when it is
/// neither, or does not fit an int.
std::optional<int> int_value(const Json& value);

/// The text of a string value; nullopt for any other type.
std::optional<std::string_view> string_value(const Json& value);

}  // namespace srmi::rpc
