// The SQLite side of SqliteState. One connection, guarded by db_mutex_, is
// used by the writer thread for group commits and by load()/replace_all() on
// the caller's thread. The queue, the tickets and the waiting callbacks are
// guarded by mutex_, which is never held during I/O or a callback.
#include "server/state/sqlite_state.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "server/state/detail/durability_callback.h"

namespace srmi::server {

namespace {

namespace fs = std::filesystem;
using core::PersistedGroup;
using core::PersistedIdentifier;
using core::StateChange;

constexpr std::string_view kApplication = "srmi";
constexpr std::array<const char*, 3> kSideSuffixes{"-wal", "-shm", "-journal"};

// Version 1's tables. A new file is made by them and then by every upgrade in
// order, so that each table is written down once.
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE groups(name TEXT PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE identifiers(
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    status INTEGER NOT NULL,
    details TEXT,
    max_reports INTEGER NOT NULL,
    PRIMARY KEY(group_name, name)) WITHOUT ROWID;
CREATE TABLE reports(
    id INTEGER PRIMARY KEY,
    group_name TEXT NOT NULL,
    identifier TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    log TEXT NOT NULL);
CREATE INDEX reports_by_identifier ON reports(group_name, identifier, id);
INSERT INTO meta(key, value) VALUES('application', 'srmi'), ('schema_version', '1');
)sql";

// Version 2 adds the subscriptions; nothing else changes. Run on every open
// (a no-op on a version 2 file).
constexpr const char* kUpgradeFrom1 = R"sql(
CREATE TABLE IF NOT EXISTS subscriptions(
    event TEXT NOT NULL,
    socket TEXT NOT NULL,
    expire INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY(event, socket)) WITHOUT ROWID;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// Version 3 adds the status history (old_status NULL: the identifier
// appeared). Run on every open after the one above.
constexpr const char* kUpgradeFrom2 = R"sql(
CREATE TABLE IF NOT EXISTS status_history(
    id INTEGER PRIMARY KEY,
    group_name TEXT NOT NULL,
    identifier TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    old_status INTEGER,
    status INTEGER NOT NULL,
    details TEXT,
    node TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS status_history_by_identifier
    ON status_history(group_name, identifier, id);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

// Changes older than ?1 (ms) go, but for the newest of them per identifier:
// the status when the kept time begins. One pass over the table.
constexpr const char* kPruneHistoryByAge = R"sql(
DELETE FROM status_history WHERE id IN (
    SELECT id FROM (
        SELECT id, at_ms, LAG(at_ms) OVER w AS newer_at FROM status_history
        WINDOW w AS (PARTITION BY group_name, identifier ORDER BY at_ms DESC, id DESC))
    WHERE at_ms <= ?1 AND newer_at <= ?1)
)sql";

[[noreturn]] void refuse(const std::string& file, const std::string& problem) {
    throw StateError("state file " + file + ": " + problem);
}

/// An SQLite failure inside this file; turned into a StateError or a log line
/// at the public boundary, where the file name is added.
class SqliteFailure : public std::runtime_error {
public:
    SqliteFailure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
    throw SqliteFailure(rc, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

void exec(sqlite3* db, const char* sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    if (rc == SQLITE_OK) return;
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw SqliteFailure(rc, message);
}

Stmt prepare(sqlite3* db, const char* sql, bool persistent) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
    Stmt stmt(raw);
    if (rc != SQLITE_OK) fail(db, rc, "cannot prepare a statement");
    return stmt;
}

/// One use of a prepared statement: bind, step, read; reset on scope exit.
class Query {
public:
    Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Query() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& text(int index, const std::string& value) {
        check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
        return *this;
    }
    Query& text(int index, const std::optional<std::string>& value) {
        if (value) return text(index, *value);
        check(sqlite3_bind_null(stmt_, index));
        return *this;
    }
    Query& integer(int index, std::int64_t value) {
        check(sqlite3_bind_int64(stmt_, index, value));
        return *this;
    }
    Query& integer(int index, std::optional<std::int64_t> value) {
        if (value) return integer(index, *value);
        check(sqlite3_bind_null(stmt_, index));
        return *this;
    }

    /// True while there is a row to read.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(db_, rc, "statement failed");
    }
    void run() {
        while (step()) {
        }
    }

    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    std::string text(int column) const {
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
        const int size = sqlite3_column_bytes(stmt_, column);
        return data ? std::string(data, static_cast<std::size_t>(size)) : std::string();
    }
    std::optional<std::string> optional_text(int column) const {
        if (is_null(column)) return std::nullopt;
        return text(column);
    }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) fail(db_, rc, "cannot bind a value");
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

std::int64_t to_db(std::size_t n) {
    constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(n > kMax ? kMax : n);
}

std::size_t from_db(std::int64_t n) { return n < 0 ? 0 : static_cast<std::size_t>(n); }

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

/// Creates `dir` (mode 0700, parents as needed) unless it exists; checks that
/// files can be created in it.
void prepare_directory(const std::string& dir, const std::string& file) {
    if (dir.empty()) refuse(file, "the state directory is an empty path");
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            refuse(file, "cannot use directory " + dir + ": " + std::strerror(errno));
        std::string leaf = dir;  // "a/b/" has parent "a/b": the leaf must be made by mkdir
        while (leaf.size() > 1 && leaf.back() == '/') leaf.pop_back();
        std::error_code ec;
        const fs::path parent = fs::path(leaf).parent_path();
        if (!parent.empty()) fs::create_directories(parent, ec);
        if (ec) refuse(file, "cannot create directory " + parent.string() + ": " + ec.message());
        if (::mkdir(leaf.c_str(), 0700) != 0 && errno != EEXIST)
            refuse(file, "cannot create directory " + dir + ": " + std::strerror(errno));
        if (::stat(dir.c_str(), &st) != 0)
            refuse(file, "cannot use directory " + dir + ": " + std::strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) refuse(file, dir + " is not a directory");
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        refuse(file, "directory " + dir + " is not writable: " + std::strerror(errno));
}

/// Reads an existing file read-only and decides whether it can be used.
/// Returns true if it holds no table yet (to be initialised), false if it is
/// an srmi state file of our schema; throws StateError otherwise.
bool inspect_readonly(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) refuse(file, std::string("cannot read: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) refuse(file, "not a regular file");
    if (st.st_size == 0) return true;  // created but never written: nothing to lose
    {
        static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with the NUL
        std::array<char, sizeof kMagic> header{};
        std::ifstream in(file, std::ios::binary);
        if (!in) refuse(file, "cannot read: " + std::string(std::strerror(errno)));
        in.read(header.data(), static_cast<std::streamsize>(header.size()));
        if (in.gcount() != static_cast<std::streamsize>(header.size()) ||
            std::memcmp(header.data(), kMagic, sizeof kMagic) != 0)
            refuse(file, "not a SQLite database (corrupt or some other file)");
    }

    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) refuse(file, std::string("cannot open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    try {
        sqlite3_busy_timeout(db.get(), 5000);
        {
            Stmt check = prepare(db.get(), "PRAGMA quick_check", false);
            Query q(db.get(), check.get());
            if (!q.step()) refuse(file, "corrupt (quick_check returned nothing)");
            std::string verdict = q.text(0);
            if (verdict != "ok") {
                std::replace(verdict.begin(), verdict.end(), '\n', ' ');
                if (verdict.size() > 200) verdict = verdict.substr(0, 200) + "...";
                refuse(file, "corrupt (quick_check: " + verdict + ")");
            }
        }
        {
            Stmt count = prepare(db.get(), "SELECT count(*) FROM sqlite_master", false);
            Query q(db.get(), count.get());
            if (q.step() && q.integer(0) == 0) return true;  // an empty database
        }
        {
            Stmt meta = prepare(db.get(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", false);
            Query q(db.get(), meta.get());
            if (!q.step()) refuse(file, "not an srmi state file (it has no meta table)");
        }
        std::optional<std::string> application;
        std::optional<std::string> version;
        try {
            Stmt values = prepare(db.get(), "SELECT key, value FROM meta WHERE key IN ('application', 'schema_version')",
                                  false);
            Query q(db.get(), values.get());
            while (q.step()) (q.text(0) == "application" ? application : version) = q.text(1);
        } catch (const SqliteFailure& e) {
            refuse(file, std::string("not an srmi state file (unreadable meta table: ") + e.what() + ")");
        }
        if (application != kApplication)
            refuse(file, "not an srmi state file (application " + (application ? "'" + *application + "'" : "missing") +
                             ")");
        if (version != "1" && version != "2" && version != std::to_string(SqliteState::kSchemaVersion))
            refuse(file, "schema version " + (version ? *version : std::string("missing")) +
                             " is not supported (this srmi reads versions 1 to " +
                             std::to_string(SqliteState::kSchemaVersion) + ")");
        return false;
    } catch (const SqliteFailure& e) {
        if (e.code() == SQLITE_NOTADB) refuse(file, std::string("not a SQLite database: ") + e.what());
        if (e.code() == SQLITE_CORRUPT) refuse(file, std::string("corrupt: ") + e.what());
        refuse(file, std::string("cannot read: ") + e.what());
    }
}

/// inspect_readonly(), removing the side files the read-only look created if
/// the file is refused, so that a refused file is left exactly as found.
bool inspect_existing(const std::string& file) {
    if (!exists(file)) return true;
    std::vector<std::string> absent;
    for (const char* suffix : kSideSuffixes)
        if (!exists(file + suffix)) absent.push_back(file + suffix);
    try {
        return inspect_readonly(file);
    } catch (const StateError&) {
        for (const auto& side : absent) ::unlink(side.c_str());
        throw;
    }
}

/// A subscription to store, or (`removed`) to forget.
struct SubscriptionChange {
    core::PersistedSubscription subscription;
    bool removed = false;
};

struct Pending {
    std::uint64_t ticket;
    std::variant<StateChange, SubscriptionChange> change;
};

using Done = std::function<void(bool)>;


}  // namespace

class SqliteState::Impl {
public:
    Impl(std::string file, bool initialise, core::HistoryLimits limits)
        : file_(std::move(file)), limits_(limits) {
        const bool created = !exists(file_);
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(file_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        db_.reset(raw);
        if (rc != SQLITE_OK)
            refuse(file_, std::string("cannot open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
        if (created) ::chmod(file_.c_str(), 0600);
        try {
            sqlite3_busy_timeout(db(), 5000);
            {
                Stmt mode = prepare(db(), "PRAGMA journal_mode=WAL", false);
                Query q(db(), mode.get());
                if (!q.step() || q.text(0) != "wal") refuse(file_, "cannot switch to WAL mode");
            }
            exec(db(), "PRAGMA synchronous=FULL");
            if (initialise) {
                create_schema();
            } else {
                upgrade_schema();
            }
            prepare_statements();
            prune_history();
        } catch (const SqliteFailure& e) {
            refuse(file_, std::string("cannot set up: ") + e.what());
        }
        writer_ = std::thread([this] { run_writer(); });
    }

    ~Impl() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_cv_.notify_one();
        if (writer_.joinable()) writer_.join();
        // Only callbacks for tickets that were never recorded can be left.
        std::multimap<std::uint64_t, Done> left;
        {
            std::lock_guard lock(mutex_);
            left.swap(waiters_);
        }
        for (auto& [ticket, done] : left) detail::call_durability_callback(done, false);
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    std::uint64_t record(std::variant<StateChange, SubscriptionChange> change) {
        std::uint64_t ticket = 0;
        {
            std::lock_guard lock(mutex_);
            ticket = next_ticket_++;
            queue_.push_back(Pending{ticket, std::move(change)});
        }
        work_cv_.notify_one();
        return ticket;
    }

    std::vector<core::PersistedSubscription> load_subscriptions() const {
        std::lock_guard db_lock(db_mutex_);
        try {
            Stmt stmt = prepare(db(),
                                "SELECT event, socket, expire, expires_at FROM subscriptions "
                                "ORDER BY event, socket",
                                false);
            Query q(db(), stmt.get());
            std::vector<core::PersistedSubscription> out;
            while (q.step()) out.push_back({q.text(0), q.text(1), q.integer(2), q.integer(3)});
            return out;
        } catch (const SqliteFailure& e) {
            refuse(file_, std::string("cannot read the subscriptions: ") + e.what());
        }
    }

    void when_durable(std::uint64_t ticket, Done done) {
        if (!done) return;
        bool ok = false;
        {
            std::lock_guard lock(mutex_);
            if (ticket > processed_) {
                waiters_.emplace(ticket, std::move(done));
                return;
            }
            ok = !failed_locked(ticket);
        }
        detail::call_durability_callback(done, ok);
    }

    std::vector<PersistedGroup> load() const {
        std::lock_guard db_lock(db_mutex_);
        try {
            exec(db(), "BEGIN");
            std::vector<PersistedGroup> groups;
            std::map<std::pair<std::string, std::string>, PersistedIdentifier*> by_name;
            {
                Stmt stmt = prepare(db(),
                                    "SELECT g.name, i.name, i.status, i.details, i.max_reports "
                                    "FROM groups g JOIN identifiers i ON i.group_name = g.name "
                                    "ORDER BY g.position, g.name, i.position, i.name",
                                    false);
                Query q(db(), stmt.get());
                while (q.step()) {
                    std::string group = q.text(0);
                    if (groups.empty() || groups.back().name != group) groups.push_back(PersistedGroup{group, {}});
                    PersistedIdentifier id;
                    id.name = q.text(1);
                    id.status = static_cast<int>(q.integer(2));
                    id.details = q.optional_text(3);
                    id.max_reports = from_db(q.integer(4));
                    groups.back().identifiers.push_back(std::move(id));
                }
            }
            // Pointers are taken once the vectors no longer grow.
            for (auto& group : groups)
                for (auto& id : group.identifiers) by_name[{group.name, id.name}] = &id;
            {
                Stmt stmt = prepare(db(),
                                    "SELECT group_name, identifier, timestamp, log FROM reports "
                                    "ORDER BY group_name, identifier, id",
                                    false);
                Query q(db(), stmt.get());
                while (q.step()) {
                    auto it = by_name.find({q.text(0), q.text(1)});
                    if (it == by_name.end()) continue;  // cannot happen: removal deletes reports
                    it->second->reports.push_back(core::Report{q.integer(2), q.text(3)});
                }
            }
            {
                Stmt stmt = prepare(db(),
                                    "SELECT group_name, identifier, at_ms, old_status, status, details, node "
                                    "FROM status_history ORDER BY group_name, identifier, at_ms, id",
                                    false);
                Query q(db(), stmt.get());
                while (q.step()) {
                    auto it = by_name.find({q.text(0), q.text(1)});
                    if (it == by_name.end()) continue;  // cannot happen: removal deletes them
                    std::optional<int> from;
                    if (!q.is_null(3)) from = static_cast<int>(q.integer(3));
                    it->second->history.push_back(core::StatusTransition{
                        q.integer(2), from, static_cast<int>(q.integer(4)), q.optional_text(5), q.text(6)});
                }
            }
            exec(db(), "COMMIT");
            return groups;
        } catch (const SqliteFailure& e) {
            rollback();
            refuse(file_, std::string("cannot read: ") + e.what());
        }
    }

    void replace_all(const std::vector<PersistedGroup>& groups) {
        flush();
        std::lock_guard db_lock(db_mutex_);
        try {
            exec(db(), "BEGIN IMMEDIATE");
            exec(db(), "DELETE FROM reports; DELETE FROM identifiers; DELETE FROM groups;");
            std::int64_t group_position = 0;
            for (const auto& group : groups) {
                if (group.identifiers.empty()) continue;
                Query(db(), stmt_.insert_group_at.get()).text(1, group.name).integer(2, ++group_position).run();
                std::int64_t position = 0;
                for (const auto& id : group.identifiers) {
                    Query(db(), stmt_.insert_identifier_at.get())
                        .text(1, group.name)
                        .text(2, id.name)
                        .integer(3, ++position)
                        .integer(4, id.status)
                        .text(5, id.details)
                        .integer(6, to_db(id.max_reports))
                        .run();
                    // What the file holds of its history is what it was restored
                    // from; an identifier with none (new, or from an older file) gets its own.
                    bool has_history = false;
                    {
                        Query q(db(), stmt_.has_history.get());
                        has_history = q.text(1, group.name).text(2, id.name).step();
                    }
                    if (!has_history) {
                        for (const auto& change : id.history) insert_change(group.name, id.name, change);
                    }
                    const std::size_t keep = std::min(id.reports.size(), id.max_reports);
                    for (std::size_t i = id.reports.size() - keep; i < id.reports.size(); ++i) {
                        Query(db(), stmt_.insert_report.get())
                            .text(1, group.name)
                            .text(2, id.name)
                            .integer(3, id.reports[i].timestamp)
                            .text(4, id.reports[i].log)
                            .run();
                    }
                }
            }
            exec(db(), "DELETE FROM status_history WHERE NOT EXISTS (SELECT 1 FROM identifiers i "
                       "WHERE i.group_name = status_history.group_name AND i.name = status_history.identifier)");
            exec(db(), "COMMIT");
        } catch (const SqliteFailure& e) {
            rollback();
            refuse(file_, std::string("cannot replace the stored state: ") + e.what());
        }
    }

    const std::string& path() const noexcept { return file_; }
    std::uint64_t durable() const noexcept { return durable_.load(std::memory_order_acquire); }
    std::uint64_t commits() const noexcept { return commits_.load(std::memory_order_relaxed); }

private:
    struct Statements {
        Stmt insert_group;           // ?1 name, at the end
        Stmt insert_group_at;        // ?1 name, ?2 position
        Stmt delete_group_if_empty;  // ?1 name
        Stmt identifier_max_reports; // ?1 group, ?2 name
        Stmt insert_identifier;      // ?1 group, ?2 name, ?3 status, ?4 details, ?5 max_reports; at the end
        Stmt insert_identifier_at;   // ?1 group, ?2 name, ?3 position, ?4 status, ?5 details, ?6 max_reports
        Stmt delete_identifier;      // ?1 group, ?2 name
        Stmt delete_reports;         // ?1 group, ?2 identifier
        Stmt update_status;          // ?1 group, ?2 name, ?3 status, ?4 details
        Stmt insert_report;          // ?1 group, ?2 identifier, ?3 timestamp, ?4 log
        Stmt trim_reports;           // ?1 group, ?2 identifier, ?3 how many to keep
        Stmt upsert_subscription;    // ?1 event, ?2 socket, ?3 expire, ?4 expires_at
        Stmt delete_subscription;    // ?1 event, ?2 socket
        Stmt insert_change;          // ?1 group, ?2 identifier, ?3 at_ms, ?4 old, ?5 status, ?6 details, ?7 node
        Stmt trim_history;           // ?1 group, ?2 identifier, ?3 how many to keep
        Stmt delete_history;         // ?1 group, ?2 identifier
        Stmt has_history;            // ?1 group, ?2 identifier
    };

    sqlite3* db() const noexcept { return db_.get(); }

    void create_schema() {
        exec(db(), "BEGIN IMMEDIATE");
        try {
            Stmt count = prepare(db(), "SELECT count(*) FROM sqlite_master", false);
            bool empty = false;
            {
                Query q(db(), count.get());
                empty = q.step() && q.integer(0) == 0;
            }
            if (!empty) refuse(file_, "was changed by someone else while being opened");
            exec(db(), kSchemaVersion1);
            exec(db(), kUpgradeFrom1);
            exec(db(), kUpgradeFrom2);
            exec(db(), "COMMIT");
        } catch (...) {
            rollback();
            throw;
        }
    }

    void upgrade_schema() {
        exec(db(), "BEGIN IMMEDIATE");
        try {
            exec(db(), kUpgradeFrom1);
            exec(db(), kUpgradeFrom2);
            exec(db(), "COMMIT");
        } catch (...) {
            rollback();
            throw;
        }
    }

    void prepare_statements() {
        auto p = [this](const char* sql) { return prepare(db(), sql, true); };
        stmt_.insert_group = p(
            "INSERT OR IGNORE INTO groups(name, position) "
            "VALUES(?1, (SELECT COALESCE(MAX(position), 0) + 1 FROM groups))");
        stmt_.insert_group_at = p("INSERT INTO groups(name, position) VALUES(?1, ?2)");
        stmt_.delete_group_if_empty = p(
            "DELETE FROM groups WHERE name = ?1 "
            "AND NOT EXISTS (SELECT 1 FROM identifiers WHERE group_name = ?1)");
        stmt_.identifier_max_reports = p("SELECT max_reports FROM identifiers WHERE group_name = ?1 AND name = ?2");
        stmt_.insert_identifier = p(
            "INSERT INTO identifiers(group_name, name, position, status, details, max_reports) "
            "VALUES(?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM identifiers WHERE group_name = ?1), "
            "?3, ?4, ?5)");
        stmt_.insert_identifier_at = p(
            "INSERT INTO identifiers(group_name, name, position, status, details, max_reports) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
        stmt_.delete_identifier = p("DELETE FROM identifiers WHERE group_name = ?1 AND name = ?2");
        stmt_.delete_reports = p("DELETE FROM reports WHERE group_name = ?1 AND identifier = ?2");
        stmt_.update_status = p("UPDATE identifiers SET status = ?3, details = ?4 WHERE group_name = ?1 AND name = ?2");
        stmt_.insert_report = p("INSERT INTO reports(group_name, identifier, timestamp, log) VALUES(?1, ?2, ?3, ?4)");
        stmt_.upsert_subscription =
            p("INSERT OR REPLACE INTO subscriptions(event, socket, expire, expires_at) "
              "VALUES(?1, ?2, ?3, ?4)");
        stmt_.delete_subscription = p("DELETE FROM subscriptions WHERE event = ?1 AND socket = ?2");
        stmt_.insert_change = p(
            "INSERT INTO status_history(group_name, identifier, at_ms, old_status, status, details, node) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        stmt_.trim_history = p(
            "DELETE FROM status_history WHERE group_name = ?1 AND identifier = ?2 AND id <= "
            "(SELECT id FROM status_history WHERE group_name = ?1 AND identifier = ?2 "
            "ORDER BY id DESC LIMIT 1 OFFSET ?3)");
        stmt_.delete_history = p("DELETE FROM status_history WHERE group_name = ?1 AND identifier = ?2");
        stmt_.has_history =
            p("SELECT 1 FROM status_history WHERE group_name = ?1 AND identifier = ?2 LIMIT 1");
        stmt_.trim_reports = p(
            "DELETE FROM reports WHERE group_name = ?1 AND identifier = ?2 AND id <= "
            "(SELECT id FROM reports WHERE group_name = ?1 AND identifier = ?2 ORDER BY id DESC LIMIT 1 OFFSET ?3)");
    }

    void rollback() const noexcept {
        if (!sqlite3_get_autocommit(db())) sqlite3_exec(db(), "ROLLBACK", nullptr, nullptr, nullptr);
    }

    /// max_reports of the identifier, or nullopt if it is not stored.
    std::optional<std::size_t> max_reports(const StateChange& c) {
        Query q(db(), stmt_.identifier_max_reports.get());
        q.text(1, c.group).text(2, c.identifier);
        if (!q.step()) return std::nullopt;
        return from_db(q.integer(0));
    }

    /// Deletes the identifier and its reports; false if it was not stored.
    bool remove_identifier(const StateChange& c) {
        Query(db(), stmt_.delete_reports.get()).text(1, c.group).text(2, c.identifier).run();
        Query(db(), stmt_.delete_history.get()).text(1, c.group).text(2, c.identifier).run();
        changes_since_trim_.erase(c.group + '\n' + c.identifier);
        Query(db(), stmt_.delete_identifier.get()).text(1, c.group).text(2, c.identifier).run();
        return sqlite3_changes(db()) > 0;
    }

    void ignored(const StateChange& c, std::string_view what) {
        spdlog::debug("state file {}: {} for unknown identifier {}/{} ignored", file_, what, c.group, c.identifier);
    }

    void apply(const StateChange& c) {
        switch (c.kind) {
            case StateChange::Kind::kAddIdentifier:
                remove_identifier(c);  // a re-added identifier starts afresh, at the end
                Query(db(), stmt_.insert_group.get()).text(1, c.group).run();
                Query(db(), stmt_.insert_identifier.get())
                    .text(1, c.group)
                    .text(2, c.identifier)
                    .integer(3, c.status)
                    .text(4, c.details)
                    .integer(5, to_db(c.max_reports))
                    .run();
                if (c.transition) insert_change(c.group, c.identifier, *c.transition);
                return;
            case StateChange::Kind::kRemoveIdentifier:
                if (!remove_identifier(c)) return ignored(c, "removal");
                // A group cannot exist without identifiers.
                Query(db(), stmt_.delete_group_if_empty.get()).text(1, c.group).run();
                return;
            case StateChange::Kind::kSetStatus:
                Query(db(), stmt_.update_status.get())
                    .text(1, c.group)
                    .text(2, c.identifier)
                    .integer(3, c.status)
                    .text(4, c.details)
                    .run();
                if (sqlite3_changes(db()) == 0) return ignored(c, "status");
                if (c.transition) {
                    insert_change(c.group, c.identifier, *c.transition);
                    maybe_trim_history(c.group, c.identifier);
                }
                return;
            case StateChange::Kind::kAddReport: {
                const auto keep = max_reports(c);
                if (!keep) return ignored(c, "report");
                Query(db(), stmt_.insert_report.get())
                    .text(1, c.group)
                    .text(2, c.identifier)
                    .integer(3, c.report.timestamp)
                    .text(4, c.report.log)
                    .run();
                Query(db(), stmt_.trim_reports.get())
                    .text(1, c.group)
                    .text(2, c.identifier)
                    .integer(3, to_db(*keep))
                    .run();
                return;
            }
            case StateChange::Kind::kAddGroup:
            case StateChange::Kind::kExpireLease:
                return;  // only an ordering journal is told of these
        }
    }

    void insert_change(const std::string& group, const std::string& identifier,
                       const core::StatusTransition& t) {
        Query q(db(), stmt_.insert_change.get());
        q.text(1, group).text(2, identifier).integer(3, t.at_ms);
        q.integer(4, t.from ? std::optional<std::int64_t>(*t.from) : std::nullopt);
        q.integer(5, t.to).text(6, t.details).text(7, t.node).run();
        ++history_added_;
    }

    /// Drops the changes older than the limits keep, in its own transaction.
    void prune_history() {
        const auto cutoff = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch() - limits_.max_age)
                                .count();
        exec(db(), "BEGIN IMMEDIATE");
        try {
            Stmt prune = prepare(db(), kPruneHistoryByAge, false);
            Query(db(), prune.get()).integer(1, cutoff).run();
            exec(db(), "COMMIT");
        } catch (...) {
            rollback();
            throw;
        }
        history_added_ = 0;
        last_prune_ = std::chrono::steady_clock::now();
    }

    void apply(const SubscriptionChange& c) {
        const auto& s = c.subscription;
        if (c.removed) {
            Query(db(), stmt_.delete_subscription.get()).text(1, s.event).text(2, s.socket).run();
            return;
        }
        Query(db(), stmt_.upsert_subscription.get())
            .text(1, s.event)
            .text(2, s.socket)
            .integer(3, s.expire)
            .integer(4, s.expires_at)
            .run();
    }

    /// Applies the batch in one transaction; true if it committed.
    bool commit(const std::vector<Pending>& batch) {
        std::lock_guard db_lock(db_mutex_);
        try {
            exec(db(), "BEGIN IMMEDIATE");
            for (const auto& pending : batch) {
                std::visit([this](const auto& change) { apply(change); }, pending.change);
            }
            exec(db(), "COMMIT");  // WAL + synchronous=FULL: durable once this returns
            commits_.fetch_add(1, std::memory_order_relaxed);
            return true;
        } catch (const std::exception& e) {
            rollback();
            spdlog::error("state file {}: {} change(s) (tickets {}..{}) not saved: {}", file_, batch.size(),
                          batch.front().ticket, batch.back().ticket, e.what());
            return false;
        }
    }

    void run_writer() {
        for (;;) {
            std::vector<Pending> batch;
            {
                std::unique_lock lock(mutex_);
                work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;  // stopping, and everything is written
                batch.swap(queue_);
            }
            const bool ok = commit(batch);
            finish(batch.front().ticket, batch.back().ticket, ok);
            maybe_prune_history();
        }
    }

    /// The count is kept to history_changes plus at most an eighth more per
    /// identifier: the trim's OFFSET walks history_changes index entries (10 081
    /// by default), which on every change took the durable writes from 140 k/s
    /// to 5 k/s; once per history_changes / 8 changes it costs eight entries a
    /// change. What is loaded is cut to history_changes anyway.
    void maybe_trim_history(const std::string& group, const std::string& identifier) {
        const auto every = std::max<std::size_t>(1, limits_.max_changes / 8);
        auto& since_trim = changes_since_trim_[group + '\n' + identifier];
        if (++since_trim < every) return;
        since_trim = 0;
        Query(db(), stmt_.trim_history.get())
            .text(1, group)
            .text(2, identifier)
            .integer(3, to_db(limits_.max_changes))
            .run();
    }

    /// The per-change trim keeps the count; age is applied now and then.
    void maybe_prune_history() {
        constexpr std::uint64_t kChangesBetweenPrunes = 100'000;
        constexpr auto kTimeBetweenPrunes = std::chrono::hours(1);
        // Under the lock: replace_all() counts history_added_ too, on its caller's thread.
        std::lock_guard db_lock(db_mutex_);
        if (history_added_ < kChangesBetweenPrunes &&
            std::chrono::steady_clock::now() - last_prune_ < kTimeBetweenPrunes)
            return;
        try {
            prune_history();
        } catch (const std::exception& e) {
            spdlog::warn("state file {}: old status history not pruned: {}", file_, e.what());
            last_prune_ = std::chrono::steady_clock::now();
        }
    }

    /// Publishes the outcome of tickets first..last and calls their callbacks.
    void finish(std::uint64_t first, std::uint64_t last, bool ok) {
        std::vector<std::pair<Done, bool>> ready;
        {
            std::lock_guard lock(mutex_);
            if (ok) {
                durable_.store(last, std::memory_order_release);
            } else if (!failed_.empty() && failed_.back().second + 1 == first) {
                failed_.back().second = last;
            } else {
                failed_.emplace_back(first, last);
            }
            processed_ = last;
            const auto end = waiters_.upper_bound(last);
            for (auto it = waiters_.begin(); it != end; ++it)
                ready.emplace_back(std::move(it->second), !failed_locked(it->first));
            waiters_.erase(waiters_.begin(), end);
        }
        processed_cv_.notify_all();
        for (const auto& [done, done_ok] : ready) detail::call_durability_callback(done, done_ok);
    }

    bool failed_locked(std::uint64_t ticket) const {
        for (auto it = failed_.rbegin(); it != failed_.rend(); ++it)
            if (ticket >= it->first && ticket <= it->second) return true;
        return false;
    }

    /// Waits until everything recorded so far has been through a transaction.
    void flush() {
        std::unique_lock lock(mutex_);
        const std::uint64_t last = next_ticket_ - 1;
        processed_cv_.wait(lock, [&] { return processed_ >= last; });
    }

    const std::string file_;
    const core::HistoryLimits limits_;
    std::uint64_t history_added_ = 0;  // history rows written since the last prune (under db_mutex_)
    // Per "group\nidentifier": changes written since its count was last trimmed
    // (writer thread; a removed identifier's entry is dropped with its rows).
    std::unordered_map<std::string, std::size_t> changes_since_trim_;
    std::chrono::steady_clock::time_point last_prune_;
    Db db_;
    Statements stmt_;  // after db_: finalised before the connection closes
    mutable std::mutex db_mutex_;

    mutable std::mutex mutex_;
    std::condition_variable work_cv_;       // the writer waits for work
    std::condition_variable processed_cv_;  // flush() waits for the writer
    std::vector<Pending> queue_;
    std::uint64_t next_ticket_ = 1;
    std::uint64_t processed_ = 0;  // highest ticket whose transaction finished, either way
    std::vector<std::pair<std::uint64_t, std::uint64_t>> failed_;  // ticket ranges not saved
    std::multimap<std::uint64_t, Done> waiters_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> durable_{0};
    std::atomic<std::uint64_t> commits_{0};
    std::thread writer_;  // last: started once everything above exists
};

namespace {

// Two servers writing one state file would each acknowledge writes the other
// then overwrites at its next start. Taken only after the file was inspected,
// so a refused file leaves no lock file beside it.
int lock_directory(const std::string& dir, const std::string& file) {
    const std::string path = (fs::path(dir) / "srmi-state.lock").string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) refuse(file, "cannot create the lock file " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK) refuse(file, "in use by another srmi process (" + path + " is locked)");
        refuse(file, "cannot lock " + path + ": " + std::strerror(error));
    }
    return fd;
}

}  // namespace

std::unique_ptr<SqliteState> SqliteState::open(const std::string& dir, core::HistoryLimits limits) {
    const std::string file = (fs::path(dir) / kFileName).string();
    prepare_directory(dir, file);
    const bool initialise = inspect_existing(file);
    const int lock = lock_directory(dir, file);
    try {
        return std::unique_ptr<SqliteState>(new SqliteState(std::make_unique<Impl>(file, initialise, limits), lock));
    } catch (...) {
        ::close(lock);
        throw;
    }
}

SqliteState::SqliteState(std::unique_ptr<Impl> impl, int lock_fd) : lock_fd_(lock_fd), impl_(std::move(impl)) {}

SqliteState::~SqliteState() {
    impl_.reset();  // commits and closes the database while the directory is still ours
    ::close(lock_fd_);
}

std::vector<PersistedGroup> SqliteState::load() const { return impl_->load(); }
void SqliteState::replace_all(const std::vector<PersistedGroup>& groups) { impl_->replace_all(groups); }
std::uint64_t SqliteState::record(StateChange change) { return impl_->record(std::move(change)); }
std::uint64_t SqliteState::record_subscription(core::PersistedSubscription subscription,
                                               bool removed) {
    return impl_->record(SubscriptionChange{std::move(subscription), removed});
}
std::vector<core::PersistedSubscription> SqliteState::load_subscriptions() const {
    return impl_->load_subscriptions();
}
void SqliteState::when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) {
    impl_->when_durable(ticket, std::move(done));
}
std::string SqliteState::path() const { return impl_->path(); }
std::uint64_t SqliteState::durable() const { return impl_->durable(); }
std::uint64_t SqliteState::commits() const { return impl_->commits(); }

}  // namespace srmi::server
