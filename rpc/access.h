// Role and Caller: who may call what, as the dispatcher sees it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace srmi::rpc {

/// What a caller may do; each role includes the ones before it. A method
/// names the least role allowed to call it.
enum class Role {
    kRead = 0,   ///< every read method, probes, metrics, the event stream
    kWrite = 1,  ///< plus status, reports and identifiers
    kAdmin = 2,  ///< plus subscriptions, raise_event, profiling
};

/// "read", "write" or "admin".
std::string_view role_name(Role role) noexcept;

/// The authenticated party of one request. Built by the transport (after
/// checking a token or a client certificate); the dispatcher only reads it.
struct Caller {
    Role role = Role::kAdmin;
    /// Public groups this caller may change (compared case-insensitively, as
    /// the registry names groups); empty: every group.
    std::vector<std::string> groups;
    /// For logs only: which configured credential matched. Never the secret.
    std::string name;

    /// Whether `group` is one this caller may change.
    bool may_change(std::string_view group) const noexcept;
};

/// The caller of a server without access control: every method, every group.
const Caller& unrestricted_caller() noexcept;

}  // namespace srmi::rpc
