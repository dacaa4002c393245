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

namespace srmi::core {

/// One change to a public group, with names in their registered spelling.
struct StateChange {
    enum class Kind { kAddIdentifier, kRemoveIdentifier, kSetStatus, kAddReport };

    Kind kind = Kind::kSetStatus;
    std::string group;
    std::string identifier;
    int status = 1;                       ///< kAddIdentifier, kSetStatus
    std::optional<std::string> details;   ///< kAddIdentifier, kSetStatus
    std::size_t max_reports = 0;          ///< kAddIdentifier
    Report report;                        ///< kAddReport
};

/// An identifier as persisted: its state and its reports, oldest first.
struct PersistedIdentifier {
    std::string name;
    int status = 1;
    std::optional<std::string> details;
    std::size_t max_reports = 0;
    std::vector<Report> reports;
};

struct PersistedGroup {
    std::string name;
    std::vector<PersistedIdentifier> identifiers;  ///< in registration order
};

/// Receives the changes of public groups. record() is called while the
/// changed identifier is locked, so one identifier's changes arrive in order;
/// it must only queue, never wait for I/O. Durability is asynchronous: the
/// returned ticket becomes durable later, and when_durable() says when.
class StateJournal {
public:
    virtual ~StateJournal() = default;

    /// Queues `change`; returns its ticket (increasing, never 0).
    virtual std::uint64_t record(StateChange change) = 0;

    /// Calls `done` once every change up to `ticket` is durable: at once (on
    /// this thread) if it already is, else later on the journal's thread.
    /// `done(false)` if the journal failed and the change may be lost.
    virtual void when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) = 0;
};

}  // namespace srmi::core
