// HOST:PORT as every transport's socket string writes it.
#include "server/events/socket_address.h"

#include <algorithm>

namespace srmi::server {

std::uint16_t parse_port(std::string_view text, std::string_view expected) {
    if (text.empty()) throw BadSocket("missing port; expected " + std::string(expected));
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw BadSocket("bad port '" + std::string(text) + "'; expected " + std::string(expected));
    }
    unsigned value = 0;
    for (char c : text.substr(0, 6)) value = value * 10 + static_cast<unsigned>(c - '0');
    if (text.size() > 5 || value == 0 || value > 65535) {
        throw BadSocket("port " + std::string(text) + " out of range (1-65535)");
    }
    return static_cast<std::uint16_t>(value);
}

HostPort split_host_port(std::string_view text, std::string_view expected,
                         std::optional<std::uint16_t> default_port) {
    HostPort out;
    std::optional<std::string_view> port_text;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            throw BadSocket("'[' without ']'; expected " + std::string(expected));
        }
        out.host = std::string(text.substr(1, close - 1));
        out.bracketed = true;
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw BadSocket("expected " + std::string(expected));
            port_text = rest.substr(1);
        }
    } else {
        const auto colon = text.rfind(':');
        out.host = std::string(text.substr(0, colon));
        if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
        if (out.host.find(':') != std::string::npos) {
            throw BadSocket("an IPv6 address goes in brackets, e.g. [::1]; expected " +
                            std::string(expected));
        }
    }
    if (out.host.empty()) throw BadSocket("missing host; expected " + std::string(expected));
    if (port_text) {
        out.port = parse_port(*port_text, expected);
    } else if (default_port) {
        out.port = *default_port;
    } else {
        throw BadSocket("expected " + std::string(expected));
    }
    return out;
}

}  // namespace srmi::server
