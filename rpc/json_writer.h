// JsonWriter: appends JSON text to a string, for answers too large or too
// frequent to build as a tree first. Output matches nlohmann's dump().
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace srmi::rpc {

/// Appends to `out`; the caller places the commas and brackets. Strings are
/// escaped exactly as `Json::dump(-1, ' ', false, replace)` does, so that an
/// answer is the same bytes whichever way it was made.
class JsonWriter {
public:
    explicit JsonWriter(std::string& out) noexcept : out_(out) {}

    JsonWriter& raw(std::string_view text) {
        out_ += text;
        return *this;
    }
    JsonWriter& raw(char c) {
        out_ += c;
        return *this;
    }

    JsonWriter& string(std::string_view text) {
        // Printable ASCII without '"' and '\' (nearly every name) is copied as
        // is; anything else goes through nlohmann's own escaping.
        for (const char c : text) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\') {
                out_ += nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                return *this;
            }
        }
        out_ += '"';
        out_ += text;
        out_ += '"';
        return *this;
    }

    JsonWriter& integer(std::int64_t value) {
        char buffer[24];
        const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
        out_.append(buffer, end);
        return *this;
    }

    JsonWriter& boolean(bool value) {
        out_ += value ? "true" : "false";
        return *this;
    }

    /// `"name":`, for a member name known to need no escaping.
    JsonWriter& key(std::string_view name) {
        out_ += '"';
        out_ += name;
        out_ += "\":";
        return *this;
    }

private:
    std::string& out_;
};

}  // namespace srmi::rpc
