// Storage of groups and identifiers; private to registry.cpp and its tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/detail/member_index.h"
#include "core/registry.h"
#include "core/report_ring.h"
#include "core/status_history.h"

namespace srmi::core::detail {

/// ASCII lower-case copy: names are compared case-insensitively, as OpenSIPS does.
std::string fold_case(std::string_view name);

struct Identifier {
    Identifier(IdentifierSpec spec)
        : name(std::move(spec.name)),
          status(spec.status == 0 ? 1 : spec.status),
          details(std::move(spec.details)),
          reports(spec.max_reports) {}

    const std::string name;
    mutable std::mutex mutex;  // guards status, details, reports, reports_added and history
    int status;
    std::optional<std::string> details;
    ReportRing reports;
    std::uint64_t reports_added = 0;  // by add_report since creation; ring wraps do not reset it
    std::int64_t lease_ttl = 0;       // seconds; 0: no lease
    std::uint64_t lease = 0;          // which lease is running (see StateChange::lease)
    StatusHistory history;            // its status changes, its appearance first
    /// Set, under `mutex`, when the identifier leaves its group: a writer that
    /// found it before then must not change it (its bytes left the store with it).
    bool removed = false;
};

/// Identifiers are shared: a reader keeps the one it found alive even if a
/// writer removes it from the group meanwhile.
using IdentifierPtr = std::shared_ptr<Identifier>;

struct Group {
    Group(std::string n, Visibility v) : name(std::move(n)), visibility(v) {}

    IdentifierPtr find(std::string_view identifier) const {
        std::shared_lock lock(mutex);
        return index.find(identifier);
    }

    /// Identifiers in registration order, as they are now.
    std::vector<IdentifierPtr> members() const {
        std::shared_lock lock(mutex);
        return index.members();
    }

    /// Grows after each change of a member's status or details and each
    /// member added or removed (see StatusVisitor). Bumped once the change is
    /// made, under the lock that guards it: a reader that sees a version sees
    /// every change before it.
    void changed() noexcept { status_version.fetch_add(1, std::memory_order_release); }

    const std::string name;
    const Visibility visibility;
    mutable std::shared_mutex mutex;  // guards index
    MemberIndex<Identifier> index;    // names compare case-insensitively
    std::atomic<std::uint64_t> status_version{0};
};

}  // namespace srmi::core::detail
