// SqliteState: what was acknowledged comes back after a restart (even kill -9),
// writes share transactions, and files it cannot use are refused untouched.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "server/state/sqlite_state.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using srmi::core::PersistedGroup;
using srmi::core::PersistedIdentifier;
using srmi::core::Report;
using srmi::core::StateChange;
using srmi::core::StatusTransition;
using srmi::server::SqliteState;
using srmi::server::StateError;
using Kind = StateChange::Kind;

/// A fresh directory under /tmp, removed (permissions restored) on scope exit.
struct TempDir {
    std::string path;
    TempDir() {
        std::string pattern = "/tmp/srmi-state-test-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            if (it->is_directory(ec)) ::chmod(it->path().c_str(), 0700);
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

StateChange add(std::string group, std::string id, int status = 1, std::optional<std::string> details = {},
                std::size_t max_reports = 50) {
    StateChange c;
    c.kind = Kind::kAddIdentifier;
    c.group = std::move(group);
    c.identifier = std::move(id);
    c.status = status;
    c.details = std::move(details);
    c.max_reports = max_reports;
    return c;
}

StateChange remove(std::string group, std::string id) {
    StateChange c;
    c.kind = Kind::kRemoveIdentifier;
    c.group = std::move(group);
    c.identifier = std::move(id);
    return c;
}

StateChange set(std::string group, std::string id, int status, std::optional<std::string> details = {}) {
    StateChange c;
    c.kind = Kind::kSetStatus;
    c.group = std::move(group);
    c.identifier = std::move(id);
    c.status = status;
    c.details = std::move(details);
    return c;
}

StateChange report(std::string group, std::string id, std::int64_t timestamp, std::string log) {
    StateChange c;
    c.kind = Kind::kAddReport;
    c.group = std::move(group);
    c.identifier = std::move(id);
    c.report = Report{timestamp, std::move(log)};
    return c;
}

/// A readable dump, so that a mismatch shows both sides.
std::string describe(const std::vector<PersistedGroup>& groups) {
    std::ostringstream out;
    for (const auto& g : groups) {
        out << g.name << ":\n";
        for (const auto& id : g.identifiers) {
            out << "  " << id.name << " status=" << id.status
                << " details=" << (id.details ? "'" + *id.details + "'" : std::string("null"))
                << " max=" << id.max_reports << "\n";
            for (const auto& r : id.reports) out << "    " << r.timestamp << " '" << r.log << "'\n";
        }
    }
    return out.str();
}

PersistedIdentifier ident(std::string name, int status, std::optional<std::string> details, std::size_t max,
                          std::vector<Report> reports = {}) {
    return PersistedIdentifier{std::move(name), status, std::move(details), max, std::move(reports), 0, 0, {}};
}

/// Waits (at most `limit`) for when_durable(ticket); nullopt if it never came.
std::optional<bool> wait_durable(SqliteState& state, std::uint64_t ticket, std::chrono::seconds limit = 30s) {
    auto promise = std::make_shared<std::promise<bool>>();
    auto future = promise->get_future();
    state.when_durable(ticket, [promise](bool ok) { promise->set_value(ok); });
    if (future.wait_for(limit) != std::future_status::ready) return std::nullopt;
    return future.get();
}

std::string read_bytes(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::set<std::string> listing(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
    return names;
}

/// Runs SQL on a database with the plain C API (to make files of others).
void run_sql(const std::string& file, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    INFO((error ? error : ""));
    sqlite3_free(error);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
}

/// Expects open() to refuse `dir` with a message naming the file and
/// containing `words`, leaving the file and the directory as they were.
void expect_refused(const std::string& dir, const std::string& words) {
    const std::string file = dir + "/srmi-state.db";
    const bool had_file = fs::exists(file);
    const std::string before = had_file ? read_bytes(file) : std::string();
    const auto names = fs::is_directory(dir) ? listing(dir) : std::set<std::string>{};
    std::string message;
    try {
        SqliteState::open(dir);
    } catch (const StateError& e) {
        message = e.what();
    }
    INFO("message: " << message);
    REQUIRE_FALSE(message.empty());
    CHECK(message.find(file) != std::string::npos);
    CHECK(message.find(words) != std::string::npos);
    if (had_file) CHECK(read_bytes(file) == before);
    if (fs::is_directory(dir)) CHECK(listing(dir) == names);
}

}  // namespace

TEST_CASE("sqlite state: an empty directory loads nothing") {
    TempDir tmp;
    const std::string dir = tmp.path + "/a/b";  // created with its parents
    auto state = SqliteState::open(dir);
    CHECK(state->path() == dir + "/srmi-state.db");
    CHECK(state->load().empty());
    CHECK(state->durable() == 0);
    CHECK(state->commits() == 0);
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    state.reset();
    CHECK(SqliteState::open(dir)->load().empty());

    const std::string slashed = tmp.path + "/c/";
    SqliteState::open(slashed);
    REQUIRE(::stat(slashed.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("sqlite state: a reopened file holds exactly what was recorded") {
    TempDir tmp;
    std::vector<StateChange> changes{
        add("g1", "main", 1, "first", 3),
        add("g1", "b", -2, std::nullopt, 2),
        add("g2", "y", 5, "why", 10),
        add("g2", "x", 5, "x", 10),
        add("g0", "z", 7, "", 1),  // empty details are not absent details
        set("g1", "main", 3),      // no details: cleared
        set("g2", "x", -1, "bad"),
        report("g1", "b", 7, "with\nnewline, \"quotes\" and \xc3\xbcnicode"),
        report("g0", "z", 1, ""),
        report("g0", "z", 2, "only the last fits"),
        add("g3", "only"),
        report("g3", "only", 5, "gone with it"),
        remove("g3", "only"),  // the group goes with its last identifier
        add("g1", "c"),
        remove("g1", "c"),
        report("g2", "x", 11, "dropped by the removal"),
        remove("g2", "x"),
        add("g2", "x", 2, std::nullopt, 10),  // back, at the end, without reports
        report("g2", "x", 12, "after"),
        // Unknown identifiers: ignored.
        set("g9", "none", 4),
        report("g1", "nope", 1, "x"),
        remove("g1", "nope"),
        set("G1", "MAIN", 9),  // names are exact here
    };
    for (int i = 0; i < 5; ++i) changes.push_back(report("g1", "main", 100 + i, "r" + std::to_string(i)));

    const std::vector<PersistedGroup> expected{
        {"g1",
         {ident("main", 3, std::nullopt, 3, {{102, "r2"}, {103, "r3"}, {104, "r4"}}),
          ident("b", -2, std::nullopt, 2, {{7, "with\nnewline, \"quotes\" and \xc3\xbcnicode"}})}},
        {"g2", {ident("y", 5, "why", 10), ident("x", 2, std::nullopt, 10, {{12, "after"}})}},
        {"g0", {ident("z", 7, "", 1, {{2, "only the last fits"}})}},
    };

    {
        auto state = SqliteState::open(tmp.path);
        std::uint64_t last = 0;
        for (const auto& c : changes) {
            const auto ticket = state->record(c);
            CHECK(ticket == last + 1);
            last = ticket;
        }
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
        CHECK(state->durable() == last);
        CHECK(describe(state->load()) == describe(expected));
    }
    auto reopened = SqliteState::open(tmp.path);
    CHECK(describe(reopened->load()) == describe(expected));

    SUBCASE("recording goes on after a reopen, with tickets from 1") {
        CHECK(reopened->record(report("g0", "z", 3, "later")) == 1);
        CHECK(reopened->record(add("g0", "w", 1, std::nullopt, 5)) == 2);
        REQUIRE(wait_durable(*reopened, 2) == std::optional<bool>(true));
        reopened.reset();
        auto again = SqliteState::open(tmp.path);
        auto more = expected;
        more[2].identifiers[0].reports = {{3, "later"}};
        more[2].identifiers.push_back(ident("w", 1, std::nullopt, 5));
        CHECK(describe(again->load()) == describe(more));
    }
}

TEST_CASE("sqlite state: durability callbacks") {
    TempDir tmp;
    auto state = SqliteState::open(tmp.path);
    state->record(add("g", "main", 1, std::nullopt, 1000));

    SUBCASE("every callback fires with true, in ticket order, on the writer thread") {
        std::mutex mutex;
        std::vector<std::uint64_t> fired;
        std::vector<bool> oks;
        std::atomic<int> on_caller{0};
        const auto caller = std::this_thread::get_id();
        std::uint64_t last = 0;
        constexpr int kChanges = 500;
        for (int i = 0; i < kChanges; ++i) {
            const auto ticket = state->record(report("g", "main", i, "r"));
            CHECK(ticket == static_cast<std::uint64_t>(i) + 2);
            last = ticket;
            state->when_durable(ticket, [&, ticket](bool ok) {
                if (std::this_thread::get_id() == caller) ++on_caller;
                std::lock_guard lock(mutex);
                fired.push_back(ticket);
                oks.push_back(ok);
            });
        }
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
        std::lock_guard lock(mutex);
        REQUIRE(fired.size() == kChanges);
        for (std::size_t i = 0; i < fired.size(); ++i) {
            CHECK(oks[i]);
            if (i > 0 && on_caller == 0) CHECK(fired[i - 1] < fired[i]);
        }
    }

    SUBCASE("a durable ticket is answered at once on the caller's thread") {
        const auto ticket = state->record(set("g", "main", 2));
        REQUIRE(wait_durable(*state, ticket) == std::optional<bool>(true));
        CHECK(state->durable() >= ticket);
        std::optional<std::thread::id> ran_on;
        std::optional<bool> result;
        state->when_durable(ticket, [&](bool ok) {
            ran_on = std::this_thread::get_id();
            result = ok;
        });
        CHECK(ran_on == std::this_thread::get_id());
        CHECK(result == std::optional<bool>(true));
        result.reset();
        state->when_durable(0, [&](bool ok) { result = ok; });
        CHECK(result == std::optional<bool>(true));
    }

    SUBCASE("a throwing callback does not stop the writer") {
        const auto first = state->record(set("g", "main", 2));
        state->when_durable(first, [](bool) { throw std::runtime_error("callback failure"); });
        const auto second = state->record(set("g", "main", 3));
        CHECK(wait_durable(*state, second) == std::optional<bool>(true));
    }

    SUBCASE("a callback for a ticket never recorded gets false at destruction") {
        const auto ticket = state->record(set("g", "main", 2));
        auto promise = std::make_shared<std::promise<bool>>();
        auto future = promise->get_future();
        state->when_durable(ticket + 100, [promise](bool ok) { promise->set_value(ok); });
        state.reset();
        REQUIRE(future.wait_for(0s) == std::future_status::ready);
        CHECK_FALSE(future.get());
    }
}

TEST_CASE("sqlite state: a failed transaction answers false and the writer goes on") {
    TempDir tmp;
    auto state = SqliteState::open(tmp.path);
    const auto first = state->record(add("g", "main", 1, std::nullopt, 10));
    REQUIRE(wait_durable(*state, first) == std::optional<bool>(true));

    auto old_logger = spdlog::default_logger();
    std::ostringstream log;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("state-test", sink));

    // Another connection holds the write lock past the writer's busy timeout.
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(state->path().c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    const auto lost = state->record(report("g", "main", 1, "lost"));
    const auto failed = wait_durable(*state, lost);
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    spdlog::set_default_logger(old_logger);

    CHECK(failed == std::optional<bool>(false));
    CHECK(state->durable() == first);
    std::optional<bool> again;
    state->when_durable(lost, [&](bool ok) { again = ok; });  // answered at once
    CHECK(again == std::optional<bool>(false));
    CHECK(log.str().find("not saved") != std::string::npos);
    CHECK(log.str().find(state->path()) != std::string::npos);

    const auto kept = state->record(report("g", "main", 2, "kept"));
    REQUIRE(wait_durable(*state, kept) == std::optional<bool>(true));
    CHECK(state->durable() == kept);
    state.reset();
    const auto groups = SqliteState::open(tmp.path)->load();
    REQUIRE(groups.size() == 1);
    REQUIRE(groups[0].identifiers.size() == 1);
    CHECK(groups[0].identifiers[0].reports == std::vector<Report>{{2, "kept"}});
}

TEST_CASE("sqlite state: group commit puts queued writes in one transaction") {
    TempDir tmp;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 2500;
    auto state = SqliteState::open(tmp.path);
    for (int t = 0; t < kThreads; ++t) state->record(add("load", "t" + std::to_string(t), 1, std::nullopt, kPerThread));

    auto record_from_threads = [&] {
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&state, t] {
                for (int i = 0; i < kPerThread; ++i)
                    state->record(report("load", "t" + std::to_string(t), i, std::to_string(t) + "-" + std::to_string(i)));
            });
        }
        for (auto& thread : threads) thread.join();
    };

    SUBCASE("while the writer is busy, everything queued waits for one transaction") {
        // Hold the writer in a callback of the next ticket, so all the
        // recording below happens while it cannot commit.
        std::promise<void> entered;
        std::promise<void> release;
        auto released = release.get_future().share();
        // Registered before its ticket exists, so it runs on the writer thread.
        const std::uint64_t next = kThreads + 1;
        state->when_durable(next, [&entered, released](bool) {
            entered.set_value();
            (void)released.wait_for(30s);
        });
        REQUIRE(state->record(set("load", "t0", 2)) == next);
        REQUIRE(entered.get_future().wait_for(30s) == std::future_status::ready);
        const auto before = state->commits();
        record_from_threads();
        release.set_value();
        const auto last = state->record(set("load", "t0", 3));
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
        // The 10 000 reports and the last status share at most two commits.
        CHECK(state->commits() - before <= 2);
    }

    SUBCASE("writers that are not held back still share transactions") {
        const auto before = state->commits();
        record_from_threads();
        const auto last = state->record(set("load", "t0", 3));
        CHECK(last == kThreads + kThreads * kPerThread + 1);
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
        MESSAGE("commits for " << kThreads * kPerThread + 1 << " changes: " << state->commits() - before);
        CHECK(state->commits() - before < kThreads * kPerThread / 2);
    }

    state.reset();
    const auto groups = SqliteState::open(tmp.path)->load();
    REQUIRE(groups.size() == 1);
    REQUIRE(groups[0].identifiers.size() == kThreads);
    CHECK(groups[0].identifiers[0].status == 3);
    for (int t = 0; t < kThreads; ++t) {
        const auto& id = groups[0].identifiers[static_cast<std::size_t>(t)];
        CHECK(id.name == "t" + std::to_string(t));
        REQUIRE(id.reports.size() == kPerThread);
        bool in_order = true;
        for (int i = 0; i < kPerThread; ++i) {
            const auto& r = id.reports[static_cast<std::size_t>(i)];
            in_order = in_order && r.timestamp == i && r.log == std::to_string(t) + "-" + std::to_string(i);
        }
        CHECK(in_order);
    }
}

TEST_CASE("sqlite state: replace_all replaces everything stored") {
    TempDir tmp;
    auto state = SqliteState::open(tmp.path);
    state->record(add("old", "main"));
    state->record(report("old", "main", 1, "old report"));
    state->record(add("kept", "a", 1, std::nullopt, 5));

    const std::vector<PersistedGroup> replacement{
        {"kept", {ident("b", -1, "d", 2, {{1, "one"}, {2, "two"}, {3, "three"}}), ident("a", 4, std::nullopt, 5)}},
        {"empty", {}},  // cannot exist in a registry: not stored
        {"new", {ident("main", 1, "", 50, {{9, "nine"}})}},
    };
    state->replace_all(replacement);  // applies the queued changes first

    const std::vector<PersistedGroup> expected{
        {"kept", {ident("b", -1, "d", 2, {{2, "two"}, {3, "three"}}), ident("a", 4, std::nullopt, 5)}},
        {"new", {ident("main", 1, "", 50, {{9, "nine"}})}},
    };
    CHECK(describe(state->load()) == describe(expected));

    // Later changes go on from the replaced state.
    state->record(add("kept", "c", 1, std::nullopt, 1));
    const auto last = state->record(report("kept", "b", 4, "four"));
    REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
    state.reset();

    auto more = expected;
    more[0].identifiers[0].reports = {{3, "three"}, {4, "four"}};
    more[0].identifiers.push_back(ident("c", 1, std::nullopt, 1));
    auto reopened = SqliteState::open(tmp.path);
    CHECK(describe(reopened->load()) == describe(more));

    SUBCASE("a failed replacement keeps the previous contents") {
        const std::vector<PersistedGroup> duplicate{{"x", {ident("main", 1, std::nullopt, 1)}},
                                                    {"x", {ident("main", 1, std::nullopt, 1)}}};
        CHECK_THROWS_AS(reopened->replace_all(duplicate), StateError);
        CHECK(describe(reopened->load()) == describe(more));
    }
    SUBCASE("replacing by nothing empties the file") {
        reopened->replace_all({});
        CHECK(reopened->load().empty());
    }
}

TEST_CASE("sqlite state: files it cannot use are refused and left untouched") {
    TempDir tmp;
    const std::string dir = tmp.path;
    const std::string file = dir + "/srmi-state.db";

    SUBCASE("random bytes") {
        std::mt19937 random(42);
        std::string bytes(8192, '\0');
        for (auto& b : bytes) b = static_cast<char>(random());
        write_bytes(file, bytes);
        expect_refused(dir, "not a SQLite database");
    }
    SUBCASE("a short file") {
        write_bytes(file, "SQLite");
        expect_refused(dir, "not a SQLite database");
    }
    SUBCASE("a SQLite database of another program") {
        run_sql(file, "CREATE TABLE other(x INTEGER); INSERT INTO other VALUES(1);");
        expect_refused(dir, "not an srmi state file");
    }
    SUBCASE("a meta table of another application") {
        run_sql(file,
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
                "INSERT INTO meta VALUES('application', 'other'), ('schema_version', '1');");
        expect_refused(dir, "not an srmi state file");
    }
    SUBCASE("another schema version, in WAL mode") {
        {
            auto state = SqliteState::open(dir);
            REQUIRE(wait_durable(*state, state->record(add("g", "main"))) == std::optional<bool>(true));
        }
        run_sql(file, "UPDATE meta SET value = '99' WHERE key = 'schema_version';");
        REQUIRE_FALSE(fs::exists(file + "-wal"));
        expect_refused(dir, "schema version 99");
        CHECK_FALSE(fs::exists(file + "-wal"));
        CHECK_FALSE(fs::exists(file + "-shm"));
    }
    SUBCASE("a damaged srmi file") {
        {
            auto state = SqliteState::open(dir);
            state->record(add("g", "main", 1, std::nullopt, 1000));
            std::uint64_t last = 0;
            for (int i = 0; i < 300; ++i) last = state->record(report("g", "main", i, std::string(100, 'x')));
            REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
        }
        std::string bytes = read_bytes(file);
        REQUIRE(bytes.size() > 3 * 4096);
        for (std::size_t i = 4096; i < 3 * 4096; ++i) bytes[i] = static_cast<char>(0xA5);
        write_bytes(file, bytes);
        expect_refused(dir, "corrupt");
    }
    SUBCASE("a state directory that is a file") {
        write_bytes(dir + "/plain", "x");
        expect_refused(dir + "/plain", "not a directory");
    }
    SUBCASE("a state directory that cannot be created") {
        write_bytes(dir + "/plain", "x");
        std::string message;
        try {
            SqliteState::open(dir + "/plain/sub");
        } catch (const StateError& e) {
            message = e.what();
        }
        CHECK(message.find(dir + "/plain/sub/srmi-state.db") != std::string::npos);
        CHECK(message.find("cannot create") != std::string::npos);
    }
    SUBCASE("a directory that is not writable") {
        if (::geteuid() == 0) {
            MESSAGE("skipped: root ignores directory permissions");
            return;
        }
        const std::string locked = dir + "/locked";
        REQUIRE(::mkdir(locked.c_str(), 0700) == 0);
        REQUIRE(::chmod(locked.c_str(), 0500) == 0);
        expect_refused(locked, "not writable");
    }
}

TEST_CASE("sqlite state: acknowledged changes survive kill -9") {
    TempDir tmp;
    constexpr int kReports = 2000;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        try {
            auto state = SqliteState::open(tmp.path);
            state->record(add("crash", "main", 1, "start", kReports));
            std::uint64_t last = 0;
            for (int i = 0; i < kReports; ++i) last = state->record(report("crash", "main", 1000 + i, std::to_string(i)));
            last = state->record(set("crash", "main", -5, "end"));
            auto promise = std::make_shared<std::promise<bool>>();
            auto future = promise->get_future();
            state->when_durable(last, [promise](bool ok) { promise->set_value(ok); });
            if (future.wait_for(60s) == std::future_status::ready && future.get())
                (void)!::write(fds[1], "ok", 2);
        } catch (...) {
        }
        ::kill(::getpid(), SIGKILL);  // no destructor, no flush, no checkpoint
        ::_exit(1);
    }
    ::close(fds[1]);
    std::string answer;
    pollfd pfd{fds[0], POLLIN, 0};
    for (int i = 0; i < 4 && answer.size() < 2; ++i) {  // the child writes at most 2 bytes
        if (::poll(&pfd, 1, 30000) <= 0) break;
        char buffer[8];
        const auto n = ::read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(answer == "ok");
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);

    const auto groups = SqliteState::open(tmp.path)->load();
    REQUIRE(groups.size() == 1);
    REQUIRE(groups[0].identifiers.size() == 1);
    const auto& id = groups[0].identifiers[0];
    CHECK(id.status == -5);
    CHECK(id.details == std::optional<std::string>("end"));
    REQUIRE(id.reports.size() == kReports);
    bool in_order = true;
    for (int i = 0; i < kReports; ++i) {
        const auto& r = id.reports[static_cast<std::size_t>(i)];
        in_order = in_order && r.timestamp == 1000 + i && r.log == std::to_string(i);
    }
    CHECK(in_order);
}

TEST_CASE("sqlite state: one srmi per state directory") {
    char dir_template[] = "/tmp/srmi-state-lock-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    {
        auto first = srmi::server::SqliteState::open(dir);
        try {
            srmi::server::SqliteState::open(dir);
            FAIL("a second open of the same directory was allowed");
        } catch (const srmi::server::StateError& e) {
            CHECK(std::string(e.what()).find("in use by another srmi process") != std::string::npos);
            CHECK(std::string(e.what()).find(dir) != std::string::npos);
        }
    }
    // Released with the first: the directory can be opened again.
    CHECK_NOTHROW(srmi::server::SqliteState::open(dir));
    std::filesystem::remove_all(dir);
}

TEST_CASE("sqlite state: subscriptions are kept, refreshed and forgotten, beside the groups") {
    TempDir tmp;
    using srmi::core::PersistedSubscription;
    {
        auto state = SqliteState::open(tmp.path);
        state->record(add("g", "main"));
        state->record_subscription(PersistedSubscription{"E_A", "udp:127.0.0.1:9", 60, 1000},
                                   false);
        state->record_subscription(PersistedSubscription{"E_A", "rabbitmq:h/k", 60, 1000}, false);
        state->record_subscription(PersistedSubscription{"E_B", "udp:127.0.0.1:9", 5, 2000}, false);
        // Refreshed: one row, the new lifetime.
        state->record_subscription(PersistedSubscription{"E_A", "udp:127.0.0.1:9", 120, 3000},
                                   false);
        const auto last =
            state->record_subscription(PersistedSubscription{"E_B", "udp:127.0.0.1:9", 0, 0}, true);
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
        // replace_all is about groups: the subscriptions stay.
        state->replace_all({});
    }
    auto state = SqliteState::open(tmp.path);
    const auto kept = state->load_subscriptions();
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].event == "E_A");
    CHECK(kept[0].socket == "rabbitmq:h/k");
    CHECK(kept[1].socket == "udp:127.0.0.1:9");
    CHECK(kept[1].expire == 120);
    CHECK(kept[1].expires_at == 3000);
}

TEST_CASE("sqlite state: a version 1 file is upgraded, its groups kept") {
    TempDir tmp;
    const std::string file = tmp.path + "/srmi-state.db";
    {
        auto state = SqliteState::open(tmp.path);
        REQUIRE(wait_durable(*state, state->record(add("g", "main", 4, "kept"))) ==
                std::optional<bool>(true));
    }
    // The file as srmi before subscriptions were kept wrote it.
    run_sql(file,
            "DROP TABLE subscriptions; DROP TABLE status_history; "
            "UPDATE meta SET value = '1' WHERE key = 'schema_version';");
    {
        auto state = SqliteState::open(tmp.path);
        CHECK(describe(state->load()) ==
              describe({PersistedGroup{"g", {ident("main", 4, "kept", 50)}}}));
        CHECK(state->load_subscriptions().empty());
        const auto ticket = state->record_subscription(
            srmi::core::PersistedSubscription{"E_A", "udp:127.0.0.1:9", 60, 1000}, false);
        REQUIRE(wait_durable(*state, ticket) == std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path);
    CHECK(state->load_subscriptions().size() == 1);
}

namespace {

StateChange with(StateChange c, std::int64_t at_ms, std::optional<int> from, int to,
                 std::string node = {}) {
    c.transition = StatusTransition{at_ms, from, to, c.details, std::move(node)};
    return c;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const std::vector<StatusTransition>& history_of(const std::vector<PersistedGroup>& groups,
                                                const std::string& id) {
    for (const auto& g : groups)
        for (const auto& i : g.identifiers)
            if (i.name == id) return i.history;
    FAIL("no identifier " << id);
    static const std::vector<StatusTransition> none;
    return none;
}

}  // namespace

TEST_CASE("sqlite state: the status history is kept with each change") {
    TempDir tmp;
    const auto t0 = now_ms();
    {
        auto state = SqliteState::open(tmp.path);
        state->record(with(add("g", "a"), t0, std::nullopt, 1));
        state->record(set("g", "a", 2));  // no change of status: no entry
        state->record(with(set("g", "a", -3, "down"), t0 + 5, 2, -3, "node-1"));
        REQUIRE(wait_durable(*state, state->record(with(set("g", "a", 1), t0 + 9, -3, 1))) ==
                std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path);
    const auto history = history_of(state->load(), "a");
    REQUIRE(history.size() == 3);
    CHECK(history[0] == StatusTransition{t0, std::nullopt, 1, std::nullopt, ""});
    CHECK(history[1] == StatusTransition{t0 + 5, 2, -3, "down", "node-1"});
    CHECK(history[2].to == 1);
}

TEST_CASE("sqlite state: history beyond max_changes is dropped, by identifier") {
    TempDir tmp;
    const srmi::core::HistoryLimits limits{3, std::chrono::hours(24)};
    const auto t0 = now_ms();
    {
        auto state = SqliteState::open(tmp.path, limits);
        state->record(with(add("g", "a"), t0, std::nullopt, 1));
        state->record(with(add("g", "b"), t0, std::nullopt, 1));
        std::uint64_t last = 0;
        for (int i = 0; i < 6; ++i) last = state->record(with(set("g", "a", -i - 1), t0 + i + 1, -i, -i - 1));
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path, limits);
    const auto groups = state->load();
    const auto& a = history_of(groups, "a");
    REQUIRE(a.size() == 3);
    CHECK(a.back().to == -6);
    CHECK(history_of(groups, "b").size() == 1);
}

TEST_CASE("sqlite state: the count is trimmed once per eighth of max_changes, never further") {
    TempDir tmp;
    const srmi::core::HistoryLimits limits{16, std::chrono::hours(24)};
    const auto t0 = now_ms();
    {
        auto state = SqliteState::open(tmp.path, limits);
        state->record(with(add("g", "a"), t0, std::nullopt, 1));
        std::uint64_t last = 0;
        for (int i = 1; i <= 100; ++i) {
            last = state->record(with(set("g", "a", i % 2 ? -1 : 1), t0 + i, i % 2 ? 1 : -1, i % 2 ? -1 : 1));
        }
        REQUIRE(wait_durable(*state, last) == std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path, limits);
    const auto groups = state->load();
    const auto& a = history_of(groups, "a");
    // Trimmed to 16 every second change: 16 or 17 rows, the newest kept.
    CHECK(a.size() >= 16);
    CHECK(a.size() <= 16 + 16 / 8);
    REQUIRE_FALSE(a.empty());
    CHECK(a.back().at_ms == t0 + 100);
}

TEST_CASE("sqlite state: history older than max_age goes at open, but the status it began with") {
    TempDir tmp;
    const auto now = now_ms();
    const std::int64_t day = 24 * 3600 * 1000LL;
    {
        auto state = SqliteState::open(tmp.path);
        state->record(with(add("g", "a"), now - 9 * day, std::nullopt, 1));
        state->record(with(set("g", "a", -1), now - 8 * day, 1, -1));
        state->record(with(set("g", "a", 1), now - 3 * day, -1, 1));
        REQUIRE(wait_durable(*state, state->record(with(set("g", "a", -2), now - day, 1, -2))) ==
                std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path, srmi::core::HistoryLimits{100, std::chrono::hours(48)});
    const auto history = history_of(state->load(), "a");
    REQUIRE(history.size() == 2);
    CHECK(history[0].at_ms == now - 3 * day);  // the status when the kept two days begin
    CHECK(history[1].to == -2);
}

TEST_CASE("sqlite state: a removed identifier's history goes; added again it starts afresh") {
    TempDir tmp;
    const auto t0 = now_ms();
    {
        auto state = SqliteState::open(tmp.path);
        state->record(with(add("g", "a"), t0, std::nullopt, 1));
        state->record(with(add("g", "b"), t0, std::nullopt, 1));
        state->record(with(set("g", "b", -1), t0 + 1, 1, -1));
        state->record(remove("g", "b"));
        REQUIRE(wait_durable(*state, state->record(with(add("g", "b", 5), t0 + 2, std::nullopt, 5))) ==
                std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path);
    const auto history = history_of(state->load(), "b");
    REQUIRE(history.size() == 1);
    CHECK(history[0].to == 5);
}

TEST_CASE("sqlite state: replace_all keeps the stored history and starts the missing ones") {
    TempDir tmp;
    const auto t0 = now_ms();
    auto state = SqliteState::open(tmp.path);
    state->record(with(add("g", "a"), t0, std::nullopt, 1));
    state->record(with(add("g", "gone"), t0, std::nullopt, 1));
    REQUIRE(wait_durable(*state, state->record(with(set("g", "a", -1), t0 + 1, 1, -1))) ==
            std::optional<bool>(true));
    auto groups = state->load();
    groups[0].identifiers.pop_back();  // "gone" is not declared any more
    auto fresh = ident("new", 3, std::nullopt, 5);
    fresh.history = {StatusTransition{t0 + 7, std::nullopt, 3, std::nullopt, ""}};
    groups[0].identifiers.push_back(fresh);
    state->replace_all(groups);
    const auto after = state->load();
    CHECK(history_of(after, "a").size() == 2);
    CHECK(history_of(after, "new") == fresh.history);
    int rows = 0;
    for (const auto& g : after)
        for (const auto& id : g.identifiers) rows += static_cast<int>(id.history.size());
    CHECK(rows == 3);
}

TEST_CASE("sqlite state: a version 2 file is upgraded and keeps history from then on") {
    TempDir tmp;
    const std::string file = tmp.path + "/srmi-state.db";
    {
        auto state = SqliteState::open(tmp.path);
        REQUIRE(wait_durable(*state, state->record(add("g", "main", 4))) == std::optional<bool>(true));
    }
    run_sql(file, "DROP TABLE status_history; UPDATE meta SET value = '2' WHERE key = 'schema_version';");
    {
        auto state = SqliteState::open(tmp.path);
        CHECK(history_of(state->load(), "main").empty());
        REQUIRE(wait_durable(*state, state->record(with(set("g", "main", -4), now_ms(), 4, -4))) ==
                std::optional<bool>(true));
    }
    auto state = SqliteState::open(tmp.path);
    CHECK(history_of(state->load(), "main").size() == 1);
}
