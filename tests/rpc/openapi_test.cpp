// The API description made from the dispatch table (rpc/openapi.h), and the
// YAML reading and writing under it (rpc/yaml.h).
#include "rpc/openapi.h"

#include <doctest/doctest.h>

#include <atomic>

#include "core/event_hub.h"
#include "core/registry.h"
#include "rpc/methods.h"
#include "rpc/yaml.h"

using namespace srmi::rpc;

namespace {

Reply ok(const Params&) { return Json("OK"); }

}  // namespace

TEST_CASE("YAML is read as JSON with YAML 1.2's core types") {
    const auto value = read_yaml(R"(
a: 1
b: -2.5
c: [true, null, ~, 'on', on, '7', x:y]
d: |
  two
  lines
)");
    CHECK(value ==
          Json::parse(
              R"({"a":1,"b":-2.5,"c":[true,null,null,"on","on","7","x:y"],"d":"two\nlines\n"})"));
    CHECK_THROWS_AS(read_yaml("a: 1\na: 2\n"), YamlError);
    CHECK_THROWS_AS(read_yaml("a: &x 1\nb: *x\n"), YamlError);
    CHECK_THROWS_AS(read_yaml("a: [1\n"), YamlError);
}

TEST_CASE("written YAML reads back as the same JSON, ambiguous strings quoted") {
    const auto value = Json::parse(R"({"200": {"description": "line one\nline two\n"},
        "words": ["on", "off", "yes", "no", "null", "true", "1.5", "-3", "", "#x", "a: b", "OK"],
        "nested": {"list": [[1, 2], []], "empty": {}}, "n": 3, "f": 0.5, "b": false, "z": null})");
    const auto text = write_yaml(value);
    CHECK(read_yaml(text) == value);
    CHECK(text.find("'on'") != std::string::npos);
    CHECK(text.find("'200':") != std::string::npos);
    CHECK(text.find("description: |") != std::string::npos);
    CHECK(write_yaml(value) == text);  // deterministic
}

TEST_CASE("a method's params schema and positional forms follow from its recipes") {
    Dispatcher dispatcher;
    dispatcher.add({
        .name = "set_thing",
        .help = "sets a thing",
        .recipes = {{{"group", "status"}, ok},
                    {{"group", "status", "details"}, ok},
                    {{"group", "identifier", "status"}, ok}},
        .role = Role::kWrite,
        .params = {{"group", "type: string"},
                   {"identifier", "type: string"},
                   {"status", "type: integer"},
                   {"details", "type: string"}},
        .result = "const: OK",
        .errors = {{404, "Group not found", "", "no such group"}},
    });
    dispatcher.add({.name = "list_things",
                    .help = "lists things",
                    .recipes = {{{}, ok}, {{"group"}, ok}, {{"group", "identifier"}, ok}},
                    .qualified_name = "things:list",
                    .role = Role::kRead,
                    .params = {{"group", "type: string"}, {"identifier", "type: string"}},
                    .result = "type: array"});
    const auto doc = openapi_methods(dispatcher);
    const auto& schemas = doc["schemas"];

    const auto& set = schemas["SetThingParams"];
    CHECK(set["required"] == Json::parse(R"(["group","status"])"));
    CHECK(set["additionalProperties"] == false);
    CHECK(set["description"].get<std::string>().find("An array of 3 elements matches several") !=
          std::string::npos);
    // Lengths 2 only: the 3-element arrays are ambiguous.
    const auto& set_forms = schemas["SetThingCall"]["properties"]["params"]["oneOf"][1];
    CHECK(set_forms["maxItems"] == 2);

    const auto& list = schemas["ListThingsParams"];
    CHECK_FALSE(list.contains("required"));
    CHECK(list["dependentRequired"] == Json::parse(R"({"identifier":["group"]})"));
    const auto& list_forms = schemas["ListThingsCall"]["properties"]["params"]["oneOf"][1];
    CHECK(list_forms["maxItems"] == 2);
    CHECK_FALSE(list_forms.contains("minItems"));
    CHECK(schemas["ListThingsCall"]["properties"]["method"]["enum"] ==
          Json::parse(R"(["list_things","things:list","list"])"));

    const auto& methods = doc["x-jsonrpc-methods"];
    CHECK(methods["set_thing"]["role"] == "write");
    CHECK(methods["set_thing"]["errors"][0]["description"] == "no such group");
    CHECK(methods["list_things"]["result"]["$ref"] == "#/components/schemas/ListThingsResult");
    CHECK(schemas["MethodCall"]["discriminator"]["mapping"]["things:list"] ==
          "#/components/schemas/ListThingsCall");
    CHECK(schemas["JsonRpcError"]["description"].get<std::string>().find("`set_thing`") !=
          std::string::npos);
}

TEST_CASE("a table entry the description cannot be made of is refused") {
    Dispatcher no_type;
    no_type.add({.name = "m", .help = "h", .recipes = {{{"x"}, ok}}, .result = "type: string"});
    CHECK_THROWS_AS(openapi_methods(no_type), std::invalid_argument);

    Dispatcher no_result;
    no_result.add({.name = "m", .help = "h", .recipes = {{{}, ok}}});
    CHECK_THROWS_AS(openapi_methods(no_result), std::invalid_argument);

    Dispatcher bad_yaml;
    bad_yaml.add({.name = "m", .help = "h", .recipes = {{{}, ok}}, .result = "type: [string"});
    CHECK_THROWS_AS(openapi_methods(bad_yaml), YamlError);
}

TEST_CASE("every method of the server's table is described") {
    srmi::core::Registry registry;
    srmi::core::EventHub hub(
        [](std::string_view) -> std::variant<std::shared_ptr<srmi::core::EventSink>, std::string> {
            return std::string("unused");
        });
    std::atomic<bool> profiling{false};
    Dispatcher dispatcher;
    add_all_methods(dispatcher, registry, hub, &profiling, ServerInfo{});
    const auto doc = openapi_methods(dispatcher);
    const auto& methods = doc["x-jsonrpc-methods"];
    REQUIRE(methods.size() == dispatcher.methods().size());
    for (const auto& method : dispatcher.methods()) {
        CAPTURE(method.name);
        const auto& entry = methods[method.name];
        CHECK(entry["summary"] == method.help);
        CHECK(entry["recipes"].size() == method.recipes.size());
        const std::string result = entry["result"]["$ref"];
        CHECK(doc["schemas"].contains(result.substr(result.rfind('/') + 1)));
    }
}
