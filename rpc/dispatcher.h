// Dispatcher: JSON-RPC 2.0 text in, text out, over a table of methods.
//
// A method is data: a name, a help line, its recipes (the parameter lists it
// accepts, each bound to a handler), its role, and what the API description
// says of it (parameter types, result shape, errors). Registering a method is
// one add(); `srmi openapi` documents the table (rpc/openapi.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "rpc/access.h"
#include "rpc/rpc_error.h"

namespace srmi::rpc {

/// Insertion-ordered JSON, so answers keep the member order OpenSIPS uses.
using Json = nlohmann::ordered_json;

/// The parameters of a call, bound to the names of the recipe that matched.
class Params {
  public:
    /// The value of a parameter of the matched recipe. Asking for a name the
    /// recipe does not have is a programming error (std::out_of_range).
    const Json& operator[](std::string_view name) const;
    /// Whether the matched recipe has this parameter.
    bool has(std::string_view name) const noexcept;

  private:
    friend class Dispatcher;
    std::vector<std::pair<std::string_view, const Json*>> values_;
};

/// A `result` value already written as JSON text (see JsonWriter), for
/// answers that are large or frequent enough that building a tree would cost.
struct RawJson {
    std::string text;
};

/// What a handler returns: the `result` value, or an error.
using Reply = std::variant<Json, RpcError, RawJson>;
using Handler = std::function<Reply(const Params&)>;

/// One accepted parameter list (names in positional order) and its handler.
/// A named-only recipe (srmi's own parameters beside OpenSIPS's) is never
/// matched by a positional array, so OpenSIPS's arrays keep their meaning.
struct Recipe {
    std::vector<std::string> params;
    Handler handler;
    bool named_only = false;
};

/// A JSON Schema fragment written as YAML text (JSON is YAML too), e.g.
/// `type: string` or `$ref: '#/components/schemas/GroupName'`. Read only
/// when the API description is made, never while serving.
using SchemaText = std::string;

/// The fragment that refers to a shared schema (see Dispatcher::add_schema).
inline SchemaText schema_ref(std::string_view name) {
    return "$ref: '#/components/schemas/" + std::string(name) + "'";
}

/// A parameter as the API description shows it: its name in the recipes and its type.
struct ParamDoc {
    std::string name;
    SchemaText schema;
};

/// An error a method's handler answers with (besides the dispatcher's own).
struct ErrorDoc {
    int code = 0;
    std::string message;
    std::string data;  ///< its `data`, if it has one (SOCKET, REASON: placeholders)
    std::string when;  ///< when it is answered, for the reader
};

/// A shared schema the methods' fragments refer to by
/// `$ref: '#/components/schemas/NAME'`.
struct NamedSchema {
    std::string name;
    SchemaText schema;
};

/// One entry of the dispatch table.
struct Method {
    std::string name;  ///< flat name, e.g. `sr_get_status`
    std::string help;  ///< one line, answered by `help`; the summary in the API description
    std::vector<Recipe> recipes = {};
    std::string qualified_name = {};  ///< optional `module:cmd` alias, e.g. `status_report:get`
    /// The least role allowed to call it; admin unless a method says otherwise,
    /// so that a method added without thought is not open to readers.
    Role role = Role::kAdmin;
    /// Every parameter of the recipes, in positional order, with its type.
    std::vector<ParamDoc> params = {};
    SchemaText result = {};             ///< the shape of `result`
    std::vector<ErrorDoc> errors = {};  ///< what the handler may answer instead
    std::string description = {};       ///< more than `help` says (Markdown), if needed
    std::string present_when = {};      ///< if the method exists only in some set-ups
};

/// Whether `text` (JSON, or anything) nests arrays and objects deeper than
/// `limit`, not counting brackets inside strings. One pass, no recursion.
bool nests_deeper_than(std::string_view text, std::size_t limit) noexcept;

/// Bounds on one HTTP body, checked before any method runs.
struct DispatchLimits {
    std::size_t max_batch = 1000;  ///< requests in one batch; longer: one -32600
    std::size_t max_depth = 64;    ///< nesting of arrays and objects; deeper: -32600
};

/// A request that took longer than the configured threshold.
struct SlowCall {
    std::string_view method;
    std::int64_t micros;
    std::string_view request;  ///< the request's JSON text, cut to kSlowCallExtra bytes
};
using SlowCallHook = std::function<void(const SlowCall&)>;
inline constexpr std::size_t kSlowCallExtra = 256;

/// One method call seen from outside, for profiling: entered, then exited
/// with its status (0 on success, else the error code).
struct CallTrace {
    std::string_view method;
    bool entering;
    int status;
    const char* file;
    int line;
};
using CallHook = std::function<void(const CallTrace&)>;

/// Told once per request (a batch element counts as one, a notification too)
/// after it is handled: the flat name of the method it called, or "" when it
/// called none (parse error, invalid request, unknown or ambiguous method),
/// so that clients cannot invent values; the result code (0 on success, else
/// the error code); and the time it took.
using CallDoneHook =
    std::function<void(std::string_view method, int code, std::chrono::nanoseconds elapsed)>;

/// The dispatch table and the JSON-RPC 2.0 engine. Build it (add) before
/// serving; afterwards handle() may run concurrently on any number of threads.
class Dispatcher {
  public:
    /// Adds a method. Throws std::invalid_argument if a name or alias is
    /// already taken, or two recipes have the same parameter list.
    void add(Method method);

    /// Answers one HTTP body: a request or a batch, on behalf of `caller`
    /// (a method beyond its role, or a change to a group it may not change,
    /// is answered 403 Forbidden). nullopt when nothing is to be answered
    /// (only notifications). Never throws.
    std::optional<std::string> handle(std::string_view body,
                                      const Caller& caller = unrestricted_caller()) const;

    /// The answer to `body` when its writes, already handled, could not be
    /// made durable: `error` for each of its requests that has an id.
    /// nullopt when none has. Never throws.
    std::optional<std::string> fail_all(std::string_view body, const RpcError& error) const;

    /// Sets the bounds every body is checked against. Set before serving.
    void set_limits(DispatchLimits limits) noexcept { limits_ = limits; }
    const DispatchLimits& limits() const noexcept { return limits_; }

    /// The method a request names: flat name, `module:cmd`, or a `cmd` that
    /// only one module exports. An error value when unknown or ambiguous.
    std::variant<const Method*, RpcError> resolve(std::string_view name) const;

    /// Calls `hook` after each request whose handling took longer than
    /// `threshold` (zero: never). Set before serving.
    void on_slow_call(std::chrono::microseconds threshold, SlowCallHook hook) {
        slow_threshold_ = threshold;
        slow_hook_ = std::move(hook);
    }

    /// Calls `hook` before and after every method call. Set before serving.
    void on_call(CallHook hook) { call_hook_ = std::move(hook); }

    /// Calls `hook` after every request (see CallDoneHook); requests are timed
    /// only when one is set. Set before serving.
    void on_call_done(CallDoneHook hook) { done_hook_ = std::move(hook); }

    /// Methods in table order.
    const std::vector<Method>& methods() const noexcept { return methods_; }

    /// Adds a schema the methods' descriptions share. Throws
    /// std::invalid_argument if the name is taken.
    void add_schema(NamedSchema schema);
    /// Shared schemas in the order added.
    const std::vector<NamedSchema>& schemas() const noexcept { return schemas_; }

  private:
    /// The answer's text, appended to `out`; false (nothing appended) for a notification.
    /// `clock`: when the call began, if timed; moved on to when it ended, the
    /// next call's start in a batch (one clock read per call).
    bool answer(const Json& request, const Caller& caller, std::string& out,
                std::chrono::steady_clock::time_point& clock) const;
    Reply call(const Method& method, const Json* params, const Caller& caller) const;
    /// Tells the done hook; returns the time it read (`started` when nothing is timed).
    std::chrono::steady_clock::time_point call_done(
        std::string_view method, int code, std::chrono::steady_clock::time_point started) const;
    bool timed() const noexcept {
        return (slow_threshold_.count() > 0 && slow_hook_) || done_hook_;
    }

    std::vector<Method> methods_;
    std::vector<NamedSchema> schemas_;
    std::unordered_map<std::string, std::size_t> by_name_;  // flat and qualified names
    std::unordered_map<std::string, std::vector<std::size_t>> by_short_name_;
    std::chrono::microseconds slow_threshold_{0};
    SlowCallHook slow_hook_;
    CallHook call_hook_;
    CallDoneHook done_hook_;
    DispatchLimits limits_;
};

}  // namespace srmi::rpc
