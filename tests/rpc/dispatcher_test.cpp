// Dispatcher: JSON-RPC 2.0 validation, ids, notifications, batches, recipe
// matching, handler errors and method-name resolution, over a test table.
#include "rpc/dispatcher.h"

#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "rpc/rpc_error.h"

using srmi::rpc::Dispatcher;
using srmi::rpc::Method;
using srmi::rpc::Params;
using srmi::rpc::Recipe;
using srmi::rpc::Reply;
using srmi::rpc::RpcError;
using json = nlohmann::json;

namespace {

/// A recipe whose handler answers {"recipe": "a,b", "values": [a, b]}: which
/// recipe matched, and the values bound to its names in recipe order.
Recipe echo_recipe(std::vector<std::string> names) {
    Recipe recipe{names, {}};
    recipe.handler = [names](const Params& p) -> Reply {
        std::string joined;
        srmi::rpc::Json values = srmi::rpc::Json::array();
        for (const auto& n : names) {
            if (!joined.empty()) joined += ",";
            joined += n;
            if (!p.has(n)) throw std::logic_error("parameter not bound: " + n);
            values.push_back(p[n]);
        }
        return srmi::rpc::Json{{"recipe", joined}, {"values", values}};
    };
    return recipe;
}

Method plain(std::string name, Reply reply, std::string qualified = "") {
    return Method{std::move(name),
                  "help",
                  {{{}, [reply](const Params&) { return reply; }}},
                  std::move(qualified)};
}

struct TestTable {
    int counted = 0;
    Dispatcher dispatcher;

    TestTable() {
        dispatcher.add(Method{"echo",
                              "echoes the recipe that matched",
                              {echo_recipe({}), echo_recipe({"a"}), echo_recipe({"a", "b"}),
                               echo_recipe({"x", "y"}), echo_recipe({"c", "a", "b"})},
                              "test:echo"});
        dispatcher.add(Method{"needs_arg", "one parameter only", {echo_recipe({"a"})}, ""});
        dispatcher.add(Method{"count",
                              "counts its calls",
                              {{{},
                                [this](const Params&) -> Reply {
                                    ++counted;
                                    return srmi::rpc::Json(counted);
                                }}},
                              ""});
        dispatcher.add(
            Method{"boom",
                   "throws",
                   {{{}, [](const Params&) -> Reply { throw std::runtime_error("boom"); }},
                    {{"n"}, [](const Params&) -> Reply { throw 42; }}},
                   ""});
        dispatcher.add(plain("fail", RpcError{404, "Nothing here", std::nullopt}));
        dispatcher.add(plain("fail_data", RpcError{400, "Bad thing", "because"}));
        dispatcher.add(plain("get_a", srmi::rpc::Json("from a"), "a:x"));
        dispatcher.add(plain("get_b", srmi::rpc::Json("from b"), "b:x"));
        dispatcher.add(plain("get_only", srmi::rpc::Json("the only one"), "m:only"));
    }

    /// The answer to `body`, parsed; fails the test if there is none.
    json answer(const std::string& body) const {
        auto text = dispatcher.handle(body);
        REQUIRE(text.has_value());
        return json::parse(*text);
    }

    /// The answer to a request for `method` with `params` (omitted when null) and id 1.
    json call(const std::string& method, const json& params = nullptr) const {
        json request{{"jsonrpc", "2.0"}, {"method", method}, {"id", 1}};
        if (!params.is_null()) request["params"] = params;
        return answer(request.dump());
    }
};

json error_answer(int code, const std::string& message, const json& id,
                  const std::optional<std::string>& data = std::nullopt) {
    json error{{"code", code}, {"message", message}};
    if (data) error["data"] = *data;
    return json{{"jsonrpc", "2.0"}, {"error", error}, {"id", id}};
}

json result_answer(const json& result, const json& id) {
    return json{{"jsonrpc", "2.0"}, {"result", result}, {"id", id}};
}

json echoed(const std::string& recipe, const json& values = json::array()) {
    return json{{"recipe", recipe}, {"values", values}};
}

json invalid_params(const std::string& data, const json& id = 1) {
    return error_answer(-32602, "Invalid params", id, data);
}

}  // namespace

TEST_CASE("requests that are not valid JSON-RPC are rejected as the table says") {
    TestTable t;

    SUBCASE("body is not JSON: -32700, id null") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","id":1)") ==
              error_answer(-32700, "Parse error", nullptr));
        CHECK(t.answer("") == error_answer(-32700, "Parse error", nullptr));
        CHECK(t.answer("nonsense") == error_answer(-32700, "Parse error", nullptr));
    }
    SUBCASE("not an object: -32600, id null") {
        for (const char* body : {"5", R"("echo")", "null", "true"}) {
            CAPTURE(body);
            CHECK(t.answer(body) == error_answer(-32600, "Invalid Request", nullptr));
        }
    }
    SUBCASE("jsonrpc missing or not exactly \"2.0\": the request's id") {
        CHECK(t.answer(R"({"method":"echo","id":3})") ==
              error_answer(-32600, "Invalid Request", 3));
        CHECK(t.answer(R"({"jsonrpc":"1.0","method":"echo","id":"q"})") ==
              error_answer(-32600, "Invalid Request", "q"));
        CHECK(t.answer(R"({"jsonrpc":2.0,"method":"echo","id":4})") ==
              error_answer(-32600, "Invalid Request", 4));
        CHECK(t.answer(R"({"jsonrpc":"2.0 ","method":"echo","id":5})") ==
              error_answer(-32600, "Invalid Request", 5));
    }
    SUBCASE("method missing or not a string: the request's id") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","id":6})") ==
              error_answer(-32600, "Invalid Request", 6));
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":7,"id":"m"})") ==
              error_answer(-32600, "Invalid Request", "m"));
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":["echo"],"id":8})") ==
              error_answer(-32600, "Invalid Request", 8));
    }
    SUBCASE("params neither object nor array: the request's id") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","params":"a","id":9})") ==
              error_answer(-32600, "Invalid Request", 9));
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","params":3,"id":10})") ==
              error_answer(-32600, "Invalid Request", 10));
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","params":null,"id":11})") ==
              error_answer(-32600, "Invalid Request", 11));
        CHECK(t.counted == 0);
    }
    SUBCASE("id neither string, number nor null: id null") {
        for (const char* id : {"{}", R"({"a":1})", "[]", "[1]", "true", "false"}) {
            CAPTURE(id);
            const std::string body =
                std::string(R"({"jsonrpc":"2.0","method":"count","id":)") + id + "}";
            CHECK(t.answer(body) == error_answer(-32600, "Invalid Request", nullptr));
        }
        CHECK(t.counted == 0);  // not executed
    }
    SUBCASE("unknown method: -32601 with the request's id") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"nope","id":"u"})") ==
              error_answer(-32601, "Method not found", "u"));
        CHECK(t.call("ECHO") ==
              error_answer(-32601, "Method not found", 1));  // names are case-sensitive
        CHECK(t.call("") == error_answer(-32601, "Method not found", 1));
    }
}

TEST_CASE("the body is read as nlohmann reads JSON") {
    TestTable t;
    const json parse_error = error_answer(-32700, "Parse error", nullptr);

    SUBCASE("a byte order mark before the request is skipped") {
        CHECK(t.answer("\xEF\xBB\xBF"
                       R"({"jsonrpc":"2.0","method":"echo","id":1})") ==
              result_answer(echoed(""), 1));
        CHECK(t.answer("\xEF\xBB"
                       R"({"jsonrpc":"2.0","method":"echo","id":1})") == parse_error);
    }
    SUBCASE("a NUL byte ends the text; inside a string it is an error") {
        const std::string request = R"({"jsonrpc":"2.0","method":"echo","id":1})";
        CHECK(t.answer(request + std::string("\0 trailing junk", 15)) ==
              result_answer(echoed(""), 1));
        CHECK(t.answer(std::string(R"({"jsonrpc":"2.0","method":"ec)") + '\0' + R"(ho","id":1})") ==
              parse_error);
    }
    SUBCASE("a key given twice keeps its first place and its last value") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"nope","id":1,"method":"echo"})") ==
              result_answer(echoed(""), 1));
        CHECK(t.call("echo", {{"a", 1}, {"b", 2}}) == result_answer(echoed("a,b", {1, 2}), 1));
        CHECK(
            t.answer(R"({"jsonrpc":"2.0","method":"echo","params":{"a":1,"b":2,"a":3},"id":1})") ==
            result_answer(echoed("a,b", {3, 2}), 1));
    }
    SUBCASE("strings: UTF-8 checked, escapes as UTF-16 pairs") {
        CHECK(t.answer(
                  R"({"jsonrpc":"2.0","method":"echo","params":["\u00e9\uD83D\uDE00"],"id":1})") ==
              result_answer(echoed("a", {"\xC3\xA9\xF0\x9F\x98\x80"}), 1));
        for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\\uD83D",
                                "\\uDE00", "\\uD83D\\u0041", "\t"}) {
            CAPTURE(bad);
            CHECK(t.answer(std::string(R"({"jsonrpc":"2.0","method":"echo","params":[")") + bad +
                           R"("],"id":1})") == parse_error);
        }
    }
    SUBCASE("numbers: 64-bit integers kept, larger ones read as doubles, overflow refused") {
        auto text = t.dispatcher.handle(
            R"({"jsonrpc":"2.0","method":"echo","params":[-9223372036854775808],"id":123456789012345678901234567890})");
        REQUIRE(text.has_value());
        CHECK(text->find(R"("values":[-9223372036854775808])") != std::string::npos);
        CHECK(text->find(R"("id":1.2345678901234568e+29)") != std::string::npos);
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","params":[1e400],"id":1})") ==
              parse_error);
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","params":[01],"id":1})") == parse_error);
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","id":-0})") ==
              result_answer(echoed(""), 0));
    }
}

TEST_CASE("the id is echoed exactly as sent") {
    TestTable t;
    const json result = echoed("");

    SUBCASE("string") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","id":"abc"})") ==
              result_answer(result, "abc"));
    }
    SUBCASE("null") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","id":null})") ==
              result_answer(result, nullptr));
    }
    SUBCASE("integer") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","id":7})") == result_answer(result, 7));
    }
    SUBCASE("1.5 stays 1.5") {
        auto text = t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"echo","id":1.5})");
        REQUIRE(text.has_value());
        CHECK(text->find("\"id\":1.5") != std::string::npos);
        CHECK(json::parse(*text) == result_answer(result, 1.5));
    }
    SUBCASE("large and negative numbers") {
        auto text =
            t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"echo","id":18446744073709551615})");
        REQUIRE(text.has_value());
        CHECK(text->find("\"id\":18446744073709551615") != std::string::npos);
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"echo","id":-3})") ==
              result_answer(result, -3));
    }
    SUBCASE("on errors too") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"fail","id":2.25})") ==
              error_answer(404, "Nothing here", 2.25));
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"nope","id":null})") ==
              error_answer(-32601, "Method not found", nullptr));
    }
}

TEST_CASE("notifications are executed but not answered") {
    TestTable t;

    CHECK_FALSE(t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"count"})").has_value());
    CHECK(t.counted == 1);
    CHECK_FALSE(
        t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"count","params":[]})").has_value());
    CHECK(t.counted == 2);

    SUBCASE("also when the method fails or is unknown") {
        CHECK_FALSE(t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"boom"})").has_value());
        CHECK_FALSE(t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"fail"})").has_value());
        CHECK_FALSE(t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"nope"})").has_value());
        CHECK_FALSE(t.dispatcher.handle(R"({"jsonrpc":"2.0","method":"needs_arg"})").has_value());
    }
    SUBCASE("a structurally invalid request without id is answered, not executed") {
        // As JSON-RPC 2.0's own example: {"jsonrpc":"2.0","method":1} -> -32600, id null.
        CHECK(t.answer(R"({"method":"count"})") ==
              error_answer(-32600, "Invalid Request", nullptr));
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":1})") ==
              error_answer(-32600, "Invalid Request", nullptr));
        CHECK(t.counted == 2);
    }
    SUBCASE("an id of null is not a notification") {
        CHECK(t.answer(R"({"jsonrpc":"2.0","method":"count","id":null})") ==
              result_answer(3, nullptr));
    }
}

TEST_CASE("batches answer in order and omit notifications") {
    TestTable t;

    SUBCASE("mixed batch") {
        const auto body = R"([
            {"jsonrpc":"2.0","method":"echo","params":{"a":1},"id":"first"},
            {"jsonrpc":"2.0","method":"count"},
            {"jsonrpc":"2.0","method":"nope","id":2},
            {"jsonrpc":"2.0","method":"count","id":3}
        ])";
        CHECK(t.answer(body) ==
              json::array({result_answer(echoed("a", {1}), "first"),
                           error_answer(-32601, "Method not found", 2), result_answer(2, 3)}));
        CHECK(t.counted == 2);
    }
    SUBCASE("only notifications: nothing to answer") {
        CHECK_FALSE(t.dispatcher
                        .handle(R"([{"jsonrpc":"2.0","method":"count"},
                                            {"jsonrpc":"2.0","method":"count"}])")
                        .has_value());
        CHECK(t.counted == 2);
    }
    SUBCASE("empty batch: one -32600 with id null, not an array") {
        CHECK(t.answer("[]") == error_answer(-32600, "Invalid Request", nullptr));
    }
    SUBCASE("elements that are not objects: -32600 with id null in place") {
        CHECK(t.answer(R"([1, "x", {"jsonrpc":"2.0","method":"count","id":9}, []])") ==
              json::array({error_answer(-32600, "Invalid Request", nullptr),
                           error_answer(-32600, "Invalid Request", nullptr), result_answer(1, 9),
                           error_answer(-32600, "Invalid Request", nullptr)}));
    }
    SUBCASE("invalid elements keep their own ids") {
        CHECK(
            t.answer(
                R"([{"jsonrpc":"1.0","method":"echo","id":1},{"jsonrpc":"2.0","method":"echo","id":2}])") ==
            json::array(
                {error_answer(-32600, "Invalid Request", 1), result_answer(echoed(""), 2)}));
    }
}

TEST_CASE("params {} and [] count as no parameters") {
    TestTable t;
    CHECK(t.call("echo") == result_answer(echoed(""), 1));
    CHECK(t.call("echo", json::object()) == result_answer(echoed(""), 1));
    CHECK(t.call("echo", json::array()) == result_answer(echoed(""), 1));

    SUBCASE("and a method without an empty recipe refuses them") {
        for (const json& params : {json(nullptr), json::object(), json::array()}) {
            CAPTURE(params.dump());
            CHECK(t.call("needs_arg", params) == invalid_params("Too few or too many parameters"));
        }
    }
}

TEST_CASE("named parameters pick the recipe with exactly those names") {
    TestTable t;

    SUBCASE("exact matches") {
        CHECK(t.call("echo", {{"a", "v"}}) == result_answer(echoed("a", {"v"}), 1));
        CHECK(t.call("echo", {{"b", 2}, {"a", 1}}) == result_answer(echoed("a,b", {1, 2}), 1));
        CHECK(t.call("echo", {{"x", true}, {"y", nullptr}}) ==
              result_answer(echoed("x,y", {true, nullptr}), 1));
        CHECK(t.call("echo", {{"a", 1}, {"b", 2}, {"c", 3}}) ==
              result_answer(echoed("c,a,b", {3, 1, 2}), 1));
    }
    SUBCASE("no recipe of that size: too few or too many") {
        CHECK(t.call("echo", {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}) ==
              invalid_params("Too few or too many parameters"));
        CHECK(t.call("needs_arg", {{"a", 1}, {"b", 2}}) ==
              invalid_params("Too few or too many parameters"));
    }
    SUBCASE("a recipe of that size but other names: names do not match") {
        CHECK(t.call("echo", {{"z", 1}}) == invalid_params("Named parameters do not match"));
        CHECK(t.call("echo", {{"a", 1}, {"y", 2}}) ==
              invalid_params("Named parameters do not match"));
        CHECK(t.call("echo", {{"A", 1}}) == invalid_params("Named parameters do not match"));
    }
}

TEST_CASE("positional parameters are taken in recipe order") {
    TestTable t;

    CHECK(t.call("echo", {"v"}) == result_answer(echoed("a", {"v"}), 1));
    CHECK(t.call("echo", {1, 2, 3}) == result_answer(echoed("c,a,b", {1, 2, 3}), 1));
    CHECK(t.call("needs_arg", {"only"}) == result_answer(echoed("a", {"only"}), 1));

    SUBCASE("no recipe of that size: too few or too many") {
        CHECK(t.call("echo", {1, 2, 3, 4}) == invalid_params("Too few or too many parameters"));
        CHECK(t.call("needs_arg", {1, 2}) == invalid_params("Too few or too many parameters"));
        CHECK(t.call("count", {1}) == invalid_params("Too few or too many parameters"));
    }
    SUBCASE("two recipes of that size: ambiguous call") {
        CHECK(t.call("echo", {1, 2}) == invalid_params("Ambiguous call"));
    }
}

TEST_CASE("handler failures become error answers") {
    TestTable t;

    SUBCASE("a thrown exception is -32000 Server error") {
        CHECK(t.call("boom") == error_answer(-32000, "Server error", 1));
    }
    SUBCASE("a thrown non-exception is -32000 Server error") {
        CHECK(t.call("boom", {{"n", 1}}) == error_answer(-32000, "Server error", 1));
    }
    SUBCASE("the dispatcher keeps answering afterwards") {
        CHECK(t.call("boom") == error_answer(-32000, "Server error", 1));
        CHECK(t.call("count") == result_answer(1, 1));
    }
    SUBCASE("a returned RpcError without data has no data member") {
        const json answer = t.call("fail");
        CHECK(answer == error_answer(404, "Nothing here", 1));
        CHECK_FALSE(answer["error"].contains("data"));
    }
    SUBCASE("a returned RpcError with data") {
        CHECK(t.call("fail_data") == error_answer(400, "Bad thing", 1, "because"));
    }
}

TEST_CASE("the dispatch table rejects duplicate names") {
    TestTable t;
    const auto size_before = t.dispatcher.methods().size();

    SUBCASE("same flat name") {
        CHECK_THROWS_AS(t.dispatcher.add(plain("echo", srmi::rpc::Json(1))), std::invalid_argument);
    }
    SUBCASE("flat name equal to an existing alias") {
        CHECK_THROWS_AS(t.dispatcher.add(plain("test:echo", srmi::rpc::Json(1))),
                        std::invalid_argument);
    }
    SUBCASE("alias equal to an existing flat name") {
        CHECK_THROWS_AS(t.dispatcher.add(plain("fresh", srmi::rpc::Json(1), "count")),
                        std::invalid_argument);
    }
    SUBCASE("same alias") {
        CHECK_THROWS_AS(t.dispatcher.add(plain("fresh", srmi::rpc::Json(1), "a:x")),
                        std::invalid_argument);
    }
    SUBCASE("empty name") {
        CHECK_THROWS_AS(t.dispatcher.add(plain("", srmi::rpc::Json(1))), std::invalid_argument);
    }
    SUBCASE("the same recipe twice, in any order") {
        CHECK_THROWS_AS(t.dispatcher.add(Method{
                            "fresh", "h", {echo_recipe({"a", "b"}), echo_recipe({"b", "a"})}, ""}),
                        std::invalid_argument);
    }

    CHECK(t.dispatcher.methods().size() == size_before);
    CHECK(t.call("fresh") == error_answer(-32601, "Method not found", 1));
    CHECK(t.call("echo") == result_answer(echoed(""), 1));
}

TEST_CASE("methods are listed in table order") {
    TestTable t;
    std::vector<std::string> names;
    for (const auto& m : t.dispatcher.methods()) names.push_back(m.name);
    CHECK(names == std::vector<std::string>{"echo", "needs_arg", "count", "boom", "fail",
                                            "fail_data", "get_a", "get_b", "get_only"});
}

TEST_CASE("method names resolve as flat, qualified or unique short names") {
    TestTable t;

    auto resolved_name = [&](const std::string& name) -> std::string {
        auto found = t.dispatcher.resolve(name);
        REQUIRE(std::holds_alternative<const Method*>(found));
        return std::get<const Method*>(found)->name;
    };

    SUBCASE("flat name and module:cmd alias") {
        CHECK(resolved_name("get_a") == "get_a");
        CHECK(resolved_name("a:x") == "get_a");
        CHECK(resolved_name("b:x") == "get_b");
        CHECK(resolved_name("test:echo") == "echo");
        CHECK(t.call("a:x") == result_answer("from a", 1));
        CHECK(t.call("test:echo", {{"a", 5}}) == result_answer(echoed("a", {5}), 1));
    }
    SUBCASE("a short name only one module exports") {
        CHECK(resolved_name("only") == "get_only");
        CHECK(t.call("only") == result_answer("the only one", 1));
    }
    SUBCASE("a short name two modules share is ambiguous") {
        auto found = t.dispatcher.resolve("x");
        REQUIRE(std::holds_alternative<RpcError>(found));
        CHECK(std::get<RpcError>(found) ==
              RpcError{-32001, "Method ambiguous", "supported names: a:x, b:x"});
        CHECK(t.call("x") ==
              error_answer(-32001, "Method ambiguous", 1, "supported names: a:x, b:x"));
    }
    SUBCASE("unknown names and wrong modules") {
        CHECK(std::get<RpcError>(t.dispatcher.resolve("c:x")) ==
              srmi::rpc::errors::method_not_found());
        CHECK(std::get<RpcError>(t.dispatcher.resolve("a:only")) ==
              srmi::rpc::errors::method_not_found());
        CHECK(std::get<RpcError>(t.dispatcher.resolve("test")) ==
              srmi::rpc::errors::method_not_found());
    }
}

TEST_CASE("the done hook times each call of a batch on its own") {
    // One clock read ends a call and starts the next: a slow call is not
    // counted again in the calls after it, nor a fast one before it.
    Dispatcher dispatcher;
    dispatcher.add(Method{"slow",
                          "sleeps 100 ms",
                          {{{},
                            [](const Params&) -> Reply {
                                // The slowness under test, not a wait.
                                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                return srmi::rpc::Json(true);
                            }}},
                          ""});
    dispatcher.add(plain("fast", srmi::rpc::Json(true)));
    std::vector<std::pair<std::string, std::chrono::nanoseconds>> done;
    dispatcher.on_call_done([&](std::string_view method, int, std::chrono::nanoseconds elapsed) {
        done.emplace_back(std::string(method), elapsed);
    });
    const auto before = std::chrono::steady_clock::now();
    dispatcher.handle(R"([{"jsonrpc":"2.0","method":"fast","id":1},
                          {"jsonrpc":"2.0","method":"slow","id":2},
                          {"jsonrpc":"2.0","method":"fast","id":3}])");
    const auto wall = std::chrono::steady_clock::now() - before;
    REQUIRE(done.size() == 3);
    CHECK(done[0].first == "fast");
    CHECK(done[1].first == "slow");
    CHECK(done[2].first == "fast");
    CHECK(done[1].second >= std::chrono::milliseconds(100));
    // The three times do not overlap: a call timed from an earlier call's
    // start would count the slow one twice, past the whole batch's time.
    CHECK(done[0].second + done[1].second + done[2].second <= wall);
}
