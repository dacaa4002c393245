// PostgresState: the StateJournal behind `--state postgresql://…`, one
// registry shared by every srmi instance given the same database.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/registry.h"
#include "core/state_journal.h"
#include "core/status_history.h"
#include "server/state/state_error.h"

namespace srmi::server {

/// What the cluster's store is told at start-up.
struct PostgresOptions {
    std::string uri;   ///< a libpq connection URI, postgresql://USER[:PASSWORD]@HOST[:PORT]/DB
    std::string node;  ///< this instance's name in the cluster (unique among live instances)
    /// Changes kept in the log once every instance could have applied them:
    /// an instance that falls further behind reloads the registry instead.
    std::uint64_t log_keep = 1'000'000;
    /// The internal group of the cluster's members, one identifier per
    /// instance, each a lease renewed by its own instance (heartbeat).
    std::string members_group = "cluster";
    /// How long a member's heartbeat may lapse before it is `unreachable`.
    std::chrono::seconds lapse{10};
    /// The status history kept in the database (srmi_history), as in memory:
    /// by count with each change, by age by the leader now and then.
    core::HistoryLimits history{};
};

/// What the store says about itself, for /readyz, /metrics and the dashboard.
struct PostgresHealth {
    bool connected = false;          ///< both connections up and the registry loaded
    std::string problem;             ///< why it is not ready (empty when it is)
    std::vector<std::string> conflicts;  ///< groups declared differently by another instance
    std::uint64_t applied = 0;       ///< the last change of the log applied here
    std::uint64_t commits = 0;       ///< transactions this instance committed
    std::uint64_t changes = 0;       ///< changes those transactions held
    bool leader = false;             ///< this instance expires the cluster's leases
};

/// Several instances, one registry. A write is only checked here and queued
/// (record()); one writer thread commits what is queued in one transaction
/// (group commit) that appends it to an ordered change log and updates the
/// shared state tables; one follower thread, woken by LISTEN/NOTIFY, hands
/// every change of every instance to Registry::apply() in the log's order,
/// and a write is answered (when_durable) once it is applied here. Reads never
/// touch the database. All member functions are thread-safe.
class PostgresState final : public core::StateJournal {
public:
    /// The schema this build reads and writes (srmi_meta.schema_version).
    static constexpr int kSchemaVersion = 2;

    /// Checks `options` (throws StateError for a malformed URI or node name);
    /// connects nothing yet.
    PostgresState(PostgresOptions options, core::Registry& registry);
    /// Stops both threads; callbacks still waiting get done(false).
    ~PostgresState() override;
    PostgresState(const PostgresState&) = delete;
    PostgresState& operator=(const PostgresState&) = delete;

    /// The URI with its password (if any) replaced by `***`: the only form
    /// that is ever logged or shown.
    static std::string redacted(std::string_view uri);

    /// Connects, initialising an empty database, loads the shared registry
    /// into `registry` (with each identifier's history), declares `declared`
    /// (the configuration's public groups) and starts following the log. A
    /// database of an older schema is upgraded in place. Throws StateError,
    /// touching nothing, for a database that is not srmi's, a schema version
    /// this build does not know or a node name a live instance holds. A
    /// database it cannot reach is no error: the store keeps trying in the
    /// background and health() says so.
    void start(std::vector<core::PersistedGroup> declared);

    /// Marks this instance `shutting down` (-2) in the members group, stops
    /// taking writes, commits what is queued, and stops both threads.
    void stop();

    /// Whether this instance is the one that expires leases (it holds the
    /// cluster's leader lock in the database).
    bool leads() const noexcept;

    std::uint64_t record(core::StateChange change) override;
    void when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) override;
    bool orders_changes() const noexcept override { return true; }

    PostgresHealth health() const;
    /// The URI as redacted() shows it.
    const std::string& where() const noexcept;

private:
    class Impl;  // connections, queue, tickets and the two threads
    std::unique_ptr<Impl> impl_;
};

}  // namespace srmi::server
