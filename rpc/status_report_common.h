// What the sr_* method families share: how a group and identifier are read
// from the parameters, registry refusals as JSON-RPC errors, and the errors'
// documentation.
#pragma once

#include <string_view>

#include "core/registry.h"
#include "rpc/dispatcher.h"
#include "rpc/param_values.h"

namespace srmi::rpc::detail {

using core::Errc;

// A name that is not a string is looked up as text that matches nothing, as
// OpenSIPS does: the empty name, which can never be registered.
inline std::string_view identifier_or_main(const Params& params) {
    if (!params.has("identifier")) return core::kMainIdentifier;
    return string_value(params["identifier"]).value_or(std::string_view{});
}

inline RpcError group_not_found() { return {404, "Group not found", std::nullopt}; }

inline RpcError to_rpc_error(Errc error, const char* identifier_message = "Identifier not found") {
    switch (error) {
        case Errc::group_not_found:
            return group_not_found();
        case Errc::identifier_not_found:
            return {404, identifier_message, std::nullopt};
        case Errc::forbidden:
            return {403, "Forbidden", std::nullopt};
        case Errc::reports_disabled:
            return {400, "Identifier does not accept reports", std::nullopt};
        case Errc::already_exists:
            return {409, "Identifier already exists", std::nullopt};
        case Errc::last_identifier:
            return {400, "Cannot remove the last identifier of a group", std::nullopt};
        case Errc::invalid_name:
            return errors::invalid_params("Parameter 'identifier' must be a non-empty string");
        case Errc::store_unavailable:
            return {503, "State store unavailable", std::nullopt};
    }
    return errors::server_error();
}

// Calls fn(group name); a `group` that is not a string finds nothing.
template <class Fn>
Reply with_group(const Params& params, Fn&& fn) {
    auto group = string_value(params["group"]);
    if (!group) return group_not_found();
    return fn(*group);
}

// What the API description says of the errors every sr_* method shares.
inline ErrorDoc group_not_found_doc() {
    return {404, "Group not found", "",
            "the group is not registered (or the `group` parameter is not a string)"};
}
inline ErrorDoc identifier_not_found_doc(const char* message = "Identifier not found") {
    return {404, message, "", "the identifier is not in the group"};
}
inline ErrorDoc forbidden_doc() {
    return {403, "Forbidden", "", "the group is internal (such as `core`)"};
}
inline ErrorDoc invalid_params_doc(const char* data) { return {-32602, "Invalid params", data, ""}; }

}  // namespace srmi::rpc::detail
