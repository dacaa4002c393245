// Caller: role names and the group limits of a token.
#include "rpc/access.h"

#include <algorithm>
#include <cctype>

namespace srmi::rpc {

std::string_view role_name(Role role) noexcept {
    switch (role) {
        case Role::kRead: return "read";
        case Role::kWrite: return "write";
        case Role::kAdmin: return "admin";
    }
    return "admin";
}

bool Caller::may_change(std::string_view group) const noexcept {
    if (groups.empty()) return true;
    return std::any_of(groups.begin(), groups.end(), [&](const std::string& allowed) {
        return allowed.size() == group.size() &&
               std::equal(allowed.begin(), allowed.end(), group.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) ==
                          std::tolower(static_cast<unsigned char>(b));
               });
    });
}

const Caller& unrestricted_caller() noexcept {
    static const Caller caller{Role::kAdmin, {}, "unrestricted"};
    return caller;
}

}  // namespace srmi::rpc
