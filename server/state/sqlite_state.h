// SqliteState: the StateJournal behind `--state-dir`, keeping public groups in
// a SQLite file (WAL, synchronous=FULL) written by one thread in group commits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/state_journal.h"
#include "server/state/state_error.h"

namespace srmi::server {

/// Public groups kept in DIR/srmi-state.db. record() only queues; one writer
/// thread applies everything queued in one transaction (group commit) and
/// reports durability through when_durable() once COMMIT has returned. All
/// member functions are thread-safe.
class SqliteState final : public core::StateJournal {
public:
    /// Name of the state file inside the state directory.
    static constexpr const char* kFileName = "srmi-state.db";
    /// The schema this build reads and writes (meta.schema_version). A
    /// version 1 file (no subscriptions) or 2 (no status history) is upgraded
    /// when opened.
    static constexpr int kSchemaVersion = 3;

    /// Opens (creating if absent) DIR/srmi-state.db, creating DIR (mode 0700)
    /// if needed, and starts the writer thread. An absent, empty (0 bytes) or
    /// table-less file is initialised; anything else must be an intact srmi
    /// file of schema version 1 to 3. Status history beyond `limits` is
    /// dropped, at open, with each change (by count) and now and then (by
    /// age). Throws StateError naming the file (or the
    /// directory) otherwise; a refused file is left byte for byte as it was,
    /// with no side file (-wal, -shm, -journal) added.
    static std::unique_ptr<SqliteState> open(const std::string& dir,
                                             core::HistoryLimits limits = {});

    /// Commits what is queued, stops the writer thread; callbacks still
    /// waiting for a ticket that was never recorded get done(false).
    ~SqliteState() override;

    SqliteState(const SqliteState&) = delete;
    SqliteState& operator=(const SqliteState&) = delete;

    /// Everything committed (not what is still queued): groups and identifiers
    /// in their stored order, reports oldest first. Throws StateError if the
    /// file cannot be read.
    std::vector<core::PersistedGroup> load() const;

    /// Applies what is queued, then replaces everything stored by `groups` in
    /// one transaction; durable on return. Meant for start-up, before
    /// record() is used. Groups without identifiers are not stored. Throws
    /// StateError on failure (the file then keeps its previous contents).
    void replace_all(const std::vector<core::PersistedGroup>& groups);

    /// Queues `change` (never waits for I/O); tickets start at 1 and go up by one.
    std::uint64_t record(core::StateChange change) override;

    /// Queues a subscription added or refreshed, or (`removed`) its end;
    /// a ticket of the same sequence as record()'s.
    std::uint64_t record_subscription(core::PersistedSubscription subscription, bool removed);
    /// The subscriptions committed, expired ones included (the caller knows
    /// the time), by event and socket. Throws StateError if unreadable.
    std::vector<core::PersistedSubscription> load_subscriptions() const;

    /// done(ok) once the transaction holding `ticket` (and every earlier one)
    /// has finished: ok is whether that transaction committed. Runs at once on
    /// the caller's thread if it already has, else on the writer thread,
    /// outside the journal's locks. An exception from `done` is logged and
    /// dropped.
    void when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) override;

    /// DIR/srmi-state.db as given to open().
    std::string path() const;
    /// Highest ticket whose transaction committed (0 before any).
    std::uint64_t durable() const;
    /// Transactions the writer thread has committed; for tests of group commit.
    std::uint64_t commits() const;

private:
    class Impl;  // SQLite handles, the queue and the writer thread
    SqliteState(std::unique_ptr<Impl> impl, int lock_fd);
    int lock_fd_;                 // flock on DIR/srmi-state.lock: one srmi per state directory
    std::unique_ptr<Impl> impl_;  // after the lock: closed before it is released
};

}  // namespace srmi::server
