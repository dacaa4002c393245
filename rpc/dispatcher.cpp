// Dispatcher: request validation, recipe matching and batches, per
// shared/spec/jsonrpc.md. Errors are turned into answers here and only here.
#include "rpc/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "rpc/json_parse.h"
#include "rpc/json_writer.h"

namespace srmi::rpc {

namespace {

bool valid_id(const Json& id) { return id.is_string() || id.is_number() || id.is_null(); }

std::string serialize(const Json& value) {
    // replace, not throw: a stray invalid UTF-8 byte must not cost the answer.
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The envelope is written as text around the result or error: a tree built
// only to be dumped at once would cost more than the method itself.
void write_answer(std::string& out, std::string_view member, std::string_view value_text,
                  const Json& id) {
    out.reserve(out.size() + value_text.size() + 64);
    out += R"({"jsonrpc":"2.0",")";
    out += member;
    out += "\":";
    out += value_text;
    out += R"(,"id":)";
    if (id.is_string()) {
        JsonWriter(out).string(id.get_ref<const std::string&>());
    } else {
        out += serialize(id);
    }
    out += '}';
}

void write_error(std::string& out, const RpcError& error, const Json& id) {
    std::string text;
    JsonWriter w(text);
    w.raw('{').key("code").integer(error.code).raw(',').key("message").string(error.message);
    if (error.data) w.raw(',').key("data").string(*error.data);
    w.raw('}');
    write_answer(out, "error", text, id);
}

std::size_t param_count(const Json* params) { return params == nullptr ? 0 : params->size(); }

RpcError forbidden(std::string why) { return {403, "Forbidden", std::move(why)}; }

}  // namespace

// A flat scan, so that hostile input is refused before a parser or a
// serialiser recurses into it; invalid JSON is left for the parser to name.
bool nests_deeper_than(std::string_view text, std::size_t limit) noexcept {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

// --- Params --------------------------------------------------------------------

const Json& Params::operator[](std::string_view name) const {
    for (const auto& [key, value] : values_) {
        if (key == name) return *value;
    }
    throw std::out_of_range("recipe has no parameter '" + std::string(name) + "'");
}

bool Params::has(std::string_view name) const noexcept {
    return std::any_of(values_.begin(), values_.end(),
                       [&](const auto& entry) { return entry.first == name; });
}

// --- table ---------------------------------------------------------------------

void Dispatcher::add(Method method) {
    auto names = std::vector<std::string>{method.name};
    if (!method.qualified_name.empty()) names.push_back(method.qualified_name);
    for (const auto& name : names) {
        if (name.empty() || by_name_.count(name) != 0) {
            throw std::invalid_argument("method name '" + name + "' is empty or taken");
        }
    }
    for (std::size_t i = 0; i < method.recipes.size(); ++i) {
        auto sorted_i = method.recipes[i].params;
        std::sort(sorted_i.begin(), sorted_i.end());
        for (std::size_t j = i + 1; j < method.recipes.size(); ++j) {
            auto sorted_j = method.recipes[j].params;
            std::sort(sorted_j.begin(), sorted_j.end());
            if (sorted_i == sorted_j) {
                throw std::invalid_argument("method '" + method.name + "' has a recipe twice");
            }
        }
    }

    const std::size_t index = methods_.size();
    for (const auto& name : names) by_name_.emplace(name, index);
    if (auto colon = method.qualified_name.find(':'); colon != std::string::npos) {
        by_short_name_[method.qualified_name.substr(colon + 1)].push_back(index);
    }
    methods_.push_back(std::move(method));
}

void Dispatcher::add_schema(NamedSchema schema) {
    for (const auto& known : schemas_) {
        if (known.name == schema.name) {
            throw std::invalid_argument("schema '" + schema.name + "' is taken");
        }
    }
    schemas_.push_back(std::move(schema));
}

std::variant<const Method*, RpcError> Dispatcher::resolve(std::string_view name) const {
    const std::string key(name);
    if (auto it = by_name_.find(key); it != by_name_.end()) return &methods_[it->second];
    if (auto it = by_short_name_.find(key); it != by_short_name_.end()) {
        if (it->second.size() == 1) return &methods_[it->second.front()];
        std::string supported = "supported names: ";
        for (std::size_t i = 0; i < it->second.size(); ++i) {
            if (i != 0) supported += ", ";
            supported += methods_[it->second[i]].qualified_name;
        }
        return errors::method_ambiguous(std::move(supported));
    }
    return errors::method_not_found();
}

// --- recipe matching -----------------------------------------------------------

Reply Dispatcher::call(const Method& method, const Json* params, const Caller& caller) const {
    const std::size_t count = param_count(params);
    const Recipe* chosen = nullptr;
    Params bound;

    if (count == 0) {
        for (const auto& recipe : method.recipes) {
            if (recipe.params.empty()) chosen = &recipe;
        }
        if (chosen == nullptr) return errors::invalid_params(errors::kTooFewOrTooMany);
    } else if (params->is_object()) {
        bool same_count = false;
        for (const auto& recipe : method.recipes) {
            if (recipe.params.size() != count) continue;
            same_count = true;
            const bool names_match =
                std::all_of(recipe.params.begin(), recipe.params.end(),
                            [&](const std::string& name) { return params->contains(name); });
            if (names_match) {
                chosen = &recipe;
                break;
            }
        }
        if (chosen == nullptr) {
            return errors::invalid_params(same_count ? errors::kNamesDoNotMatch
                                                     : errors::kTooFewOrTooMany);
        }
        for (const auto& name : chosen->params) {
            bound.values_.emplace_back(name, &params->find(name).value());
        }
    } else {  // array
        for (const auto& recipe : method.recipes) {
            if (recipe.params.size() != count || recipe.named_only) continue;
            if (chosen != nullptr) return errors::invalid_params(errors::kAmbiguousCall);
            chosen = &recipe;
        }
        if (chosen == nullptr) return errors::invalid_params(errors::kTooFewOrTooMany);
        for (std::size_t i = 0; i < count; ++i) {
            bound.values_.emplace_back(chosen->params[i], &(*params)[i]);
        }
    }
    if (method.role >= Role::kWrite && !caller.groups.empty()) {
        // A producer's token changes its own groups only; a write that names
        // no group could change any, so it is not for such a token either.
        const Json* group = bound.has("group") ? &bound["group"] : nullptr;
        if (group == nullptr || !group->is_string() ||
            !caller.may_change(group->get_ref<const std::string&>())) {
            return forbidden("this token may not change that group");
        }
    }
    return chosen->handler(bound);
}

// --- requests and batches ------------------------------------------------------

std::chrono::steady_clock::time_point Dispatcher::call_done(
    std::string_view method, int code, std::chrono::steady_clock::time_point started) const {
    if (!timed()) return started;
    const auto now = std::chrono::steady_clock::now();
    if (done_hook_) done_hook_(method, code, now - started);
    return now;
}

bool Dispatcher::answer(const Json& request, const Caller& caller, std::string& out,
                        std::chrono::steady_clock::time_point& clock) const {
    const auto started = clock;
    auto invalid = [&](const Json& id) {
        const auto error = errors::invalid_request();
        clock = call_done({}, error.code, started);
        write_error(out, error, id);
        return true;
    };
    if (!request.is_object()) return invalid(nullptr);

    const auto id_it = request.find("id");
    const bool notification = id_it == request.end();
    if (!notification && !valid_id(*id_it)) return invalid(nullptr);
    const Json id = notification ? Json(nullptr) : *id_it;

    const auto version = request.find("jsonrpc");
    const auto method_name = request.find("method");
    const auto params = request.find("params");
    if (version == request.end() || !version->is_string() || *version != "2.0" ||
        method_name == request.end() || !method_name->is_string() ||
        (params != request.end() && !params->is_object() && !params->is_array())) {
        // Structurally invalid: answered even without an id, as JSON-RPC 2.0 shows.
        return invalid(id);
    }

    Reply reply;
    auto method = resolve(method_name->get_ref<const std::string&>());
    const auto& name = method_name->get_ref<const std::string&>();
    std::string_view called;  // the flat name, once resolved
    if (auto* error = std::get_if<RpcError>(&method)) {
        reply = std::move(*error);
    } else {
        const Method& target = *std::get<const Method*>(method);
        called = target.name;
        if (call_hook_) call_hook_(CallTrace{name, true, 0, "dispatcher.cpp", __LINE__});
        try {
            if (target.role > caller.role) {
                reply = forbidden(std::string(target.name) + " needs the " +
                                  std::string(role_name(target.role)) + " role");
            } else {
                reply = call(target, params == request.end() ? nullptr : &*params, caller);
            }
        } catch (const std::exception& e) {
            spdlog::error("method {} failed: {}", method_name->get_ref<const std::string&>(),
                          e.what());
            reply = errors::server_error();
        } catch (...) {
            spdlog::error("method {} failed", method_name->get_ref<const std::string&>());
            reply = errors::server_error();
        }
        if (call_hook_) {
            const auto* error = std::get_if<RpcError>(&reply);
            call_hook_(CallTrace{name, false, error != nullptr ? error->code : 0, "dispatcher.cpp",
                                 __LINE__});
        }
    }

    // call_done's one clock read ends this call, times the slow-call check and
    // starts the next call of a batch.
    const auto* failed = std::get_if<RpcError>(&reply);
    clock = call_done(called, failed != nullptr ? failed->code : 0, started);
    if (slow_threshold_.count() > 0 && slow_hook_) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(clock - started).count();
        if (micros > slow_threshold_.count()) {
            auto text = serialize(request);
            if (text.size() > kSlowCallExtra) text.resize(kSlowCallExtra);
            slow_hook_(SlowCall{method_name->get_ref<const std::string&>(), micros, text});
        }
    }

    if (notification) return false;
    if (auto* error = std::get_if<RpcError>(&reply)) {
        write_error(out, *error, id);
    } else if (auto* raw = std::get_if<RawJson>(&reply)) {
        write_answer(out, "result", raw->text, id);
    } else {
        write_answer(out, "result", serialize(std::get<Json>(reply)), id);
    }
    return true;
}

std::optional<std::string> Dispatcher::handle(std::string_view body, const Caller& caller) const {
    try {
        auto clock =
            timed() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        const auto started = clock;
        auto refuse = [&](std::string why) {
            auto error = errors::invalid_request();
            error.data = std::move(why);
            call_done({}, error.code, started);
            std::string out;
            write_error(out, error, nullptr);
            return out;
        };
        Json request;
        std::string out;
        if (!parse_json(body, request, limits_.max_depth)) {
            // Refused for its depth if it nests too deep anywhere, valid or
            // not, as a flat scan sees it; parse_json's bound kept it from
            // recursing that far. Checked only here: a body read whole is no
            // deeper than the bound.
            if (nests_deeper_than(body, limits_.max_depth)) {
                return refuse("nested deeper than " + std::to_string(limits_.max_depth) +
                              " levels");
            }
            call_done({}, errors::parse_error().code, started);
            write_error(out, errors::parse_error(), nullptr);
            return out;
        }

        if (!request.is_array()) {
            if (!answer(request, caller, out, clock)) return std::nullopt;
            return out;
        }
        if (request.empty()) {
            call_done({}, errors::invalid_request().code, started);
            write_error(out, errors::invalid_request(), nullptr);
            return out;
        }

        if (request.size() > limits_.max_batch) {
            return refuse("batch of " + std::to_string(request.size()) + " requests; at most " +
                          std::to_string(limits_.max_batch) + " are answered");
        }
        out += '[';
        for (const auto& element : request) {
            const auto mark = out.size();
            if (out.size() > 1) out += ',';
            if (!answer(element, caller, out, clock)) out.resize(mark);
        }
        if (out.size() == 1) return std::nullopt;
        out += ']';
        return out;
    } catch (const std::exception& e) {
        // Only allocation failure can land here; answer rather than drop the connection.
        spdlog::error("request handling failed: {}", e.what());
        std::string out;
        write_error(out, errors::server_error(), nullptr);
        return out;
    }
}

std::optional<std::string> Dispatcher::fail_all(std::string_view body,
                                                const RpcError& error) const {
    try {
        Json request;
        if (!parse_json(body, request, limits_.max_depth)) return std::nullopt;
        auto id_of = [](const Json& r) -> const Json* {
            if (!r.is_object()) return nullptr;
            auto it = r.find("id");
            return it == r.end() ? nullptr : &*it;
        };
        std::string out;
        if (!request.is_array()) {
            const Json* id = id_of(request);
            if (id == nullptr) return std::nullopt;
            write_error(out, error, *id);
            return out;
        }
        out += '[';
        for (const auto& element : request) {
            const Json* id = id_of(element);
            if (id == nullptr) continue;
            if (out.size() > 1) out += ',';
            write_error(out, error, *id);
        }
        if (out.size() == 1) return std::nullopt;
        out += ']';
        return out;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace srmi::rpc
