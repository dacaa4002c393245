// Fixtures of the micro-benchmarks: registries shaped like the issue's
// scenarios, built once per process (a 10 000 x 10 registry takes a while).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/registry.h"

namespace srmi::bench {

inline constexpr std::size_t kGroups = 10'000;
inline constexpr std::size_t kIdentifiersPerGroup = 10;

/// Group names g0..g{n-1}; identifiers i0..i{m-1}.
// (Appended rather than "g" + std::to_string(i): GCC 12 warns falsely about
// the latter, -Wrestrict, PR 105329.)
inline std::string group_name(std::size_t i) { return std::string("g").append(std::to_string(i)); }
inline std::string identifier_name(std::size_t i) {
    return std::string("i").append(std::to_string(i));
}

/// Fills `registry` with `groups` public groups of `identifiers` identifiers
/// each (status 1, 50 reports).
inline void fill(core::Registry& registry, std::size_t groups, std::size_t identifiers) {
    for (std::size_t g = 0; g < groups; ++g) {
        std::vector<core::IdentifierSpec> specs;
        specs.reserve(identifiers);
        for (std::size_t i = 0; i < identifiers; ++i) {
            core::IdentifierSpec spec;
            spec.name = identifier_name(i);
            specs.push_back(std::move(spec));
        }
        registry.add_group(group_name(g), core::Visibility::kPublic, std::move(specs));
    }
}

/// The shared 10 000 x 10 registry (never destroyed: benchmarks may run on
/// several threads until the process ends).
inline core::Registry& big_registry() {
    static core::Registry* registry = [] {
        auto* r = new core::Registry();
        fill(*r, kGroups, kIdentifiersPerGroup);
        return r;
    }();
    return *registry;
}

}  // namespace srmi::bench
