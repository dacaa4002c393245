// AccessControl: who a request comes from (bearer token or client
// certificate), checked before anything else answers it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rpc/access.h"
#include "server/http/message.h"

namespace srmi::server {

/// One configured credential: a token (kept only as its SHA-256 digest) or
/// the Common Name of a client certificate, with the caller it stands for.
struct Credential {
    rpc::Caller caller;  ///< role, group limits and a name for logs
    /// SHA-256 of the token; all zero for a client certificate entry.
    std::array<std::uint8_t, 32> token_sha256{};
    std::string client_cn;  ///< non-empty: a client certificate entry
};

/// SHA-256 of `text`.
std::array<std::uint8_t, 32> sha256(std::string_view text);

/// Decides who sent a request. Immutable once built, so any number of I/O
/// threads may use it at once.
class AccessControl {
public:
    /// `open_probes`: /livez, /readyz and /health/... answer without a credential.
    AccessControl(std::vector<Credential> credentials, bool open_probes);

    /// Whether any credential is configured; if not, every request is
    /// answered (the server then listens on loopback only, or was told --insecure).
    bool enabled() const noexcept { return !credentials_.empty(); }

    /// The caller of `request`: its bearer token (or Basic password, which is
    /// what a browser sends), else the client certificate's CN (empty: none).
    /// Null when neither matches. Every token is compared, in constant time.
    const rpc::Caller* authenticate(const Request& request, std::string_view client_cn) const;

    /// Whether `path` needs no credential.
    bool is_open(std::string_view path) const noexcept;

private:
    std::vector<Credential> credentials_;
    bool open_probes_;
};

/// What authorize() decided: the caller, or the 401 to answer instead.
using Authorization = std::variant<const rpc::Caller*, Response>;

/// The caller for `request` under `access` (null access: unrestricted), or a
/// 401 with `WWW-Authenticate` challenges for Bearer and Basic.
Authorization authorize(const Request& request, const AccessControl* access, std::string_view client_cn);

}  // namespace srmi::server
