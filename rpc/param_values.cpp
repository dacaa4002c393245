// Parameter value reads: strict about types, lenient only where OpenSIPS
// clients need it (integers as text).
#include "rpc/param_values.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

namespace srmi::rpc {

std::optional<int> int_value(const Json& value) {
    if (value.is_number_unsigned()) {
        if (value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
            return std::nullopt;
        }
        return static_cast<int>(value.get<std::uint64_t>());
    }
    if (value.is_number_integer()) {
        const auto wide = value.get<std::int64_t>();
        if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
            return std::nullopt;
        }
        return static_cast<int>(wide);
    }
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        const char* first = text.data();
        const char* last = text.data() + text.size();
        if (first != last && *first == '+') ++first;
        int out = 0;
        auto [end, ec] = std::from_chars(first, last, out);
        if (first != last && ec == std::errc() && end == last) return out;
    }
    return std::nullopt;
}

std::optional<std::string_view> string_value(const Json& value) {
    if (!value.is_string()) return std::nullopt;
    return std::string_view(value.get_ref<const std::string&>());
}

}  // namespace srmi::rpc
