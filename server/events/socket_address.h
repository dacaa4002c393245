// Socket strings' shared grammar: HOST:PORT with IPv6 in brackets, and the
// error every transport reports for a string it cannot use.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace srmi::server {

/// A socket string we cannot use; what() says why, for the subscriber's 400.
class BadSocket : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct HostPort {
    std::string host;  ///< without brackets
    bool bracketed = false;
    std::uint16_t port = 0;
};

/// A decimal port 1-65535; `expected` names the syntax in the error.
std::uint16_t parse_port(std::string_view text, std::string_view expected);

/// Splits `HOST:PORT` or `[IPV6]:PORT`; the port may be left out only when
/// there is a default. Throws BadSocket.
HostPort split_host_port(std::string_view text, std::string_view expected,
                         std::optional<std::uint16_t> default_port);

}  // namespace srmi::server
