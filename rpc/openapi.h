// The OpenAPI description of the JSON-RPC methods, made from the dispatch
// table; merged with the hand-written part (the HTTP pages) by `srmi openapi`.
#pragma once

#include <string>
#include <string_view>

#include "rpc/dispatcher.h"

namespace srmi::rpc {

/// The methods part of the API description, from `dispatcher`'s table:
/// `{"x-jsonrpc-methods": {...}, "schemas": {...}}`, the latter for
/// `components.schemas`: per method its typed request (`XxxCall`), its params
/// and result schemas, `MethodCall` (one of the typed requests), `JsonRpcError`
/// (every error code and message), and the table's shared schemas. Throws
/// YamlError when a fragment of the table is not YAML, std::invalid_argument
/// when the table is incomplete (a recipe's parameter without a ParamDoc, a
/// method without a result).
Json openapi_methods(const Dispatcher& dispatcher);

/// The whole OpenAPI document as YAML: `pages_yaml` (everything but the
/// methods: info, the HTTP paths, events, envelope schemas) with the methods
/// part of a table holding every method family merged in: `x-jsonrpc-methods`
/// before `components`, the schemas at the end of `components.schemas`.
/// Throws as openapi_methods, or YamlError for `pages_yaml`.
std::string openapi_document(std::string_view pages_yaml);

}  // namespace srmi::rpc
