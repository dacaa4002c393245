// StateJournal: where the registry tells a persistence layer about each
// change to a public group, so that acknowledged writes survive a restart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/report_ring.h"
#include "core/status_history.h"

namespace srmi::core {

/// An identifier as persisted: its state and its reports, oldest first.
struct PersistedIdentifier {
    std::string name;
    int status = 1;
    std::optional<std::string> details;
    std::size_t max_reports = 0;
    std::vector<Report> reports;
    std::int64_t ttl = 0;     ///< its lease in seconds (0: none), restarted on restore
    std::uint64_t lease = 0;  ///< which lease (see StateChange::lease)
    std::vector<StatusTransition> history;  ///< its status changes, oldest first
};

/// One change to a public group, with names in their registered spelling.
struct StateChange {
    enum class Kind {
        kAddIdentifier,
        kRemoveIdentifier,
        kSetStatus,
        kAddReport,
        kAddGroup,
        kExpireLease,  ///< status -1 with `details`, if lease `lease` is still the current one
    };

    Kind kind = Kind::kSetStatus;
    std::string group;
    std::string identifier;
    int status = 1;                       ///< kAddIdentifier, kSetStatus
    std::optional<std::string> details;   ///< kAddIdentifier, kSetStatus
    std::size_t max_reports = 0;          ///< kAddIdentifier
    std::int64_t ttl = 0;                 ///< kAddIdentifier, kSetStatus: lease seconds (0: none)
    Report report;                        ///< kAddReport
    /// kExpireLease: the lease it ends. Handed back by an ordering journal:
    /// the change's place in its order (which names the lease it starts).
    std::uint64_t lease = 0;
    /// kAddGroup: the group as declared (names, statuses, max_reports).
    std::vector<PersistedIdentifier> identifiers;
    /// When the write was taken, milliseconds since the epoch (0: when it is
    /// applied); stamped once, by the instance written to, for an ordering
    /// journal, so that every instance keeps the same history.
    std::int64_t at_ms = 0;
    /// The instance that took the write: set by an ordering journal when it
    /// hands a change back, kept in the history.
    std::string node;
    /// For a journal that does not order changes, on kSetStatus and
    /// kAddIdentifier: the entry the identifier's history gained, if any.
    std::optional<StatusTransition> transition;
};

/// An event subscription as persisted (not a registry change: the server
/// keeps subscriptions beside the groups, in the same store).
struct PersistedSubscription {
    std::string event;
    std::string socket;
    std::int64_t expire = 0;      ///< the lifetime asked for, seconds
    std::int64_t expires_at = 0;  ///< when it ends, Unix seconds
};

struct PersistedGroup {
    std::string name;
    std::vector<PersistedIdentifier> identifiers;  ///< in registration order
};

/// Receives the changes of public groups. record() is called while the
/// changed identifier is locked, so one identifier's changes arrive in order;
/// it must only queue, never wait for I/O. Durability is asynchronous: the
/// returned ticket becomes durable later, and when_durable() says when.
///
/// A journal that orders changes (shared by several instances) is told of a
/// write before it is applied: the registry only checks it and records it,
/// and the journal hands every change of every instance back, in one order,
/// to Registry::apply().
class StateJournal {
public:
    virtual ~StateJournal() = default;

    /// Queues `change`; returns its ticket (increasing), or 0 when the
    /// journal cannot take writes now (the write is then refused).
    virtual std::uint64_t record(StateChange change) = 0;

    /// Calls `done` once every change up to `ticket` is durable: at once (on
    /// this thread) if it already is, else later on the journal's thread.
    /// `done(false)` if the journal failed and the change may be lost.
    /// For a journal that orders changes: once the change is also applied here.
    virtual void when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) = 0;

    /// Whether writes wait for Registry::apply() instead of being applied at once.
    virtual bool orders_changes() const noexcept { return false; }
};

}  // namespace srmi::core
