// The PostgreSQL side of PostgresState. Two connections, each owned by one
// thread: the writer's (group commits through srmi_append) and the
// follower's (LISTEN, the log, the snapshot at start-up). The queue, the
// tickets and the waiting callbacks are guarded by mutex_, which is never
// held during I/O or a callback.
#include "server/state/postgres_state.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "server/state/detail/durability_callback.h"
#include "server/state/detail/pg.h"
#include "server/state/postgres_schema.h"

namespace srmi::server {

namespace {

using Json = nlohmann::json;
using core::StateChange;
using detail::PgConnection;
using detail::PgError;
using Done = std::function<void(bool)>;

constexpr std::size_t kBatchMax = 2000;   // changes per group commit
constexpr int kFetchMax = 5000;           // log rows per fetch
constexpr auto kRetry = std::chrono::milliseconds(500);
constexpr int kIdlePollMs = 1000;         // the follower re-reads the log at least this often

constexpr const char* kAppend = "SELECT srmi_append($1, $2::jsonb, $3)";
constexpr const char* kFetch =
    "SELECT seq, node, change::text FROM srmi_log WHERE seq > $1 ORDER BY seq LIMIT $2";
// The leader's pruning of the history, as StatusHistory trims: by count, the
// changes beyond the newest $1 of each identifier (each append keeps that
// count for its identifier; this catches a lowered limit); by age, those
// older than $1 (ms) but for the newest at or before it, the status when the
// kept time begins (an identifier's changes are numbered without gaps and
// dated in order, so the next one tells). Rows an append has locked are left
// for the next time: the prune never waits for one, so never deadlocks with one.
constexpr const char* kPruneHistoryByCount =
    "DELETE FROM srmi_history WHERE (gkey, ikey, n) IN ("
    " SELECT h.gkey, h.ikey, h.n FROM srmi_history h"
    " JOIN srmi_identifiers i ON i.gkey = h.gkey AND i.ikey = h.ikey"
    " WHERE h.n <= i.history_n - $1 FOR UPDATE OF h SKIP LOCKED)";
constexpr const char* kPruneHistoryByAge =
    "DELETE FROM srmi_history WHERE (gkey, ikey, n) IN ("
    " SELECT h.gkey, h.ikey, h.n FROM srmi_history h"
    " JOIN srmi_history next ON next.gkey = h.gkey AND next.ikey = h.ikey AND next.n = h.n + 1"
    " WHERE next.at_ms <= $1 FOR UPDATE OF h SKIP LOCKED)";

// PostgreSQL's text and jsonb cannot hold U+0000: it is kept as U+FFFD.
std::string storable(std::string text) {
    for (std::size_t at = text.find('\0'); at != std::string::npos; at = text.find('\0', at)) {
        text.replace(at, 1, "\xEF\xBF\xBD");
    }
    return text;
}

Json details_json(const std::optional<std::string>& details) {
    return details ? Json(storable(*details)) : Json(nullptr);
}

Json encode(const StateChange& c) {
    Json j = Json::object();
    j["g"] = c.group;
    j["gk"] = core::name_key(c.group);
    // When it was written, for the history (reports carry their own time).
    if (c.kind != StateChange::Kind::kAddReport && c.kind != StateChange::Kind::kRemoveIdentifier) {
        j["at"] = c.at_ms;
    }
    switch (c.kind) {
        case StateChange::Kind::kSetStatus:
            j["k"] = "status";
            j["s"] = c.status;
            j["d"] = details_json(c.details);
            if (c.ttl > 0) j["ttl"] = c.ttl;
            break;
        case StateChange::Kind::kExpireLease:
            j["k"] = "expire";
            j["d"] = details_json(c.details);
            j["lease"] = c.lease;
            break;
        case StateChange::Kind::kAddReport:
            j["k"] = "report";
            j["t"] = c.report.timestamp;
            j["l"] = storable(c.report.log);
            break;
        case StateChange::Kind::kAddIdentifier:
            j["k"] = "add";
            j["s"] = c.status;
            j["d"] = details_json(c.details);
            j["m"] = c.max_reports;
            if (c.ttl > 0) j["ttl"] = c.ttl;
            break;
        case StateChange::Kind::kRemoveIdentifier:
            j["k"] = "remove";
            break;
        case StateChange::Kind::kAddGroup: {
            j["k"] = "group";
            Json ids = Json::array();
            for (const auto& id : c.identifiers) {
                ids.push_back(Json{{"i", id.name},
                                   {"ik", core::name_key(id.name)},
                                   {"s", id.status},
                                   {"d", details_json(id.details)},
                                   {"m", id.max_reports}});
            }
            j["ids"] = std::move(ids);
            return j;
        }
    }
    j["i"] = c.identifier;
    j["ik"] = core::name_key(c.identifier);
    return j;
}

std::optional<std::string> optional_text(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<std::string>();
}

core::PersistedIdentifier decode_identifier(const Json& j) {
    core::PersistedIdentifier id;
    id.name = j.at("i").get<std::string>();
    id.status = j.at("s").get<int>();
    id.details = optional_text(j, "d");
    id.max_reports = j.at("m").get<std::size_t>();
    return id;
}

std::int64_t ttl_of(const Json& j) {
    auto it = j.find("ttl");
    return it == j.end() ? 0 : it->get<std::int64_t>();
}

// A change of the log, numbered `seq`, written through `node`: a lease it
// starts is lease `seq`.
StateChange decode(const std::string& text, std::uint64_t seq, std::string node) {
    const auto j = Json::parse(text);
    StateChange c;
    c.lease = seq;
    c.node = std::move(node);
    c.at_ms = j.value("at", std::int64_t{0});
    c.group = j.at("g").get<std::string>();
    const auto kind = j.at("k").get<std::string>();
    if (kind == "group") {
        c.kind = StateChange::Kind::kAddGroup;
        for (const auto& id : j.at("ids")) c.identifiers.push_back(decode_identifier(id));
        return c;
    }
    c.identifier = j.at("i").get<std::string>();
    if (kind == "status") {
        c.kind = StateChange::Kind::kSetStatus;
        c.status = j.at("s").get<int>();
        c.details = optional_text(j, "d");
        c.ttl = ttl_of(j);
    } else if (kind == "expire") {
        c.kind = StateChange::Kind::kExpireLease;
        c.details = optional_text(j, "d");
        c.lease = j.at("lease").get<std::uint64_t>();
    } else if (kind == "report") {
        c.kind = StateChange::Kind::kAddReport;
        c.report = core::Report{j.at("t").get<std::int64_t>(), j.at("l").get<std::string>()};
    } else if (kind == "add") {
        c.kind = StateChange::Kind::kAddIdentifier;
        c.status = j.at("s").get<int>();
        c.details = optional_text(j, "d");
        c.max_reports = j.at("m").get<std::size_t>();
        c.ttl = ttl_of(j);
    } else if (kind == "remove") {
        c.kind = StateChange::Kind::kRemoveIdentifier;
    } else {
        throw std::runtime_error("unknown change kind '" + kind + "'");
    }
    return c;
}

// A group's declaration as compared between instances: its identifiers'
// names, first statuses and details, and report rings, in order.
Json declaration(const std::vector<core::PersistedIdentifier>& identifiers) {
    StateChange c;
    c.kind = StateChange::Kind::kAddGroup;
    c.identifiers = identifiers;
    return encode(c).at("ids");
}

bool valid_node_name(const std::string& name) {
    if (name.empty() || name.size() > 200) return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char ch) { return ch > 0x20 && ch < 0x7f; });
}

}  // namespace

namespace {

// `text` without the password of `uri` (libpq's messages may quote the URI).
std::string scrubbed(std::string text, const std::string& uri) {
    const auto shown = PostgresState::redacted(uri);
    if (shown == uri) return text;
    std::size_t a = 0;
    while (a < uri.size() && a < shown.size() && uri[a] == shown[a]) ++a;
    std::size_t b = 0;
    while (b < uri.size() - a && b < shown.size() - a &&
           uri[uri.size() - 1 - b] == shown[shown.size() - 1 - b]) {
        ++b;
    }
    const auto secret = uri.substr(a, uri.size() - a - b);
    if (secret.empty()) return text;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
        text.replace(at, secret.size(), "***");
    }
    return text;
}

}  // namespace

std::string PostgresState::redacted(std::string_view uri) {
    // postgresql://user:secret@host/db -> postgresql://user:***@host/db, and a
    // password=... setting in the query or a key=value string likewise.
    std::string out(uri);
    const auto scheme = out.find("://");
    if (scheme != std::string::npos) {
        const auto authority = scheme + 3;
        const auto end = out.find_first_of("/?", authority);
        const auto at = out.rfind('@', end == std::string::npos ? out.size() : end);
        if (at != std::string::npos && at > authority) {
            const auto colon = out.find(':', authority);
            if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
        }
    }
    for (std::size_t at = out.find("password="); at != std::string::npos;
         at = out.find("password=", at + 1)) {
        const auto value = at + 9;
        const auto end = out.find_first_of("& ", value);
        out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    }
    return out;
}

class PostgresState::Impl {
public:
    Impl(PostgresOptions options, core::Registry& registry)
        : options_(std::move(options)),
          registry_(registry),
          where_(PostgresState::redacted(options_.uri)),
          application_("srmi " + options_.node),
          wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        char* error = nullptr;
        PQconninfoOption* parsed = detail::libpq().PQconninfoParse(options_.uri.c_str(), &error);
        if (parsed == nullptr) {
            std::string why = error != nullptr ? error : "cannot be read";
            detail::libpq().PQfreemem(error);
            while (!why.empty() && why.back() == '\n') why.pop_back();
            why = scrubbed(why, options_.uri);
            throw StateError("--state " + where_ + ": not a PostgreSQL connection URI: " + why);
        }
        detail::libpq().PQconninfoFree(parsed);
        if (options_.uri.rfind("postgresql://", 0) != 0 && options_.uri.rfind("postgres://", 0) != 0) {
            throw StateError("--state " + where_ +
                             ": give a URI postgresql://USER[:PASSWORD]@HOST[:PORT]/DB");
        }
        if (!valid_node_name(options_.node)) {
            throw StateError("--node-name '" + options_.node +
                             "': 1 to 200 printable characters without spaces");
        }
    }

    ~Impl() { stop(); }

    const std::string& where() const noexcept { return where_; }

    void start(std::vector<core::PersistedGroup> declared) {
        declared_ = std::move(declared);
        // The first connection is made here, so that a database that is not
        // srmi's, or a name in use, stops the program (exit 2) before it serves.
        try {
            open_follower();
        } catch (const PgError& e) {
            set_problem(std::string("state database unreachable: ") + e.what());
            spdlog::warn("state database {} unreachable ({}); serving from memory and retrying",
                         where_, e.what());
        }
        follower_thread_ = std::thread([this] { follow(); });
        writer_thread_ = std::thread([this] { write(); });
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_ || stopped_) return;
        }
        say_goodbye();
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            stopped_ = true;
        }
        cv_.notify_all();
        stop_cv_.notify_all();
        wake_follower();
        if (writer_thread_.joinable()) writer_thread_.join();
        if (follower_thread_.joinable()) follower_thread_.join();
        std::vector<Done> waiting;
        {
            std::lock_guard lock(mutex_);
            for (auto& [ticket, done] : pending_) waiting.push_back(std::move(done));
            pending_.clear();
        }
        for (auto& done : waiting) detail::call_durability_callback(done, false);
        if (wake_fd_ >= 0) close(wake_fd_);
        wake_fd_ = -1;
    }

    // A clean stop: this member `shutting down`, committed (for up to 3 s)
    // before the threads end.
    void say_goodbye() {
        StateChange change;
        change.kind = StateChange::Kind::kSetStatus;
        change.group = options_.members_group;
        change.identifier = options_.node;
        change.status = -2;
        change.details = "shutting down";
        std::uint64_t ticket = 0;
        {
            // Under the lock the heartbeat records with: none follows the
            // goodbye in the log (one did, and its lease's expiry then turned
            // `shutting down` into `unreachable` on the other instances).
            std::lock_guard lock(mutex_);
            farewell_ = true;
            ticket = record_locked(std::move(change));
        }
        if (ticket == 0) return;
        auto done = std::make_shared<std::promise<void>>();
        auto finished = done->get_future();
        when_durable(ticket, [done](bool) { done->set_value(); });
        finished.wait_for(std::chrono::seconds(3));
    }

    bool leads() const noexcept { return leader_.load(); }

    std::uint64_t record(StateChange change) {
        std::lock_guard lock(mutex_);
        return record_locked(std::move(change));
    }

    std::uint64_t record_locked(StateChange change) {
        if (!accepting_locked()) return 0;
        // Dated here, once, so that every instance's history has the same time.
        if (change.at_ms == 0) change.at_ms = registry_.now_ms();
        const auto ticket = next_ticket_++;
        queue_.emplace_back(ticket, std::move(change));
        if (queue_.size() == 1) cv_.notify_one();
        return ticket;
    }

    void when_durable(std::uint64_t ticket, Done done) {
        std::unique_lock lock(mutex_);
        if (failed_locked(ticket)) {
            lock.unlock();
            return detail::call_durability_callback(done, false);
        }
        if (ticket <= applied_ticket_) {
            lock.unlock();
            return detail::call_durability_callback(done, true);
        }
        pending_.emplace(ticket, std::move(done));
    }

    PostgresHealth health() const {
        std::lock_guard lock(mutex_);
        PostgresHealth h;
        h.connected = accepting_locked();
        if (!h.connected) {
            h.problem = problem_.empty() ? "connecting to the state database " + where_ : problem_;
        }
        h.conflicts = conflicts_;
        h.applied = applied_seq_;
        h.commits = commits_;
        h.changes = changes_;
        h.leader = leader_.load();
        return h;
    }

private:
    using Queued = std::pair<std::uint64_t, StateChange>;

    bool accepting_locked() const {
        return !stopping_ && writer_up_ && writer_checked_ && follower_up_ && loaded_;
    }

    bool failed_locked(std::uint64_t ticket) const {
        return std::any_of(failed_.begin(), failed_.end(), [ticket](const auto& range) {
            return ticket >= range.first && ticket <= range.second;
        });
    }

    void set_problem(std::string problem) {
        std::lock_guard lock(mutex_);
        problem_ = std::move(problem);
    }

    // Tickets first..last will never be applied here: their callbacks get false.
    std::vector<Done> fail_locked(std::uint64_t first, std::uint64_t last) {
        failed_.emplace_back(first, last);
        while (failed_.size() > 4096) failed_.pop_front();
        std::vector<Done> out;
        for (auto it = pending_.lower_bound(first); it != pending_.end() && it->first <= last;) {
            out.push_back(std::move(it->second));
            it = pending_.erase(it);
        }
        return out;
    }

    // What the log has applied here releases the tickets committed up to it.
    std::vector<Done> advance_locked() {
        while (!committed_.empty() && committed_.front().first <= applied_seq_) {
            applied_ticket_ = std::max(applied_ticket_, committed_.front().second);
            committed_.pop_front();
        }
        std::vector<Done> out;
        for (auto it = pending_.begin(); it != pending_.end() && it->first <= applied_ticket_;) {
            out.push_back(std::move(it->second));
            it = pending_.erase(it);
        }
        return out;
    }

    // --- the writer ------------------------------------------------------------

    void write() {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (writer_ != nullptr && !writer_checked_) {
                // The follower lost the database: this connection may be dead
                // too, and only a statement would tell, so ask one now rather
                // than fail the next commit.
                lock.unlock();
                bool alive = true;
                try {
                    writer_->exec("SELECT 1");
                } catch (const PgError& e) {
                    alive = false;
                    writer_.reset();
                    note_lost("writer", e);
                }
                lock.lock();
                if (alive) writer_checked_ = true;
            }
            if (writer_ == nullptr) {
                lock.unlock();
                const bool opened = open_writer();
                lock.lock();
                if (!opened) {
                    // Nothing queued may wait for a database that is not there.
                    std::vector<Done> refused;
                    if (!queue_.empty()) refused = fail_locked(queue_.front().first, queue_.back().first);
                    queue_.clear();
                    lock.unlock();
                    for (auto& done : refused) detail::call_durability_callback(done, false);
                    lock.lock();
                    if (stopping_) return;
                    cv_.wait_for(lock, kRetry, [&] { return stopping_; });
                    continue;
                }
            }
            if (!stopping_) {
                lock.unlock();
                maintain();
                lock.lock();
            }
            cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                if (stopping_) return;
                continue;
            }
            if (writer_ == nullptr) continue;
            std::vector<Queued> batch;
            const auto take = std::min(queue_.size(), kBatchMax);
            batch.reserve(take);
            for (std::size_t i = 0; i < take; ++i) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            lock.unlock();
            commit(batch);
            lock.lock();
        }
    }

    // On the writer thread, at most about once a second: the leader lock and
    // this instance's heartbeat.
    void maintain() {
        const auto now = std::chrono::steady_clock::now();
        if (now < next_maintenance_ || writer_ == nullptr) return;
        next_maintenance_ = now + std::chrono::seconds(1);
        if (!leader_.load()) {
            try {
                auto held = writer_->exec("SELECT pg_try_advisory_lock(1936878953, 2)");
                if (detail::pg_field(held.get(), 0, 0).value_or("f") == "t") {
                    leader_.store(true);
                    spdlog::info("state database {}: node '{}' now expires the cluster's leases",
                                 where_, options_.node);
                }
            } catch (const PgError& e) {
                if (e.lost()) {
                    writer_.reset();
                    note_lost("writer", e);
                }
                return;
            }
        }
        if (leader_.load() && now >= next_prune_) {
            // The log beyond log_keep changes: an instance further behind
            // reloads the registry from the tables instead.
            next_prune_ = now + std::chrono::seconds(60);
            try {
                writer_->exec("DELETE FROM srmi_log WHERE seq <= (SELECT seq FROM srmi_head) - $1",
                              {std::to_string(options_.log_keep)});
            } catch (const PgError& e) {
                if (e.lost()) {
                    writer_.reset();
                    note_lost("writer", e);
                    return;
                }
                spdlog::warn("state database {}: pruning the log failed: {}", where_, e.what());
            }
        }
        if (leader_.load() && now >= next_history_prune_) {
            // Often enough for the age kept (a tenth of it), at least hourly.
            next_history_prune_ = now + std::clamp<std::chrono::seconds>(
                                            options_.history.max_age / 10, std::chrono::seconds(1),
                                            std::chrono::hours(1));
            if (!prune_history()) return;
        }
        if (now >= next_heartbeat_) {
            const auto period = std::max<std::chrono::milliseconds>(options_.lapse / 3,
                                                                    std::chrono::milliseconds(500));
            if (heartbeat()) next_heartbeat_ = now + period;
        }
    }

    // The table's history bounded as each instance bounds its own; false if
    // the writer's connection was lost.
    bool prune_history() {
        const auto& limits = options_.history;
        const auto cutoff =
            registry_.now_ms() -
            std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_age).count();
        try {
            writer_->exec(kPruneHistoryByCount, {std::to_string(limits.max_changes)});
            writer_->exec(kPruneHistoryByAge, {std::to_string(cutoff)});
        } catch (const PgError& e) {
            if (e.lost()) {
                writer_.reset();
                note_lost("writer", e);
                return false;
            }
            spdlog::warn("state database {}: pruning the status history failed: {}", where_,
                         e.what());
        }
        return true;
    }

    // This instance's member identifier: running, leased for the lapse.
    bool heartbeat() {
        StateChange change;
        const bool known = registry_.status(options_.members_group, options_.node).ok();
        change.kind = known ? StateChange::Kind::kSetStatus : StateChange::Kind::kAddIdentifier;
        change.group = options_.members_group;
        change.identifier = options_.node;
        change.status = 1;
        change.details = "running";
        change.max_reports = 0;
        change.ttl = std::max<std::int64_t>(1, options_.lapse.count());
        std::lock_guard lock(mutex_);
        if (farewell_) return true;  // this member said goodbye: no more heartbeats
        return record_locked(std::move(change)) != 0;
    }

    bool open_writer() {
        try {
            auto db = PgConnection::open(options_.uri, application_);
            db->prepare("append", kAppend, 3);
            writer_ = std::move(db);
            std::lock_guard lock(mutex_);
            writer_up_ = true;
            writer_checked_ = true;
            return true;
        } catch (const PgError& e) {
            note_lost("writer", e);
            return false;
        }
    }

    void note_lost(const char* which, const PgError& e) {
        const bool writer = std::string_view(which) == "writer";
        if (writer) leader_.store(false);  // the lock went with the connection
        std::lock_guard lock(mutex_);
        bool& up = writer ? writer_up_ : follower_up_;
        const bool was_up = up;
        up = false;
        problem_ = std::string("state database unreachable: ") + e.what();
        if (was_up || !lost_logged_) {
            spdlog::error("state database {}: {} connection lost: {}", where_, which, e.what());
            lost_logged_ = true;
        }
    }

    void commit(std::vector<Queued>& batch) {
        Json changes = Json::array();
        for (const auto& [ticket, change] : batch) changes.push_back(encode(change));
        const auto first = batch.front().first;
        const auto last = batch.back().first;
        std::vector<Done> done;
        bool ok = false;
        try {
            auto result = writer_->exec_prepared(
                "append", {options_.node,
                           changes.dump(-1, ' ', false, Json::error_handler_t::replace),
                           std::to_string(options_.history.max_changes)});
            const auto seq = std::stoull(detail::pg_field(result.get(), 0, 0).value_or("0"));
            ok = true;
            std::lock_guard lock(mutex_);
            committed_.emplace_back(seq, last);
            ++commits_;
            changes_ += batch.size();
            done = advance_locked();
        } catch (const PgError& e) {
            if (e.lost()) {
                writer_.reset();
                note_lost("writer", e);
            } else {
                spdlog::error("state database {}: a commit of {} change(s) failed: {}", where_,
                              batch.size(), e.what());
            }
        }
        if (!ok) {
            std::lock_guard lock(mutex_);
            done = fail_locked(first, last);
        }
        for (auto& d : done) detail::call_durability_callback(d, ok);
    }

    // --- the follower ----------------------------------------------------------

    void open_follower() {
        auto db = PgConnection::open(options_.uri, application_);
        const auto cluster = prepare_schema(*db, where_);
        // One live instance per name: the lock lives as long as this connection.
        auto held = db->exec("SELECT pg_try_advisory_lock(1936878953, hashtext($1))", {options_.node});
        if (detail::pg_field(held.get(), 0, 0).value_or("f") != "t") {
            throw StateError("--node-name '" + options_.node +
                             "': a live srmi instance already uses this name on " + where_);
        }
        db->exec("LISTEN srmi_log");
        db->prepare("fetch", kFetch, 2);
        if (!cluster_id_.empty() && cluster != cluster_id_) {
            spdlog::warn("state database {}: another database than before (cluster id {}); "
                         "reloading the registry from it", where_, cluster);
            std::lock_guard lock(mutex_);
            loaded_ = false;
        }
        cluster_id_ = cluster;
        follower_ = std::move(db);
        if (!loaded_) load();
        std::lock_guard lock(mutex_);
        if (lost_logged_) spdlog::info("state database {}: connected again", where_);
        lost_logged_ = false;
        follower_up_ = true;
        if (writer_up_) problem_.clear();
    }

    // Declares this instance's groups that the database lacks, then reads the
    // whole registry in one snapshot and puts it in memory; the log is
    // followed from that snapshot's head on.
    void load() {
        auto known = follower_->exec("SELECT gkey, declared::text FROM srmi_groups");
        std::unordered_map<std::string, std::string> declared_there;
        for (int row = 0; row < detail::libpq().PQntuples(known.get()); ++row) {
            declared_there.emplace(detail::pg_field(known.get(), row, 0).value_or(""),
                                   detail::pg_field(known.get(), row, 1).value_or(""));
        }
        Json missing = Json::array();
        std::vector<std::string> conflicts;
        for (const auto& group : declared_) {
            const auto mine = declaration(group.identifiers);
            auto there = declared_there.find(core::name_key(group.name));
            if (there == declared_there.end()) {
                StateChange change;
                change.kind = StateChange::Kind::kAddGroup;
                change.group = group.name;
                change.identifiers = group.identifiers;
                change.at_ms = registry_.now_ms();
                missing.push_back(encode(change));
            } else if (Json::parse(there->second) != mine) {
                conflicts.push_back(group.name);
                spdlog::error("state database {}: group '{}' is declared differently by another "
                              "instance; the shared registry keeps the first declaration "
                              "(check the configurations)", where_, group.name);
            }
        }
        if (declared_there.count(core::name_key(options_.members_group)) == 0) {
            StateChange change;
            change.kind = StateChange::Kind::kAddGroup;
            change.group = options_.members_group;
            change.identifiers.push_back(core::PersistedIdentifier{options_.node, -1, "starting", 0, {}, 0, 0, {}});
            change.at_ms = registry_.now_ms();
            missing.push_back(encode(change));
        }
        if (!missing.empty()) {
            follower_->exec(kAppend,
                            {options_.node,
                             missing.dump(-1, ' ', false, Json::error_handler_t::replace),
                             std::to_string(options_.history.max_changes)});
        }

        follower_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        auto head = follower_->exec("SELECT seq FROM srmi_head");
        auto groups = follower_->exec("SELECT gkey, name FROM srmi_groups ORDER BY position");
        auto identifiers = follower_->exec(
            "SELECT gkey, ikey, name, status, details, max_reports, lease_ttl, lease "
            "FROM srmi_identifiers ORDER BY gkey, position, sub");
        auto reports = follower_->exec(
            "SELECT gkey, ikey, ts, log FROM srmi_reports ORDER BY gkey, ikey, n");
        auto history = follower_->exec(
            "SELECT gkey, ikey, at_ms, old_status, status, details, node FROM srmi_history "
            "ORDER BY gkey, ikey, n");
        follower_->exec("COMMIT");

        std::map<std::string, core::PersistedGroup> by_key;
        std::vector<std::string> order;
        for (int row = 0; row < detail::libpq().PQntuples(groups.get()); ++row) {
            const auto key = detail::pg_field(groups.get(), row, 0).value_or("");
            by_key[key].name = detail::pg_field(groups.get(), row, 1).value_or("");
            order.push_back(key);
        }
        std::map<std::pair<std::string, std::string>, core::PersistedIdentifier*> ids;
        for (int row = 0; row < detail::libpq().PQntuples(identifiers.get()); ++row) {
            const auto gkey = detail::pg_field(identifiers.get(), row, 0).value_or("");
            auto& group = by_key[gkey];
            core::PersistedIdentifier id;
            id.name = detail::pg_field(identifiers.get(), row, 2).value_or("");
            id.status = std::atoi(detail::libpq().PQgetvalue(identifiers.get(), row, 3));
            id.details = detail::pg_field(identifiers.get(), row, 4);
            id.max_reports =
                std::strtoull(detail::libpq().PQgetvalue(identifiers.get(), row, 5), nullptr, 10);
            id.ttl =
                std::strtoll(detail::libpq().PQgetvalue(identifiers.get(), row, 6), nullptr, 10);
            id.lease =
                std::strtoull(detail::libpq().PQgetvalue(identifiers.get(), row, 7), nullptr, 10);
            group.identifiers.push_back(std::move(id));
        }
        for (auto& [key, group] : by_key) {
            for (auto& id : group.identifiers) ids[{key, core::name_key(id.name)}] = &id;
        }
        for (int row = 0; row < detail::libpq().PQntuples(reports.get()); ++row) {
            auto it = ids.find({detail::pg_field(reports.get(), row, 0).value_or(""),
                                detail::pg_field(reports.get(), row, 1).value_or("")});
            if (it == ids.end()) continue;
            it->second->reports.push_back(core::Report{
                std::strtoll(detail::libpq().PQgetvalue(reports.get(), row, 2), nullptr, 10),
                detail::pg_field(reports.get(), row, 3).value_or("")});
        }
        for (int row = 0; row < detail::libpq().PQntuples(history.get()); ++row) {
            auto it = ids.find({detail::pg_field(history.get(), row, 0).value_or(""),
                                detail::pg_field(history.get(), row, 1).value_or("")});
            if (it == ids.end()) continue;
            core::StatusTransition change;
            change.at_ms =
                std::strtoll(detail::libpq().PQgetvalue(history.get(), row, 2), nullptr, 10);
            if (auto from = detail::pg_field(history.get(), row, 3)) {
                change.from = std::atoi(from->c_str());
            }
            change.to = std::atoi(detail::libpq().PQgetvalue(history.get(), row, 4));
            change.details = detail::pg_field(history.get(), row, 5);
            change.node = detail::pg_field(history.get(), row, 6).value_or("");
            it->second->history.push_back(std::move(change));
        }
        for (const auto& key : order) {
            auto& group = by_key[key];
            if (group.identifiers.empty()) continue;
            StateChange add;
            add.kind = StateChange::Kind::kAddGroup;
            add.group = group.name;
            add.identifiers = group.identifiers;
            registry_.apply(add);  // already_exists for the configuration's own
            registry_.restore(group);
        }
        const auto seq = std::stoull(detail::pg_field(head.get(), 0, 0).value_or("0"));
        std::vector<Done> done;
        {
            std::lock_guard lock(mutex_);
            applied_seq_ = seq;
            conflicts_ = std::move(conflicts);
            loaded_ = true;
            done = advance_locked();
        }
        for (auto& d : done) detail::call_durability_callback(d, true);
        spdlog::info("state database {}: {} group(s) loaded at change {}; node '{}'", where_,
                     order.size(), seq, options_.node);
    }

    void follow() {
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
            }
            try {
                if (follower_ == nullptr) open_follower();
                if (!catch_up()) wait_for_news();
            } catch (const PgError& e) {
                follower_.reset();
                note_lost("follower", e);
                {
                    std::lock_guard lock(mutex_);
                    writer_checked_ = false;  // the writer asks its own connection
                }
                cv_.notify_all();
                // Writes committed but not seen here cannot be answered as applied.
                std::vector<Done> done;
                {
                    std::lock_guard lock(mutex_);
                    if (!pending_.empty()) {
                        done = fail_locked(pending_.begin()->first, pending_.rbegin()->first);
                    }
                }
                for (auto& d : done) detail::call_durability_callback(d, false);
                sleep_unless_stopping(kRetry);
            } catch (const StateError& e) {
                follower_.reset();
                set_problem(e.what());
                spdlog::error("{}", e.what());
                sleep_unless_stopping(std::chrono::seconds(5));
            } catch (const std::exception& e) {
                follower_.reset();
                set_problem(std::string("state database: ") + e.what());
                spdlog::error("state database {}: {}", where_, e.what());
                sleep_unless_stopping(std::chrono::seconds(1));
            }
        }
    }

    // Applies the log's next rows; true if there may be more right away.
    bool catch_up() {
        std::uint64_t from = 0;
        {
            std::lock_guard lock(mutex_);
            from = applied_seq_;
        }
        auto rows = follower_->exec_prepared("fetch", {std::to_string(from), std::to_string(kFetchMax)});
        const int count = detail::libpq().PQntuples(rows.get());
        for (int row = 0; row < count; ++row) {
            const auto seq = std::stoull(detail::libpq().PQgetvalue(rows.get(), row, 0));
            if (seq != from + 1) {
                // Pruned from the log while this instance was away: start afresh.
                spdlog::warn("state database {}: changes {}..{} are no longer in the log; "
                             "reloading the registry", where_, from + 1, seq - 1);
                load();
                return true;
            }
            const auto change = decode(detail::pg_field(rows.get(), row, 2).value_or("{}"), seq,
                                       detail::pg_field(rows.get(), row, 1).value_or(""));
            registry_.apply(change);
            from = seq;
            if (row % 256 == 255 || row + 1 == count) publish_applied(from);
        }
        return count == kFetchMax;
    }

    void publish_applied(std::uint64_t seq) {
        std::vector<Done> done;
        {
            std::lock_guard lock(mutex_);
            applied_seq_ = seq;
            done = advance_locked();
        }
        for (auto& d : done) detail::call_durability_callback(d, true);
    }

    void wait_for_news() {
        pollfd fds[2] = {{follower_->socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (poll(fds, 2, kIdlePollMs) < 0) return;
        if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) follower_->notifications();
        if ((fds[1].revents & POLLIN) != 0) {
            std::uint64_t count = 0;
            [[maybe_unused]] auto n = read(wake_fd_, &count, sizeof count);
        }
    }

    void wake_follower() {
        const std::uint64_t one = 1;
        if (wake_fd_ >= 0) [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }

    void sleep_unless_stopping(std::chrono::milliseconds pause) {
        std::unique_lock lock(mutex_);
        stop_cv_.wait_for(lock, pause, [&] { return stopping_; });
    }

    PostgresOptions options_;
    core::Registry& registry_;
    std::string where_;
    std::string application_;
    std::vector<core::PersistedGroup> declared_;
    int wake_fd_;

    // Each owned by its thread (the follower's also by start(), before the thread).
    std::unique_ptr<PgConnection> writer_;
    std::unique_ptr<PgConnection> follower_;
    std::string cluster_id_;  // follower's
    std::atomic<bool> leader_{false};  // the writer's connection holds the leader lock
    std::chrono::steady_clock::time_point next_maintenance_{};  // writer's
    std::chrono::steady_clock::time_point next_heartbeat_{};    // writer's
    std::chrono::steady_clock::time_point next_prune_{};        // writer's
    std::chrono::steady_clock::time_point next_history_prune_{};  // writer's
    bool loaded_ = false;     // written by the follower; read under mutex_ via accepting_locked

    mutable std::mutex mutex_;
    std::condition_variable cv_;       // the writer waits on it for work
    std::condition_variable stop_cv_;  // the follower's pauses, cut short by stop()
    bool stopping_ = false;
    bool stopped_ = false;
    bool farewell_ = false;  // guarded by mutex_: the goodbye is recorded
    bool writer_up_ = false;
    bool writer_checked_ = true;  // false: the writer's connection must prove itself first
    bool follower_up_ = false;
    bool lost_logged_ = false;
    std::string problem_;
    std::vector<std::string> conflicts_;
    std::deque<Queued> queue_;
    std::uint64_t next_ticket_ = 1;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> committed_;  // (last seq, last ticket)
    std::deque<std::pair<std::uint64_t, std::uint64_t>> failed_;     // ticket ranges
    std::multimap<std::uint64_t, Done> pending_;                     // by ticket
    std::uint64_t applied_seq_ = 0;
    std::uint64_t applied_ticket_ = 0;
    std::uint64_t commits_ = 0;
    std::uint64_t changes_ = 0;

    std::thread writer_thread_;
    std::thread follower_thread_;
};

PostgresState::PostgresState(PostgresOptions options, core::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(options), registry)) {}

PostgresState::~PostgresState() = default;

void PostgresState::start(std::vector<core::PersistedGroup> declared) {
    impl_->start(std::move(declared));
}

void PostgresState::stop() { impl_->stop(); }

bool PostgresState::leads() const noexcept { return impl_->leads(); }

std::uint64_t PostgresState::record(core::StateChange change) {
    return impl_->record(std::move(change));
}

void PostgresState::when_durable(std::uint64_t ticket, std::function<void(bool ok)> done) {
    impl_->when_durable(ticket, std::move(done));
}

PostgresHealth PostgresState::health() const { return impl_->health(); }

const std::string& PostgresState::where() const noexcept { return impl_->where(); }

}  // namespace srmi::server
