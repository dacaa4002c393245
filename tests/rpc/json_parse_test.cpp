// parse_json against nlohmann's Json::parse: the same verdict on every text,
// and when both accept, the same tree (types included: 1 is unsigned, -1
// signed, 1.0 a double), over hand-picked edge cases and seeded mutations;
// the cases simdjson refuses and nlohmann accepts take the SAX path.
#include "rpc/json_parse.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/support/same_json.h"

using srmi::rpc::Json;
using srmi::rpc::parse_json;

namespace {

/// Empty when both agree; else what differs, for the failure message.
std::string disagreement(const std::string& text) {
    const Json theirs = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    Json ours;
    const bool accepted = parse_json(text, ours, 10000);
    if (accepted != !theirs.is_discarded()) {
        return std::string(accepted ? "accepted" : "refused") + " what nlohmann " +
               (accepted ? "refuses" : "accepts") + ": " + text;
    }
    if (accepted && !srmi::test::same_json(ours, theirs))
        return "different tree for: " + text + " -> " + ours.dump();
    return {};
}

const std::vector<std::string> kCases = {
    // documents and whitespace
    "",
    " ",
    "null",
    " true ",
    "\tfalse\n",
    "\r\n[]\r\n",
    "{}",
    "[1]x",
    "nul",
    "truex",
    "[true false]",
    "\xEF\xBB\xBF{}",
    "\xEF\xBB{}",
    "\xEF{}",
    "{}\xEF\xBB\xBF",
    std::string("[1]\0", 4),
    std::string("\0", 1),
    std::string("[1] \0 junk", 10),
    std::string("[1\0]", 4),
    std::string("\"a\0\"", 4),
    std::string(" \0[1]", 5),
    // objects and arrays
    R"({"a":1,"b":[1,2,{"c":null}]})",
    R"({"a":1,})",
    R"({,})",
    R"({"a"})",
    R"({"a":})",
    R"({a:1})",
    R"([1,])",
    R"([,1])",
    R"([[[]]])",
    R"({"":0})",
    R"({"a":1,"a":2})",
    R"({"a":1,"b":2,"a":{"x":1}})",
    R"({"a" : 1 , "b" : 2})",
    "[1 , 2 ,3 ]",
    "[",
    "]",
    "{",
    "}",
    R"({"a":1}})",
    R"([1]])",
    // numbers
    "0",
    "-0",
    "1",
    "-1",
    "01",
    "-01",
    "1.",
    ".5",
    "1.5",
    "-1.5e3",
    "1e",
    "1e+",
    "1E-2",
    "1e400",
    "-1e400",
    "1e-400",
    "+1",
    "- 1",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "9223372036854775807",
    "9223372036854775808",
    "123456789012345678901234567890",
    "0.1",
    "2.2250738585072011e-308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "[0,-0,0.0,-0.0]",
    "00",
    "0x10",
    "Infinity",
    "NaN",
    "1_000",
    // strings and escapes
    R"("")",
    R"("abc")",
    R"("a\"b\\c\/d\b\f\n\r\t")",
    R"("\u0041\u00e9\u4e2d")",
    R"("\u0000")",
    R"("\uD83D\uDE00")",
    R"("\uD83D")",
    R"("\uD83Dx")",
    R"("\uD83D\u0041")",
    R"("\uDE00")",
    R"("\u12")",
    R"("\u12G4")",
    R"("\x41")",
    R"("\a")",
    "\"a\tb\"",
    "\"a\nb\"",
    "\"\x1f\"",
    "\"\x7f\"",
    R"("unterminated)",
    R"("a\)",
    "\"\\",
    "\"\\u",
    "\"\\uD800\\",
    "\"\\uD800\\u",
    // UTF-8: valid, overlong, surrogates, out of range, truncated
    "\"\xC3\xA9\"",
    "\"\xE4\xB8\xAD\"",
    "\"\xF0\x9F\x98\x80\"",
    "\"\xC0\xAF\"",
    "\"\xC1\xBF\"",
    "\"\xC2\"",
    "\"\xE0\x80\xAF\"",
    "\"\xE0\xA0\x80\"",
    "\"\xED\x9F\xBF\"",
    "\"\xED\xA0\x80\"",
    "\"\xEF\xBF\xBF\"",
    "\"\xF0\x8F\xBF\xBF\"",
    "\"\xF0\x90\x80\x80\"",
    "\"\xF4\x8F\xBF\xBF\"",
    "\"\xF4\x90\x80\x80\"",
    "\"\xF5\x80\x80\x80\"",
    "\"\xFF\"",
    "\"\x80\"",
    "\"\xE4\xB8\"",
    "\"\xF0\x9F\x98\"",
    // what the server sees
    R"({"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"core"},"id":1})",
    R"([{"jsonrpc":"2.0","method":"version","id":"a"},{"jsonrpc":"2.0","method":"x"}])",
    R"({"jsonrpc":"2.0","method":"sr_set_status","params":["g","i",-2,"d"],"id":18446744073709551615})",
    // what simdjson refuses and nlohmann reads: whole trees on the SAX path
    R"({"id":123456789012345678901234567890,"params":[-9223372036854775809,{"a":1,"a":[2]}]})",
    "\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"params\":{\"a\":[1,-1,1.5,\"\\u00e9\",null,true]}}",
    std::string("{\"a\":[1,{\"b\":2,\"b\":3}]}\0{", 25),
};

}  // namespace

TEST_CASE("parse_json agrees with nlohmann on edge cases") {
    for (const auto& text : kCases) {
        CAPTURE(text);
        CHECK(disagreement(text) == "");
    }
}

TEST_CASE("parse_json agrees with nlohmann on mutations of valid documents") {
    // Seeded, bounded: the same 20 000 texts on every run.
    std::mt19937 random(20261123);
    const std::vector<std::string> seeds = {
        R"({"jsonrpc":"2.0","method":"sr_set_status","params":{"group":"g","status":-1,"details":"x\u00e9"},"id":7})",
        R"([1,-2,3.5e2,true,false,null,"\uD83D\uDE00",{"a":[{}],"a":0}])",
        "\"\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80\\n\"",
    };
    const std::string alphabet = "{}[]\":,.-+eE0123456789\\/ubfnrtu \t\n\xC3\xA9\xED\xF0\x80\xBF";
    int checked = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string text = seeds[random() % seeds.size()];
        const int edits = 1 + static_cast<int>(random() % 4);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            const std::size_t at = random() % text.size();
            const char c = alphabet[random() % alphabet.size()];
            switch (random() % 3) {
                case 0:
                    text[at] = c;
                    break;
                case 1:
                    text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
                    break;
                default:
                    text.erase(at, 1);
                    break;
            }
        }
        const auto why = disagreement(text);
        if (!why.empty()) {
            FAIL(why);
            break;
        }
        ++checked;
    }
    CHECK(checked == 20000);
}

TEST_CASE(
    "parse_json: a key given many times in a large object keeps its first place and last value") {
    std::string text = "{";
    for (int i = 0; i < 100; ++i)
        text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    text += R"("k3":"last","k50":[1]})";
    CHECK(disagreement(text) == "");
    Json ours;
    REQUIRE(parse_json(text, ours, 10));
    CHECK(ours.size() == 100);
    CHECK(ours.begin().key() == "k0");
    CHECK(ours["k3"] == "last");
    CHECK(std::next(ours.begin(), 3).key() == "k3");
    // The same through nlohmann's SAX path, which a byte order mark takes.
    REQUIRE(parse_json("\xEF\xBB\xBF" + text, ours, 10));
    CHECK(ours.size() == 100);
    CHECK(ours.begin().key() == "k0");
    CHECK(ours["k3"] == "last");
    CHECK(std::next(ours.begin(), 3).key() == "k3");
}

TEST_CASE("parse_json refuses nesting deeper than it was given") {
    Json out;
    CHECK(parse_json("[[[]]]", out, 3));
    CHECK_FALSE(parse_json("[[[[]]]]", out, 3));
    CHECK_FALSE(parse_json(R"({"a":{"b":{"c":{}}}})", out, 3));
    SUBCASE("also on nlohmann's path (a byte order mark takes it)") {
        CHECK(parse_json("\xEF\xBB\xBF[[[]]]", out, 3));
        CHECK_FALSE(parse_json("\xEF\xBB\xBF[[[[]]]]", out, 3));
        CHECK_FALSE(parse_json("\xEF\xBB\xBF{\"a\":{\"b\":{\"c\":{}}}}", out, 3));
    }
}

TEST_CASE("parse_json reads a large body (a parser of its own) as nlohmann does") {
    std::string text = "[";
    for (int i = 0; i < 2000; ++i) {
        if (i != 0) text += ',';
        text += R"({"jsonrpc":"2.0","method":"sr_get_status","params":{"group":"g)" +
                std::to_string(i) + R"("},"id":)" + std::to_string(i) + "}";
    }
    text += ']';
    REQUIRE(text.size() > 64 * 1024);
    CHECK(disagreement(text) == "");
    CHECK(disagreement(text + "x") == "");
}
