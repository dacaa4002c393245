// Registry: the Status/Report store of groups, identifiers, statuses and reports.
//
// The C++ API that the RPC layer and embedding programs use. No transport or
// JSON types appear here. Every member function is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/detail/folded_map.h"
#include "core/report_ring.h"
#include "core/result.h"
#include "core/state_journal.h"
#include "core/status_history.h"

namespace srmi::core {

namespace detail {
struct Group;
struct Identifier;
}  // namespace detail

/// Who may change a group: internal groups only through the GroupHandle their
/// registration returned; public groups also through Registry's write methods.
enum class Visibility { kInternal, kPublic };

inline constexpr std::string_view kMainIdentifier = "main";
inline constexpr std::string_view kAllIdentifiers = "all";
inline constexpr std::size_t kPublicMaxReports = 50;

/// The key a group or identifier name is looked up by: ASCII letters folded
/// to lower case, as the registry compares names.
std::string name_key(std::string_view name);

/// How an identifier starts out.
struct IdentifierSpec {
    std::string name{kMainIdentifier};
    int status = 1;
    std::optional<std::string> details;
    std::size_t max_reports = kPublicMaxReports;
    /// A lease, in seconds: unless its status is set again within `ttl`, the
    /// identifier turns -1 with details "expired". 0: none.
    std::int64_t ttl = 0;
};

/// A copy of one identifier's status, taken under its lock.
struct IdentifierStatus {
    std::string name;
    int status = 1;
    std::optional<std::string> details;
    /// Reports added to it since it was created (or restored): a counter that
    /// the ring dropping old reports does not reset. 0 for `all`.
    std::uint64_t reports_added = 0;

    bool ready() const noexcept { return status > 0; }
};

/// One identifier's status as a visit sees it: valid only during the call.
struct StatusView {
    std::string_view name;
    int status;
    const std::optional<std::string>& details;

    bool ready() const noexcept { return status > 0; }
};

/// Called once per group of a visit, then once per identifier of that group.
struct StatusVisitor {
    /// Told of each group with its version, a number that grows with every
    /// change of its identifiers' status or details and every identifier
    /// added or removed. Returns whether to show the group's identifiers: a
    /// caller that kept what it made of this version may skip them.
    std::function<bool(std::string_view group, std::uint64_t version)> group;
    std::function<void(const StatusView&)> identifier;
};

struct GroupStatus {
    std::string name;
    std::vector<IdentifierStatus> identifiers;
};

struct IdentifierReports {
    std::string name;
    std::vector<Report> reports;  // oldest first
};

struct GroupReports {
    std::string name;
    std::vector<IdentifierReports> identifiers;
};

struct GroupIdentifiers {
    std::string name;
    std::vector<std::string> identifiers;
};

/// One change of sr_status_history: what changed and in which identifier.
struct HistoryEntry {
    std::string identifier;
    StatusTransition change;
};

/// Which changes Registry::status_history() returns: those in [since_ms,
/// until_ms]; with `limit`, the newest `limit` of them.
struct HistoryQuery {
    std::int64_t since_ms = std::numeric_limits<std::int64_t>::min();
    std::int64_t until_ms = std::numeric_limits<std::int64_t>::max();
    std::optional<std::size_t> limit;
};

/// An identifier's (or, named `all`, its group's) availability.
struct NamedAvailability {
    std::string name;
    Availability windows;
};

struct GroupAvailability {
    std::string name;
    std::vector<NamedAvailability> members;  ///< `all` first, then the identifiers in order
};

/// What a status-change listener is told. The views are valid only during the call.
struct StatusChange {
    std::string_view group;
    std::string_view identifier;
    int old_status;
    int new_status;
    const std::optional<std::string>& details;
};

/// Called once per actual change (old != new), never for an unchanged status.
/// It runs on the writer's thread while that identifier is locked, so changes
/// of one identifier arrive in order; it must be quick and must not write to
/// the same identifier.
using StatusListener = std::function<void(const StatusChange&)>;

/// What a report listener is told. The views are valid only during the call.
struct ReportAdded {
    std::string_view group;
    std::string_view identifier;
    std::int64_t timestamp;
    std::string_view log;
};

/// Called once per report added (not for restored ones), on the writer's
/// thread after the report is stored and outside every registry lock, so it
/// may read the registry; reports written concurrently to one identifier may
/// reach it out of order. It must be quick.
using ReportListener = std::function<void(const ReportAdded&)>;

/// Seconds since the epoch; injectable so tests can control report times.
using Clock = std::function<std::int64_t()>;

class Registry;

/// The write capability for one group, returned by Registry::add_group. The
/// only way to change an internal group. Cheap to copy; valid while the
/// Registry lives.
class GroupHandle {
  public:
    /// Sets the status (0 is stored as 1) and details (nullopt clears them).
    Result<void> set_status(std::string_view identifier, int status,
                            std::optional<std::string> details = std::nullopt) const;
    /// Appends a report stamped with the registry clock.
    Result<void> add_report(std::string_view identifier, std::string text) const;

    const std::string& name() const noexcept;

  private:
    friend class Registry;
    GroupHandle(Registry* registry, detail::Group* group) : registry_(registry), group_(group) {}
    Registry* registry_;
    detail::Group* group_;
};

/// Groups of identifiers, looked up case-insensitively and listed in
/// registration order. Readers of one identifier never wait on another
/// identifier's writer; listings lock one identifier at a time.
class Registry {
  public:
    explicit Registry(Clock clock = {});
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /// Registers a group with its identifiers (at least one; none given means
    /// one `main` at status 1). Throws std::invalid_argument for an empty or
    /// duplicate group name, or empty or duplicate identifier names.
    GroupHandle add_group(std::string name, Visibility visibility,
                          std::vector<IdentifierSpec> identifiers = {IdentifierSpec{}});

    /// Status of one identifier; `all` aggregates the group (status 1 when no
    /// identifier is negative, else -1; details "aggregated").
    Result<IdentifierStatus> status(std::string_view group,
                                    std::string_view identifier = kMainIdentifier) const;
    Result<std::vector<IdentifierStatus>> list_status(std::string_view group) const;
    std::vector<GroupStatus> list_status() const;
    /// What list_status() copies, shown in place instead, each identifier
    /// under its own lock: for answers too large to copy first. `visitor`
    /// must not call into the registry.
    void visit_status(const StatusVisitor& visitor) const;
    /// The identifiers of one group, as visit_status() shows them.
    Result<void> visit_status(std::string_view group,
                              const std::function<void(const StatusView&)>& visit) const;

    Result<std::vector<Report>> list_reports(std::string_view group,
                                             std::string_view identifier) const;
    Result<std::vector<IdentifierReports>> list_reports(std::string_view group) const;
    std::vector<GroupReports> list_reports() const;

    Result<GroupIdentifiers> list_identifiers(std::string_view group) const;
    std::vector<GroupIdentifiers> list_identifiers() const;

    /// Writes from outside: refused with Errc::forbidden on internal groups.
    /// `ttl` > 0 starts a lease (see IdentifierSpec::ttl); 0 ends any lease.
    Result<void> set_status(std::string_view group, std::string_view identifier, int status,
                            std::optional<std::string> details = std::nullopt,
                            std::int64_t ttl = 0);
    Result<void> add_report(std::string_view group, std::string_view identifier, std::string text);

    /// Adds an identifier to a public group at run time (Errc::forbidden for
    /// an internal group, already_exists, invalid_name for an empty name).
    Result<void> add_identifier(std::string_view group, IdentifierSpec spec);
    /// Removes an identifier of a public group, with its reports; refused
    /// with Errc::last_identifier when it is the group's only one.
    Result<void> remove_identifier(std::string_view group, std::string_view identifier);

    /// Sends every later change of a public group to `journal` (nullptr: none).
    /// Set before serving; the journal must outlive the registry's use. If
    /// the journal orders changes, a public write is only checked and
    /// recorded here (Errc::store_unavailable when the journal refuses it),
    /// and takes effect when the journal hands it to apply().
    void set_journal(StateJournal* journal) noexcept {
        journal_ = journal;
        ordered_ = journal != nullptr && journal->orders_changes();
    }
    /// Applies a change in memory, raising events and calling listeners as a
    /// local write does, without recording it: for an ordering journal
    /// handing back the changes of every instance, one at a time, in order.
    /// kAddGroup adds a public group (Errc::already_exists if one has that
    /// name). May write to internal groups: the journal is trusted.
    Result<void> apply(const StateChange& change);
    /// The journal ticket of this thread's latest write since the last call
    /// (0 if none), so that a caller can wait for it to be durable.
    static std::uint64_t take_ticket() noexcept;
    /// Makes `ticket` this thread's latest, for a write made beside the
    /// registry in the same journal (a subscription), so that its answer
    /// waits for it too. Tickets of one journal increase: the later wins.
    static void note_ticket(std::uint64_t ticket) noexcept;
    /// Public groups as the journal stores them.
    std::vector<PersistedGroup> public_state() const;
    /// Replaces a group's identifiers, statuses, details, reports and leases
    /// by persisted ones, without events or journal records: for a state
    /// store, before serving (or, for a shared one, when it reloads).
    Result<void> restore(const PersistedGroup& group);

    /// Ends the leases whose time has come (see IdentifierSpec::ttl): status
    /// -1 with the group's expiry details, an event, a journal record. With
    /// an ordering journal the expiry is proposed instead, and takes effect
    /// when applied, only if no renewal came before it in the order. `act`
    /// false: this instance leaves expiring to another (in a cluster, one
    /// does), and only keeps track. Returns the leases ended or proposed.
    std::size_t expire_leases(std::chrono::steady_clock::time_point now, bool act = true);
    /// The details an expired identifier of `group` gets (default "expired").
    /// Set before serving.
    void set_expiry_details(std::string_view group, std::string details);

    /// Adds a listener for status changes (see StatusListener).
    void on_status_change(StatusListener listener);
    /// Adds a listener for added reports (see ReportListener). With none, a
    /// report costs nothing more than before.
    void on_report(ReportListener listener);

    /// How much history each identifier keeps (see HistoryLimits). Set before serving.
    void set_history_limits(HistoryLimits limits) noexcept { history_limits_ = limits; }
    const HistoryLimits& history_limits() const noexcept { return history_limits_; }
    /// The clock of history entries, milliseconds since the epoch (default:
    /// the system clock); injectable so tests can control change times.
    void set_millis_clock(Clock clock);
    std::int64_t now_ms() const { return millis_clock_(); }

    /// The status changes of one identifier, oldest first; `all` (any case)
    /// merges the group's identifiers in time order.
    Result<std::vector<HistoryEntry>> status_history(std::string_view group,
                                                     std::string_view identifier,
                                                     const HistoryQuery& query = {}) const;
    /// Availability over kAvailabilityWindows ending now, of one identifier
    /// or (`all`) of its group.
    Result<NamedAvailability> availability(std::string_view group,
                                           std::string_view identifier) const;
    /// The group's `all`, then each identifier's.
    Result<std::vector<NamedAvailability>> availability(std::string_view group) const;
    /// Every group's, in registration order.
    std::vector<GroupAvailability> availability() const;

    /// Number of groups registered.
    std::size_t group_count() const;

    /// Bytes of report text and details held, registry-wide.
    std::uint64_t store_bytes() const noexcept {
        return store_bytes_.load(std::memory_order_relaxed);
    }
    /// Caps store_bytes(): a report that takes the store beyond `bytes` makes
    /// the registry evict the oldest reports (of any identifier) first. 0 = no
    /// cap. Set before serving.
    void set_store_limit(std::uint64_t bytes);
    std::uint64_t store_limit() const noexcept { return store_limit_; }
    /// Called after each write that changed store_bytes(), with the new value,
    /// on the writer's thread and outside every registry lock. Set before serving.
    void on_store_change(std::function<void(std::uint64_t)> listener);

  private:
    friend class GroupHandle;
    detail::Group* find_group(std::string_view name) const;
    /// add_group for a change handed back by an ordering journal (`origin`).
    GroupHandle add_group(std::string name, Visibility visibility,
                          std::vector<IdentifierSpec> identifiers, const StateChange* origin);
    /// `lease`: which lease a ttl starts (0: a new local one); `if_lease`: an
    /// expiry, done only if that lease is still the identifier's.
    /// `origin`: when and where an applied change was taken (its history entry).
    Result<void> write_status(detail::Group& group, std::string_view identifier, int status,
                              std::optional<std::string> details, std::int64_t ttl = 0,
                              std::uint64_t lease = 0, std::uint64_t if_lease = 0,
                              const StateChange* origin = nullptr) const;
    Result<void> write_report(detail::Group& group, std::string_view identifier, std::string text,
                              std::optional<std::int64_t> timestamp = std::nullopt) const;
    Result<void> insert_identifier(detail::Group& group, IdentifierSpec spec,
                                   std::uint64_t lease = 0, const StateChange* origin = nullptr);
    /// The entry an identifier's history gains when its status becomes `to`.
    StatusTransition transition(std::optional<int> from, int to,
                                const std::optional<std::string>& details,
                                const StateChange* origin) const;
    /// What availability needs of each member of `group`, copied under each
    /// lock; their names into `names` if given.
    std::vector<std::vector<ReadinessPoint>> member_points(
        const detail::Group& group, std::int64_t now,
        std::vector<std::string>* names = nullptr) const;
    /// Starts the lease `lease` of `ttl` seconds on `id` (locked by the caller).
    void arm_lease(detail::Group& group, const std::shared_ptr<detail::Identifier>& id,
                   std::int64_t ttl, std::uint64_t lease) const;
    std::string expiry_details(const detail::Group& group) const;
    Result<void> erase_identifier(detail::Group& group, std::string_view identifier);
    /// Records a checked write with an ordering journal (see set_journal).
    Result<void> propose(StateChange change) const;
    std::vector<detail::Group*> groups_snapshot() const;
    void account(std::int64_t delta) const;
    /// Records a change of a public group's identifier (no-op without a
    /// journal or for an internal group).
    void journal(StateChange::Kind kind, const detail::Group& group, const detail::Identifier& id,
                 const Report* report = nullptr,
                 const StatusTransition* transition = nullptr) const;
    void remember_report(const std::shared_ptr<detail::Identifier>& id, std::uint64_t seq,
                         bool overwrote) const;
    void evict_over_limit() const;
    void compact_order_locked() const;

    Clock clock_;
    Clock millis_clock_;
    HistoryLimits history_limits_;
    mutable std::shared_mutex groups_mutex_;  // guards groups_ and by_name_
    std::vector<std::unique_ptr<detail::Group>> groups_;
    detail::FoldedMap<detail::Group*> by_name_;  // names compare case-insensitively
    mutable std::shared_mutex listeners_mutex_;
    std::vector<StatusListener> listeners_;
    std::vector<ReportListener> report_listeners_;  // guarded by listeners_mutex_
    std::atomic<bool> has_report_listeners_{false};

    // Store accounting and eviction (see set_store_limit).
    mutable std::atomic<std::uint64_t> store_bytes_{0};
    mutable std::atomic<std::uint64_t> next_seq_{1};
    std::uint64_t store_limit_ = 0;
    std::function<void(std::uint64_t)> store_listener_;
    mutable std::mutex order_mutex_;  // never held together with an identifier's lock
    mutable std::deque<std::pair<std::weak_ptr<detail::Identifier>, std::uint64_t>>
        order_;                               // oldest first
    mutable std::size_t stale_in_order_ = 0;  // entries whose report a ring already overwrote
    // Leases, soonest first; an entry whose lease was renewed or ended is skipped.
    struct LeaseEntry {
        std::weak_ptr<detail::Identifier> identifier;
        detail::Group* group;
        std::uint64_t lease;
    };
    mutable std::mutex leases_mutex_;  // taken after an identifier's lock, never before
    mutable std::multimap<std::chrono::steady_clock::time_point, LeaseEntry> leases_;
    mutable std::atomic<std::uint64_t> next_lease_{1};
    std::unordered_map<std::string, std::string> expiry_details_;  // by name_key

    StateJournal* journal_ = nullptr;
    bool ordered_ = false;  // journal_ orders changes: writes are proposed, then applied
};

}  // namespace srmi::core
