// RpcError: a JSON-RPC error as a value, and the codes this server answers with.
#pragma once

#include <optional>
#include <string>

namespace srmi::rpc {

/// The `error` member of a JSON-RPC answer. Handlers return it; they do not throw it.
struct RpcError {
    int code = 0;
    std::string message;
    std::optional<std::string> data;

    friend bool operator==(const RpcError&, const RpcError&) = default;
};

namespace errors {

inline RpcError parse_error() { return {-32700, "Parse error", std::nullopt}; }
inline RpcError invalid_request() { return {-32600, "Invalid Request", std::nullopt}; }
inline RpcError method_not_found() { return {-32601, "Method not found", std::nullopt}; }
inline RpcError invalid_params(std::string data) { return {-32602, "Invalid params", std::move(data)}; }
inline RpcError server_error() { return {-32000, "Server error", std::nullopt}; }
inline RpcError method_ambiguous(std::string data) {
    return {-32001, "Method ambiguous", std::move(data)};
}

inline constexpr const char* kTooFewOrTooMany = "Too few or too many parameters";
inline constexpr const char* kNamesDoNotMatch = "Named parameters do not match";
inline constexpr const char* kAmbiguousCall = "Ambiguous call";

}  // namespace errors
}  // namespace srmi::rpc
