// FoldedMap: a hash map whose string keys compare ASCII case-insensitively,
// looked up by string_view without building a lower-case copy first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace srmi::core::detail {

constexpr char fold_char(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

/// Case-insensitive equality of two names, as OpenSIPS compares them.
constexpr bool equal_folded(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fold_char(a[i]) != fold_char(b[i])) return false;
    }
    return true;
}

struct FoldedHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        std::size_t h = 14695981039346656037ULL;  // FNV-1a
        for (char c : s) {
            h ^= static_cast<unsigned char>(fold_char(c));
            h *= 1099511628211ULL;
        }
        return h;
    }
};

struct FoldedEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return equal_folded(a, b); }
};

template <class T>
using FoldedMap = std::unordered_map<std::string, T, FoldedHash, FoldedEqual>;

}  // namespace srmi::core::detail
