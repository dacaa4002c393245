// openapi_methods and openapi_document: the dispatch table as OpenAPI 3.1.
// What recipes imply (typed requests, positional forms, which parameters are
// required) is worked out here, so the table states each fact once.
#include "rpc/openapi.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <map>
#include <set>
#include <stdexcept>

#include "core/event_hub.h"
#include "core/registry.h"
#include "rpc/methods.h"
#include "rpc/yaml.h"

namespace srmi::rpc {

namespace {

constexpr std::string_view kSchemas = "#/components/schemas/";

Json component_ref(std::string_view name) {
    Json out = Json::object();
    out["$ref"] = std::string(kSchemas) + std::string(name);
    return out;
}

// sr_get_status -> SrGetStatus
std::string pascal_name(std::string_view name) {
    std::string out;
    bool upper = true;
    for (char c : name) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    return out;
}

std::string join(const std::vector<std::string>& names, std::string_view open,
                 std::string_view close) {
    std::string out(open);
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i != 0) out += ", ";
        out += names[i];
    }
    return out + std::string(close);
}

// "a", "a and b", "a, b and c" (or "or")
std::string listing(const std::vector<std::string>& items, std::string_view last = " and ") {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0) out += i + 1 == items.size() ? std::string(last) : ", ";
        out += items[i];
    }
    return out;
}

// The aliases a method answers to: `module:cmd`, and `cmd` when no other
// method has that short name and it is not a flat name already.
std::vector<std::string> aliases(const Dispatcher& dispatcher, const Method& method) {
    std::vector<std::string> out;
    const auto colon = method.qualified_name.find(':');
    if (method.qualified_name.empty()) return out;
    out.push_back(method.qualified_name);
    if (colon == std::string::npos) return out;
    const auto short_name = method.qualified_name.substr(colon + 1);
    std::size_t sharing = 0;
    bool flat = false;
    for (const auto& other : dispatcher.methods()) {
        const auto c = other.qualified_name.find(':');
        if (c != std::string::npos && other.qualified_name.substr(c + 1) == short_name) ++sharing;
        if (other.name == short_name) flat = true;
    }
    if (sharing == 1 && !flat) out.push_back(short_name);
    return out;
}

// A fragment of the table, read; a pure `$ref` stays a reference.
Json fragment(const Method& method, std::string_view what, const SchemaText& text) {
    try {
        return read_yaml(text);
    } catch (const YamlError& e) {
        throw YamlError(method.name + " " + std::string(what) + ": " + e.what());
    }
}

// The schema of a parameter as its ParamDoc gives it.
Json param_schema(const Method& method, const std::string& name) {
    for (const auto& param : method.params) {
        if (param.name == name) return fragment(method, "param " + name, param.schema);
    }
    throw std::invalid_argument(method.name + ": recipe parameter '" + name + "' has no ParamDoc");
}

// Recipes an array may match, by length; a length with several is ambiguous.
std::map<std::size_t, std::vector<const Recipe*>> recipes_by_size(const Method& method) {
    std::map<std::size_t, std::vector<const Recipe*>> out;
    for (const auto& recipe : method.recipes) {
        if (!recipe.named_only) out[recipe.params.size()].push_back(&recipe);
    }
    return out;
}

bool only_no_params(const Method& method) {
    return std::all_of(method.recipes.begin(), method.recipes.end(),
                       [](const Recipe& r) { return r.params.empty(); });
}

bool has_no_params_recipe(const Method& method) {
    return std::any_of(method.recipes.begin(), method.recipes.end(),
                       [](const Recipe& r) { return r.params.empty(); });
}

std::vector<std::string> braced_recipes(const Method& method, std::string_view open,
                                        std::string_view close) {
    std::vector<std::string> out;
    for (const auto& recipe : method.recipes) out.push_back(join(recipe.params, open, close));
    return out;
}

// The params object: every parameter, those of every recipe required, and a
// parameter that only comes with others depending on them.
Json params_schema(const Method& method) {
    std::vector<std::string> names;  // in ParamDoc order
    for (const auto& param : method.params) {
        const bool used =
            std::any_of(method.recipes.begin(), method.recipes.end(), [&](const Recipe& r) {
                return std::find(r.params.begin(), r.params.end(), param.name) != r.params.end();
            });
        if (!used)
            throw std::invalid_argument(method.name + ": ParamDoc '" + param.name +
                                        "' is in no recipe");
        names.push_back(param.name);
    }
    auto in_recipe = [](const Recipe& r, const std::string& name) {
        return std::find(r.params.begin(), r.params.end(), name) != r.params.end();
    };
    std::vector<std::string> required;
    for (const auto& name : names) {
        if (std::all_of(method.recipes.begin(), method.recipes.end(),
                        [&](const Recipe& r) { return in_recipe(r, name); })) {
            required.push_back(name);
        }
    }

    const auto sizes = recipes_by_size(method);
    std::string text = (method.recipes.size() == 1 ? "Recipe: " : "Recipes: ") +
                       listing(braced_recipes(method, "{", "}")) + ".";
    std::vector<std::string> positional, ambiguous;
    for (const auto& [size, recipes] : sizes) {
        if (recipes.size() == 1) {
            positional.push_back(join(recipes.front()->params, "[", "]"));
        } else {
            ambiguous.push_back(std::to_string(size));
        }
    }
    if (!positional.empty()) {
        text +=
            "\nPositional arrays in recipe order are accepted too: " + listing(positional, " or ") +
            ".";
    }
    if (std::any_of(method.recipes.begin(), method.recipes.end(),
                    [](const Recipe& r) { return r.named_only; })) {
        std::vector<std::string> named;
        for (const auto& recipe : method.recipes) {
            if (recipe.named_only) named.push_back(join(recipe.params, "{", "}"));
        }
        text += "\nOnly as named params: " + listing(named) + ".";
    }
    if (!ambiguous.empty()) {
        text += "\nAn array of " + listing(ambiguous, " or ") +
                " elements matches several recipes and is refused (-32602 `Ambiguous call`); "
                "use named params for those.";
    }
    if (!method.description.empty()) text += "\n\n" + method.description;

    Json out = Json::object();
    out["description"] = text + "\n";
    out["type"] = "object";
    if (!required.empty()) out["required"] = required;
    out["additionalProperties"] = false;
    Json properties = Json::object();
    for (const auto& name : names) properties[name] = param_schema(method, name);
    out["properties"] = std::move(properties);
    Json dependent = Json::object();
    for (const auto& name : names) {
        if (std::find(required.begin(), required.end(), name) != required.end()) continue;
        std::vector<std::string> with;
        for (const auto& other : names) {
            if (other == name ||
                std::find(required.begin(), required.end(), other) != required.end()) {
                continue;
            }
            const bool always = std::all_of(
                method.recipes.begin(), method.recipes.end(),
                [&](const Recipe& r) { return !in_recipe(r, name) || in_recipe(r, other); });
            if (always) with.push_back(other);
        }
        if (!with.empty()) dependent[name] = with;
    }
    if (!dependent.empty()) out["dependentRequired"] = std::move(dependent);
    return out;
}

Json array_of(const Method& method, const std::vector<std::string>& params, std::size_t min_items) {
    Json out = Json::object();
    out["type"] = "array";
    if (min_items > 0) out["minItems"] = min_items;
    out["maxItems"] = params.size();
    if (!params.empty()) {
        Json items = Json::array();
        for (const auto& name : params) items.push_back(param_schema(method, name));
        out["prefixItems"] = std::move(items);
    }
    out["items"] = false;
    return out;
}

// The positional forms: one array schema when the unambiguous recipes are the
// prefixes of the longest one, else one per length.
Json positional_schema(const Method& method) {
    std::vector<const Recipe*> forms;
    for (const auto& [size, recipes] : recipes_by_size(method)) {
        if (recipes.size() == 1) forms.push_back(recipes.front());
    }
    std::vector<std::string> shown;
    for (const auto* form : forms) shown.push_back(join(form->params, "[", "]"));
    const auto& longest = forms.back()->params;
    bool prefixes = true;
    for (std::size_t i = 0; i < forms.size(); ++i) {
        const auto& p = forms[i]->params;
        prefixes = prefixes && p.size() == forms.front()->params.size() + i &&
                   std::equal(p.begin(), p.end(), longest.begin());
    }
    Json out;
    if (prefixes) {
        out = array_of(method, longest, forms.front()->params.size());
    } else {
        out = Json::object();
        out["type"] = "array";
        Json alternatives = Json::array();
        for (const auto* form : forms)
            alternatives.push_back(array_of(method, form->params, form->params.size()));
        out["oneOf"] = std::move(alternatives);
    }
    Json described = Json::object();
    described["description"] = "Positional: " + listing(shown, " or ") + ".";
    described.update(out);
    return described;
}

Json call_schema(const Dispatcher& dispatcher, const Method& method, const std::string& pascal) {
    Json out = Json::object();
    if (!method.present_when.empty()) {
        out["description"] =
            "Only when " + method.present_when + "; otherwise -32601 `Method not found`.";
    }
    out["allOf"] = Json::array({component_ref("JsonRpcRequest")});
    if (!has_no_params_recipe(method)) out["required"] = Json::array({"params"});
    Json properties = Json::object();
    const auto names = aliases(dispatcher, method);
    Json method_name = Json::object();
    if (names.empty()) {
        method_name["const"] = method.name;
    } else {
        Json all = Json::array({method.name});
        for (const auto& alias : names) all.push_back(alias);
        method_name["enum"] = std::move(all);
    }
    properties["method"] = std::move(method_name);
    if (only_no_params(method)) {
        properties["params"] = component_ref("NoParams");
    } else {
        Json params = Json::object();
        params["oneOf"] =
            Json::array({component_ref(pascal + "Params"), positional_schema(method)});
        properties["params"] = std::move(params);
    }
    out["properties"] = std::move(properties);
    return out;
}

Json error_entry(const ErrorDoc& error) {
    Json out = Json::object();
    out["code"] = error.code;
    out["message"] = error.message;
    if (!error.data.empty()) out["data"] = error.data;
    if (!error.when.empty()) out["description"] = error.when;
    return out;
}

// The dispatcher's own errors (rpc_error.h, dispatcher.cpp), then every
// method's, each (code, message) once with the methods that answer it.
Json error_schema(const Dispatcher& dispatcher) {
    std::string text =
        "The `error` member of an answer. `code` and `message` are exact.\n"
        "`data` is present only where this list shows one.\n\n"
        "Protocol errors (the dispatcher's, for every method):\n"
        "* -32700 `Parse error`: the body is not JSON, or it is empty (id null).\n"
        "* -32600 `Invalid Request`: not an object, `jsonrpc` not `\"2.0\"`,\n"
        "  `method` not a string, `params` neither object nor array, `id` not\n"
        "  a string, number or null, or an empty batch; with `data` when a batch\n"
        "  is longer, or the body nests deeper, than the configured limits.\n"
        "* -32601 `Method not found`: no method has this name.\n"
        "* -32602 `Invalid params`, with `data` `Too few or too many parameters`,\n"
        "  `Named parameters do not match` or `Ambiguous call`: no recipe matches.\n"
        "* -32000 `Server error`: the handler failed unexpectedly.\n"
        "* -32001 `Method ambiguous`, with `data` `supported names: a, b`:\n"
        "  a bare short name that several modules share.\n"
        "* 403 `Forbidden`, with `data` (e.g. `sr_set_status needs the write role`):\n"
        "  a method beyond the caller's role, or a write to a group its token\n"
        "  may not change.\n\n"
        "Method errors (see each method's `errors` in `x-jsonrpc-methods`):\n";
    // Each (code, message) once; under it, the methods that answer it
    // alike (same data, same circumstances) on one line.
    using Key = std::pair<int, std::string>;
    using Case = std::pair<std::string, std::string>;  // data, when
    std::vector<Key> order;
    std::map<Key, std::vector<Case>> cases;
    std::map<std::pair<Key, Case>, std::vector<std::string>> raised_by;
    std::vector<std::string> datas = {"Too few or too many parameters",
                                      "Named parameters do not match", "Ambiguous call",
                                      "supported names: a, b"};
    for (const auto& method : dispatcher.methods()) {
        for (const auto& error : method.errors) {
            const Key key{error.code, error.message};
            const Case what{error.data, error.when};
            if (cases.find(key) == cases.end()) order.push_back(key);
            auto& known = cases[key];
            if (std::find(known.begin(), known.end(), what) == known.end()) known.push_back(what);
            raised_by[{key, what}].push_back("`" + method.name + "`");
            if (!error.data.empty() &&
                std::find(datas.begin(), datas.end(), error.data) == datas.end()) {
                datas.push_back(error.data);
            }
        }
    }
    Json codes = Json::array({-32700, -32600, -32601, -32602, -32000, -32001, 403});
    Json messages =
        Json::array({"Parse error", "Invalid Request", "Method not found", "Invalid params",
                     "Server error", "Method ambiguous", "Forbidden"});
    for (const auto& key : order) {
        text += "* " + std::to_string(key.first) + " `" + key.second + "`:";
        for (const auto& what : cases[key]) {
            text += "\n  " + listing(raised_by[{key, what}]);
            if (!what.first.empty()) text += ", with `data` `" + what.first + "`";
            if (!what.second.empty()) text += ", when " + what.second;
            text += ";";
        }
        text.back() = '\n';
        if (std::find(codes.begin(), codes.end(), key.first) == codes.end())
            codes.push_back(key.first);
        if (std::find(messages.begin(), messages.end(), key.second) == messages.end()) {
            messages.push_back(key.second);
        }
    }
    Json out = Json::object();
    out["description"] = text;
    out["type"] = "object";
    out["required"] = Json::array({"code", "message"});
    out["additionalProperties"] = false;
    Json properties = Json::object();
    properties["code"] = Json{{"type", "integer"}, {"examples", codes}};
    properties["message"] = Json{{"type", "string"}, {"examples", messages}};
    properties["data"] = Json{{"type", "string"}, {"examples", datas}};
    out["properties"] = std::move(properties);
    return out;
}

void add_schema(Json& schemas, const std::string& name, Json schema) {
    if (schemas.contains(name)) throw std::invalid_argument("schema '" + name + "' made twice");
    schemas[name] = std::move(schema);
}

}  // namespace

Json openapi_methods(const Dispatcher& dispatcher) {
    Json methods = Json::object();
    Json schemas = Json::object();
    add_schema(schemas, "JsonRpcError", error_schema(dispatcher));
    add_schema(schemas, "NoParams", read_yaml(R"(
description: No parameters. Omit `params`, or send `{}` or `[]`.
type: [object, array]
maxProperties: 0
maxItems: 0
)"));
    add_schema(schemas, "OkResult", read_yaml(R"(
description: The result of a method that did what it was asked (see each method's `result`).
const: OK
)"));

    Json call = Json::object();
    call["description"] =
        "A request for one of the known methods, selected by `method` (the\n"
        "flat name, or an alias). This is the typed form of `JsonRpcRequest`.\n"
        "A request for any other name is still a valid JSON-RPC request, and\n"
        "gets -32601 `Method not found`.\n";
    call["oneOf"] = Json::array();
    Json mapping = Json::object();
    Json per_method = Json::object();  // the Call, Params and Result schemas, method by method

    for (const auto& method : dispatcher.methods()) {
        const auto pascal = pascal_name(method.name);
        if (method.result.empty()) throw std::invalid_argument(method.name + ": no result schema");
        for (const auto& recipe : method.recipes) {
            for (const auto& name : recipe.params) param_schema(method, name);
        }

        const auto names = aliases(dispatcher, method);
        const Json request = component_ref(pascal + "Call");
        call["oneOf"].push_back(request);
        mapping[method.name] = request["$ref"];
        for (const auto& alias : names) mapping[alias] = request["$ref"];
        add_schema(per_method, pascal + "Call", call_schema(dispatcher, method, pascal));

        Json params_ref = component_ref("NoParams");
        if (!only_no_params(method)) {
            params_ref = component_ref(pascal + "Params");
            add_schema(per_method, pascal + "Params", params_schema(method));
        }
        Json result = fragment(method, "result", method.result);
        Json result_ref = result;
        if (!(result.is_object() && result.size() == 1 && result.contains("$ref"))) {
            result_ref = component_ref(pascal + "Result");
            add_schema(per_method, pascal + "Result", std::move(result));
        }

        Json entry = Json::object();
        entry["summary"] = method.help;
        entry["role"] = std::string(role_name(method.role));
        if (!method.description.empty()) entry["description"] = method.description + "\n";
        if (!method.present_when.empty()) entry["x-present-when"] = method.present_when;
        entry["aliases"] = names;
        Json recipes = Json::array();
        for (const auto& recipe : method.recipes) recipes.push_back(recipe.params);
        entry["recipes"] = std::move(recipes);
        entry["request"] = request;
        entry["params"] = params_ref;
        entry["result"] = result_ref;
        Json errors = Json::array();
        for (const auto& error : method.errors) errors.push_back(error_entry(error));
        entry["errors"] = std::move(errors);
        methods[method.name] = std::move(entry);
    }
    call["discriminator"] = Json{{"propertyName", "method"}, {"mapping", std::move(mapping)}};
    add_schema(schemas, "MethodCall", std::move(call));
    for (auto& [name, schema] : per_method.items()) add_schema(schemas, name, std::move(schema));
    for (const auto& shared : dispatcher.schemas()) {
        try {
            add_schema(schemas, shared.name, read_yaml(shared.schema));
        } catch (const YamlError& e) {
            throw YamlError("schema " + shared.name + ": " + e.what());
        }
    }

    Json out = Json::object();
    out["x-jsonrpc-methods"] = std::move(methods);
    out["schemas"] = std::move(schemas);
    return out;
}

std::string openapi_document(std::string_view pages_yaml) {
    // Every method family, on objects that serve no request: only the table is read.
    core::Registry registry;
    core::EventHub hub(
        [](std::string_view) -> std::variant<std::shared_ptr<core::EventSink>, std::string> {
            return std::string("not serving");
        });
    std::atomic<bool> profiling{false};
    Dispatcher dispatcher;
    add_all_methods(dispatcher, registry, hub, &profiling, ServerInfo{});
    auto methods = openapi_methods(dispatcher);

    const Json pages = read_yaml(pages_yaml);
    if (!pages.is_object() || !pages.contains("components") ||
        !pages["components"].contains("schemas")) {
        throw std::invalid_argument("the hand-written part has no components.schemas");
    }
    Json document = Json::object();
    for (const auto& [key, value] : pages.items()) {
        if (key == "components") document["x-jsonrpc-methods"] = methods["x-jsonrpc-methods"];
        document[key] = value;
    }
    auto& schemas = document["components"]["schemas"];
    for (auto& [name, schema] : methods["schemas"].items()) {
        if (schemas.contains(name))
            throw std::invalid_argument("schema '" + name + "' is hand-written too");
        schemas[name] = std::move(schema);
    }
    return write_yaml(document);
}

}  // namespace srmi::rpc
