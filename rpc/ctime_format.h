// ctime_string: dates rendered as OpenSIPS renders them.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace srmi::rpc {

/// C ctime() of `epoch_seconds` in the local time zone, without the trailing
/// newline, e.g. "Sun Nov 22 16:26:03 2026". Thread-safe.
inline std::string ctime_string(std::int64_t epoch_seconds) {
    const auto t = static_cast<std::time_t>(epoch_seconds);
    char buffer[64] = {};
    if (::ctime_r(&t, buffer) == nullptr) return std::to_string(epoch_seconds);
    std::string out(buffer);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

}  // namespace srmi::rpc
