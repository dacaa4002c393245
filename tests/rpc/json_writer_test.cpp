// JsonWriter writes the same bytes nlohmann's dump() would.
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "rpc/json_writer.h"

using srmi::rpc::JsonWriter;

TEST_CASE("strings are escaped exactly as nlohmann::json::dump escapes them") {
    const std::string samples[] = {
        "",          "plain name",     "quote \" and backslash \\", "tab\tnew\nline\r",  std::string("nul\0byte", 8),
        "\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad \xff\xfe utf-8", "cut \xe2\x82", "</script>"};
    for (const auto& sample : samples) {
        std::string out;
        JsonWriter(out).string(sample);
        CHECK(out == nlohmann::json(sample).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
}

TEST_CASE("numbers, booleans and keys") {
    std::string out;
    JsonWriter w(out);
    w.raw('{').key("a").integer(-2147483648LL).raw(',').key("b").boolean(true).raw(',').key("c").integer(0).raw('}');
    CHECK(out == R"({"a":-2147483648,"b":true,"c":0})");
    CHECK(nlohmann::json::parse(out)["a"] == -2147483648LL);
}
