// Registry: groups, identifiers, statuses, reports and status-change listeners.
#include "core/registry.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace srmi::core;

namespace {

IdentifierSpec spec(std::string name, int status = 1,
                    std::optional<std::string> details = std::nullopt,
                    std::size_t max_reports = kPublicMaxReports) {
    return IdentifierSpec{std::move(name), status, std::move(details), max_reports};
}

/// A copy of one StatusChange, safe to keep after the listener returns.
struct Change {
    std::string group;
    std::string identifier;
    int old_status;
    int new_status;
    std::optional<std::string> details;

    friend bool operator==(const Change&, const Change&) = default;
};

std::ostream& operator<<(std::ostream& os, const std::vector<Change>& changes) {
    for (const auto& c : changes) {
        os << "[" << c.group << "/" << c.identifier << " " << c.old_status << "->" << c.new_status
           << " " << c.details.value_or("(none)") << "]";
    }
    return os;
}

/// Records every change the registry announces.
struct Recorder {
    std::mutex mutex;
    std::vector<Change> changes;

    void attach(Registry& registry) {
        registry.on_status_change([this](const StatusChange& c) {
            std::lock_guard lock(mutex);
            changes.push_back(Change{std::string(c.group), std::string(c.identifier), c.old_status,
                                     c.new_status, c.details});
        });
    }
};

std::vector<std::string> names_of(const std::vector<IdentifierStatus>& list) {
    std::vector<std::string> out;
    for (const auto& s : list) out.push_back(s.name);
    return out;
}

std::vector<std::string> names_of(const std::vector<IdentifierReports>& list) {
    std::vector<std::string> out;
    for (const auto& r : list) out.push_back(r.name);
    return out;
}

template <class T>
std::vector<std::string> group_names(const std::vector<T>& list) {
    std::vector<std::string> out;
    for (const auto& g : list) out.push_back(g.name);
    return out;
}

std::vector<std::string> logs_of(const std::vector<Report>& reports) {
    std::vector<std::string> out;
    for (const auto& r : reports) out.push_back(r.log);
    return out;
}

}  // namespace

TEST_CASE("lookups ignore case but answer with the registered spelling") {
    Registry registry;
    auto handle = registry.add_group("Custom", Visibility::kPublic,
                                     {spec("Main"), spec("EdgeProxy", -3, "warming")});
    CHECK(handle.name() == "Custom");

    auto s = registry.status("cUSTOM", "edgeproxy");
    REQUIRE(s.ok());
    CHECK(s->name == "EdgeProxy");
    CHECK(s->status == -3);
    CHECK(s->details == "warming");

    auto ids = registry.list_identifiers("CUSTOM");
    REQUIRE(ids.ok());
    CHECK(ids->name == "Custom");
    CHECK(ids->identifiers == std::vector<std::string>{"Main", "EdgeProxy"});

    CHECK(registry.set_status("custom", "EDGEPROXY", 4).ok());
    CHECK(registry.status("Custom", "EdgeProxy")->status == 4);
    CHECK(registry.add_report("CUSTOM", "edgeproxy", "hello").ok());
    auto reports = registry.list_reports("custom", "EdgeProxy");
    REQUIRE(reports.ok());
    CHECK(logs_of(*reports) == std::vector<std::string>{"hello"});

    auto listed = registry.list_status("cuStom");
    REQUIRE(listed.ok());
    CHECK(names_of(*listed) == std::vector<std::string>{"Main", "EdgeProxy"});
}

TEST_CASE("naming only the group means the identifier main") {
    Registry registry;
    registry.add_group("custom", Visibility::kPublic, {spec("other", 7), spec("main", -4, "boot")});

    auto s = registry.status("custom");
    REQUIRE(s.ok());
    CHECK(s->name == "main");
    CHECK(s->status == -4);
    CHECK(s->details == "boot");
    CHECK_FALSE(s->ready());

    SUBCASE("a group registered without identifiers has one main at status 1") {
        registry.add_group("plain", Visibility::kPublic, {});
        auto plain = registry.status("plain");
        REQUIRE(plain.ok());
        CHECK(plain->name == "main");
        CHECK(plain->status == 1);
        CHECK_FALSE(plain->details.has_value());
        CHECK(plain->ready());
        CHECK(registry.list_identifiers("plain")->identifiers == std::vector<std::string>{"main"});
    }
    SUBCASE("the default argument list also gives main") {
        registry.add_group("defaulted", Visibility::kPublic);
        CHECK(registry.list_identifiers("defaulted")->identifiers ==
              std::vector<std::string>{"main"});
        CHECK(registry.status("defaulted")->status == 1);
    }
}

TEST_CASE("identifier all aggregates the whole group") {
    Registry registry;
    registry.add_group("custom", Visibility::kPublic,
                       {spec("a", 1), spec("b", 5, "fine"), spec("c", 2)});

    auto aggregate = [&](std::string_view name) {
        auto s = registry.status("custom", name);
        REQUIRE(s.ok());
        CHECK(s->details == "aggregated");
        return s->status;
    };

    SUBCASE("1 when no identifier is negative") {
        CHECK(aggregate("all") == 1);
        CHECK(registry.status("custom", "all")->ready());
    }
    SUBCASE("-1 when one identifier is negative") {
        REQUIRE(registry.set_status("custom", "c", -7).ok());
        CHECK(aggregate("all") == -1);
        CHECK_FALSE(registry.status("custom", "all")->ready());
        REQUIRE(registry.set_status("custom", "c", 3).ok());
        CHECK(aggregate("all") == 1);
    }
    SUBCASE("-1 when every identifier is negative, whatever the values") {
        for (const char* id : {"a", "b", "c"}) REQUIRE(registry.set_status("custom", id, -50).ok());
        CHECK(aggregate("all") == -1);
    }
    SUBCASE("any case of all") {
        REQUIRE(registry.set_status("custom", "a", -2).ok());
        CHECK(aggregate("ALL") == -1);
        CHECK(aggregate("All") == -1);
    }
    SUBCASE("an unknown group is still an error") {
        auto s = registry.status("nope", "all");
        REQUIRE_FALSE(s.ok());
        CHECK(s.error() == Errc::group_not_found);
    }
}

TEST_CASE("status 0 is stored as 1") {
    Registry registry;
    auto handle =
        registry.add_group("custom", Visibility::kPublic, {spec("main", -5), spec("zero", 0)});

    SUBCASE("at creation") { CHECK(registry.status("custom", "zero")->status == 1); }
    SUBCASE("through Registry::set_status") {
        REQUIRE(registry.set_status("custom", "main", 0, "zero").ok());
        CHECK(registry.status("custom")->status == 1);
        CHECK(registry.status("custom")->details == "zero");
    }
    SUBCASE("through the handle") {
        REQUIRE(handle.set_status("main", 0).ok());
        CHECK(registry.status("custom")->status == 1);
    }
}

TEST_CASE("setting a status without details clears the details") {
    Registry registry;
    auto handle = registry.add_group("custom", Visibility::kPublic, {spec("main", 1, "initial")});

    REQUIRE(registry.set_status("custom", "main", 2, "some details").ok());
    CHECK(registry.status("custom")->details == "some details");

    SUBCASE("from outside, same status") {
        REQUIRE(registry.set_status("custom", "main", 2).ok());
        CHECK_FALSE(registry.status("custom")->details.has_value());
        CHECK(registry.status("custom")->status == 2);
    }
    SUBCASE("through the handle, new status") {
        REQUIRE(handle.set_status("main", -1).ok());
        CHECK_FALSE(registry.status("custom")->details.has_value());
        CHECK(registry.status("custom")->status == -1);
    }
    SUBCASE("new details replace the old ones") {
        REQUIRE(registry.set_status("custom", "main", 2, "other").ok());
        CHECK(registry.status("custom")->details == "other");
    }
}

TEST_CASE("reports are stamped by the injected clock and capped at max_reports") {
    std::int64_t now = 1'700'000'000;
    Registry registry([&now] { return now; });
    auto handle =
        registry.add_group("custom", Visibility::kPublic, {spec("main", 1, std::nullopt, 3)});

    for (int i = 1; i <= 5; ++i) {
        now = 1'700'000'000 + i * 10;
        REQUIRE(registry.add_report("custom", "main", "r" + std::to_string(i)).ok());
    }
    now = 1'800'000'000;
    REQUIRE(handle.add_report("main", "via handle").ok());

    auto reports = registry.list_reports("custom", "main");
    REQUIRE(reports.ok());
    CHECK(*reports == std::vector<Report>{{1'700'000'040, "r4"},
                                          {1'700'000'050, "r5"},
                                          {1'800'000'000, "via handle"}});
}

TEST_CASE("an identifier with max_reports 0 refuses reports") {
    Registry registry;
    auto handle = registry.add_group("custom", Visibility::kPublic,
                                     {spec("main"), spec("silent", 1, std::nullopt, 0)});

    auto from_outside = registry.add_report("custom", "silent", "x");
    REQUIRE_FALSE(from_outside.ok());
    CHECK(from_outside.error() == Errc::reports_disabled);

    auto from_handle = handle.add_report("SILENT", "x");
    REQUIRE_FALSE(from_handle.ok());
    CHECK(from_handle.error() == Errc::reports_disabled);

    CHECK(registry.list_reports("custom", "silent")->empty());
    // Its status can still be set, and its neighbour still takes reports.
    CHECK(registry.set_status("custom", "silent", -3).ok());
    CHECK(registry.status("custom", "silent")->status == -3);
    CHECK(registry.add_report("custom", "main", "y").ok());
}

TEST_CASE("groups and identifiers are listed in registration order") {
    Registry registry;
    registry.add_group("zeta", Visibility::kInternal, {spec("zz"), spec("aa"), spec("mm")});
    registry.add_group("Alpha", Visibility::kPublic, {spec("main"), spec("beta"), spec("Able")});
    registry.add_group("mid", Visibility::kPublic);
    const std::vector<std::string> groups{"zeta", "Alpha", "mid"};
    const std::vector<std::string> zeta_ids{"zz", "aa", "mm"};
    const std::vector<std::string> alpha_ids{"main", "beta", "Able"};

    CHECK(registry.group_count() == 3);

    SUBCASE("list_status") {
        auto all = registry.list_status();
        CHECK(group_names(all) == groups);
        REQUIRE(all.size() == 3);
        CHECK(names_of(all[0].identifiers) == zeta_ids);
        CHECK(names_of(all[1].identifiers) == alpha_ids);
        CHECK(names_of(*registry.list_status("alpha")) == alpha_ids);
    }
    SUBCASE("list_reports") {
        auto all = registry.list_reports();
        CHECK(group_names(all) == groups);
        REQUIRE(all.size() == 3);
        CHECK(names_of(all[0].identifiers) == zeta_ids);
        CHECK(names_of(all[2].identifiers) == std::vector<std::string>{"main"});
        CHECK(names_of(*registry.list_reports("ZETA")) == zeta_ids);
    }
    SUBCASE("list_identifiers") {
        auto all = registry.list_identifiers();
        CHECK(group_names(all) == groups);
        REQUIRE(all.size() == 3);
        CHECK(all[0].identifiers == zeta_ids);
        CHECK(all[1].identifiers == alpha_ids);
        CHECK(registry.list_identifiers("Zeta")->identifiers == zeta_ids);
    }
}

TEST_CASE("invalid registrations throw std::invalid_argument and change nothing") {
    Registry registry;
    registry.add_group("custom", Visibility::kPublic, {spec("main", 3)});

    SUBCASE("duplicate group, same spelling") {
        CHECK_THROWS_AS(registry.add_group("custom", Visibility::kPublic), std::invalid_argument);
    }
    SUBCASE("duplicate group, other case") {
        CHECK_THROWS_AS(registry.add_group("CUSTOM", Visibility::kInternal), std::invalid_argument);
    }
    SUBCASE("duplicate identifier, other case") {
        CHECK_THROWS_AS(
            registry.add_group("other", Visibility::kPublic, {spec("Edge"), spec("eDGE")}),
            std::invalid_argument);
        CHECK_FALSE(registry.status("other").ok());
    }
    SUBCASE("empty group name") {
        CHECK_THROWS_AS(registry.add_group("", Visibility::kPublic), std::invalid_argument);
    }
    SUBCASE("empty identifier name") {
        CHECK_THROWS_AS(registry.add_group("other", Visibility::kPublic, {spec("")}),
                        std::invalid_argument);
    }

    CHECK(registry.group_count() == 1);
    CHECK(group_names(registry.list_identifiers()) == std::vector<std::string>{"custom"});
    CHECK(registry.status("custom")->status == 3);
}

TEST_CASE("groups of many identifiers find, refuse, add and remove them by name") {
    // Past the size where a group stops scanning its members.
    Registry registry;
    std::vector<IdentifierSpec> specs;
    for (int i = 0; i < 100; ++i) specs.push_back(spec("Id" + std::to_string(i), i + 1));
    auto twice = specs;
    twice.push_back(spec("iD70"));
    CHECK_THROWS_WITH_AS(registry.add_group("big", Visibility::kPublic, twice),
                         "group 'big': duplicate identifier 'iD70'", std::invalid_argument);
    registry.add_group("big", Visibility::kPublic, specs);

    for (int i = 0; i < 100; ++i)
        CHECK(registry.status("big", "id" + std::to_string(i))->status == i + 1);
    CHECK(registry.status("big", "id100").error() == Errc::identifier_not_found);
    CHECK(registry.add_identifier("big", spec("ID5")).error() == Errc::already_exists);
    REQUIRE(registry.add_identifier("big", spec("extra", 7)).ok());
    CHECK(registry.status("big", "EXTRA")->status == 7);
    REQUIRE(registry.remove_identifier("big", "id50").ok());
    CHECK(registry.status("big", "Id50").error() == Errc::identifier_not_found);
    CHECK(registry.status("big", "Id51")->status == 52);
    const auto names = registry.list_identifiers("big")->identifiers;
    REQUIRE(names.size() == 100);
    CHECK(names[49] == "Id49");
    CHECK(names[50] == "Id51");
    CHECK(names.back() == "extra");
}

TEST_CASE("internal groups are written only through their handle") {
    std::int64_t now = 42;
    Registry registry([&now] { return now; });
    auto handle = registry.add_group("core", Visibility::kInternal, {spec("main", -100)});

    auto set = registry.set_status("core", "main", 1, "from outside");
    REQUIRE_FALSE(set.ok());
    CHECK(set.error() == Errc::forbidden);
    auto add = registry.add_report("CORE", "main", "from outside");
    REQUIRE_FALSE(add.ok());
    CHECK(add.error() == Errc::forbidden);
    CHECK(registry.status("core")->status == -100);
    CHECK(registry.list_reports("core", "main")->empty());

    REQUIRE(handle.set_status("main", 1, "running").ok());
    REQUIRE(handle.add_report("main", "ready").ok());
    CHECK(registry.status("core")->status == 1);
    CHECK(registry.status("core")->details == "running");
    CHECK(*registry.list_reports("core", "main") == std::vector<Report>{{42, "ready"}});

    SUBCASE("forbidden even for an unknown identifier of an internal group") {
        auto refused = registry.set_status("core", "nope", 1);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error() == Errc::forbidden);
    }
    SUBCASE("the handle still reports unknown identifiers") {
        auto missing = handle.set_status("nope", 1);
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error() == Errc::identifier_not_found);
        CHECK(handle.add_report("nope", "x").error() == Errc::identifier_not_found);
    }
}

TEST_CASE("unknown groups and identifiers are refused") {
    Registry registry;
    registry.add_group("custom", Visibility::kPublic, {spec("main")});

    SUBCASE("unknown group") {
        CHECK(registry.status("nope").error() == Errc::group_not_found);
        CHECK(registry.list_status("nope").error() == Errc::group_not_found);
        CHECK(registry.list_reports("nope").error() == Errc::group_not_found);
        CHECK(registry.list_reports("nope", "main").error() == Errc::group_not_found);
        CHECK(registry.list_identifiers("nope").error() == Errc::group_not_found);
        CHECK(registry.set_status("nope", "main", 1).error() == Errc::group_not_found);
        CHECK(registry.add_report("nope", "main", "x").error() == Errc::group_not_found);
        CHECK(registry.status("").error() == Errc::group_not_found);
    }
    SUBCASE("unknown identifier") {
        CHECK(registry.status("custom", "nope").error() == Errc::identifier_not_found);
        CHECK(registry.list_reports("custom", "nope").error() == Errc::identifier_not_found);
        CHECK(registry.set_status("custom", "nope", 1).error() == Errc::identifier_not_found);
        CHECK(registry.add_report("custom", "nope", "x").error() == Errc::identifier_not_found);
        CHECK(registry.status("custom", "").error() == Errc::identifier_not_found);
    }
}

TEST_CASE("status listeners hear each actual change exactly once") {
    Registry registry;
    auto core = registry.add_group("Core", Visibility::kInternal, {spec("Main", -100)});
    registry.add_group("Custom", Visibility::kPublic, {spec("main"), spec("EdgeProxy", 5)});
    Recorder recorder;
    recorder.attach(registry);

    SUBCASE("changes with old, new, details and registered spelling") {
        REQUIRE(registry.set_status("CUSTOM", "edgeproxy", -2, "down").ok());
        REQUIRE(core.set_status("MAIN", -1, "initializing").ok());
        REQUIRE(registry.set_status("custom", "EDGEPROXY", 3).ok());
        CHECK(recorder.changes == std::vector<Change>{
                                      {"Custom", "EdgeProxy", 5, -2, "down"},
                                      {"Core", "Main", -100, -1, "initializing"},
                                      {"Custom", "EdgeProxy", -2, 3, std::nullopt},
                                  });
    }
    SUBCASE("nothing for an unchanged status, even with new details") {
        REQUIRE(registry.set_status("custom", "edgeproxy", 5, "same status").ok());
        REQUIRE(registry.set_status("custom", "main", 1).ok());
        REQUIRE(registry.set_status("custom", "main", 0).ok());  // 0 is 1: unchanged
        REQUIRE(core.set_status("main", -100, "still none").ok());
        CHECK(recorder.changes.empty());
        // ...but the details were stored.
        CHECK(registry.status("custom", "edgeproxy")->details == "same status");
    }
    SUBCASE("nothing for refused writes") {
        CHECK_FALSE(registry.set_status("core", "main", 1).ok());
        CHECK_FALSE(registry.set_status("custom", "nope", 7).ok());
        CHECK_FALSE(registry.set_status("nope", "main", 7).ok());
        CHECK(recorder.changes.empty());
    }
    SUBCASE("0 becomes 1 in the announced change") {
        REQUIRE(registry.set_status("custom", "edgeproxy", 0).ok());
        CHECK(recorder.changes == std::vector<Change>{{"Custom", "EdgeProxy", 5, 1, std::nullopt}});
    }
    SUBCASE("every listener is called once per change") {
        Recorder second;
        second.attach(registry);
        REQUIRE(registry.set_status("custom", "main", -9).ok());
        REQUIRE(registry.set_status("custom", "main", -9).ok());
        REQUIRE(registry.set_status("custom", "main", 2).ok());
        const std::vector<Change> expected{{"Custom", "main", 1, -9, std::nullopt},
                                           {"Custom", "main", -9, 2, std::nullopt}};
        CHECK(recorder.changes == expected);
        CHECK(second.changes == expected);
    }
    SUBCASE("the listener sees the new state already stored") {
        std::vector<int> seen;
        registry.on_status_change([&](const StatusChange& c) { seen.push_back(c.new_status); });
        REQUIRE(registry.set_status("custom", "main", -4).ok());
        CHECK(seen == std::vector<int>{-4});
        CHECK(recorder.changes.size() == 1);
    }
}

TEST_CASE("concurrent writers and readers leave a consistent registry") {
    constexpr int kWriters = 4;
    constexpr int kReaders = 2;
    constexpr int kWrites = 400;
    constexpr int kReads = 150;
    constexpr std::size_t kMaxReports = 16;

    std::atomic<std::int64_t> ticks{0};
    Registry registry([&ticks] { return ticks.fetch_add(1) + 1; });
    std::vector<IdentifierSpec> specs;
    std::vector<std::string> names;
    for (int w = 0; w < kWriters; ++w) {
        names.push_back("w" + std::to_string(w));
        specs.push_back(spec(names.back(), 1, std::nullopt, kMaxReports));
    }
    registry.add_group("load", Visibility::kPublic, specs);
    auto internal = registry.add_group("internal", Visibility::kInternal);

    // Per-writer change logs: a listener for identifier wN only runs on writer N's thread.
    std::vector<std::vector<Change>> changes(kWriters + 1);
    std::atomic<int> listener_calls{0};
    registry.on_status_change([&](const StatusChange& c) {
        listener_calls.fetch_add(1);
        const std::size_t slot =
            c.group == "internal" ? kWriters : std::stoul(std::string(c.identifier.substr(1)));
        changes[slot].push_back(Change{std::string(c.group), std::string(c.identifier),
                                       c.old_status, c.new_status, c.details});
    });

    auto status_for = [](int writer, int i) {
        return (i / (writer + 1)) % 3 - 1;
    };  // -1, 0 (=1), 1
    std::vector<int> expected_changes(kWriters + 1, 0);
    std::vector<int> refused(kWriters + 1, 0);
    std::vector<int> reader_violations(kReaders, 0);

    std::latch start(kWriters +
                     kReaders);  // all at once, not one after another as they are spawned
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            start.arrive_and_wait();
            int last = 1;
            for (int i = 0; i < kWrites; ++i) {
                int status = status_for(w, i);
                const int stored = status == 0 ? 1 : status;
                if (!registry.set_status("LOAD", names[w], status, "write " + std::to_string(i))
                         .ok())
                    ++refused[w];
                if (stored != last) ++expected_changes[w];
                last = stored;
                if (!registry.add_report("load", names[w], names[w] + " " + std::to_string(i)).ok())
                    ++refused[w];
                if (w == 0) {  // one writer also drives an internal group through its handle
                    if (!internal.set_status("main", i % 2 == 0 ? -1 : 1).ok()) ++refused[kWriters];
                    ++expected_changes[kWriters];
                }
            }
        });
    }
    for (int r = 0; r < kReaders; ++r) {
        threads.emplace_back([&, r] {
            start.arrive_and_wait();
            int& bad = reader_violations[r];
            for (int i = 0; i < kReads; ++i) {
                for (const auto& g : registry.list_status()) {
                    for (const auto& s : g.identifiers) {
                        if (s.status != 1 && s.status != -1) ++bad;
                    }
                }
                for (const auto& g : registry.list_reports()) {
                    for (const auto& id : g.identifiers) {
                        if (id.reports.size() > kMaxReports) ++bad;
                        for (std::size_t k = 1; k < id.reports.size(); ++k) {
                            if (id.reports[k - 1].timestamp >= id.reports[k].timestamp) ++bad;
                        }
                    }
                }
                auto ids = registry.list_identifiers("load");
                if (!ids.ok() || ids->identifiers != names) ++bad;
                auto all = registry.status("load", "all");
                if (!all.ok() || (all->status != 1 && all->status != -1)) ++bad;
            }
        });
    }
    for (auto& t : threads) t.join();

    for (int r = 0; r < kReaders; ++r) CHECK(reader_violations[r] == 0);
    int total_expected = 0;
    for (int w = 0; w <= kWriters; ++w) {
        CAPTURE(w);
        CHECK(refused[w] == 0);
        CHECK(static_cast<int>(changes[w].size()) == expected_changes[w]);
        total_expected += expected_changes[w];
        // Changes of one identifier arrive in order and chain old -> new.
        for (std::size_t k = 1; k < changes[w].size(); ++k) {
            CHECK(changes[w][k].old_status == changes[w][k - 1].new_status);
            CHECK(changes[w][k].old_status != changes[w][k].new_status);
        }
    }
    CHECK(listener_calls.load() == total_expected);

    for (int w = 0; w < kWriters; ++w) {
        CAPTURE(w);
        auto s = registry.status("load", names[w]);
        REQUIRE(s.ok());
        const int last = status_for(w, kWrites - 1);
        CHECK(s->status == (last == 0 ? 1 : last));
        CHECK(s->details == "write " + std::to_string(kWrites - 1));

        auto reports = registry.list_reports("load", names[w]);
        REQUIRE(reports.ok());
        REQUIRE(reports->size() == std::min<std::size_t>(kWrites, kMaxReports));
        for (std::size_t k = 0; k < reports->size(); ++k) {
            const auto n = kWrites - static_cast<int>(kMaxReports) + static_cast<int>(k);
            CHECK((*reports)[k].log == names[w] + " " + std::to_string(n));
        }
    }
    CHECK(ticks.load() == kWriters * kWrites);
    CHECK(registry.status("internal")->status == 1);
}

TEST_CASE("the store limit evicts the oldest reports registry-wide") {
    srmi::core::Registry registry([] { return std::int64_t{1}; });
    registry.add_group("a", srmi::core::Visibility::kPublic);
    registry.add_group("b", srmi::core::Visibility::kPublic);
    registry.set_store_limit(250);
    std::vector<std::uint64_t> seen;
    registry.on_store_change([&](std::uint64_t used) { seen.push_back(used); });

    registry.add_report("a", "main", std::string(100, '1'));
    registry.add_report("b", "main", std::string(100, '2'));
    CHECK(registry.store_bytes() == 200);
    registry.add_report("b", "main", std::string(100, '3'));  // 300 > 250: "1" goes
    CHECK(registry.store_bytes() == 200);
    CHECK(registry.list_reports("a", "main")->empty());
    CHECK(registry.list_reports("b", "main")->size() == 2);
    CHECK(seen.back() == 200);

    SUBCASE("details count but are never evicted") {
        registry.set_status("a", "main", 1, std::string(40, 'd'));
        CHECK(registry.store_bytes() == 240);
        registry.set_status("a", "main", 1);
        CHECK(registry.store_bytes() == 200);
    }
    SUBCASE("a ring overwrite frees its report's bytes") {
        srmi::core::Registry small;
        small.add_group("g", srmi::core::Visibility::kPublic,
                        {srmi::core::IdentifierSpec{"main", 1, {}, 2}});
        for (int i = 0; i < 5; ++i) small.add_report("g", "main", std::string(10, 'r'));
        CHECK(small.store_bytes() == 20);
    }
}

TEST_CASE("removing identifiers while others read and write them is safe") {
    srmi::core::Registry registry;
    registry.add_group("g", srmi::core::Visibility::kPublic);
    registry.set_store_limit(1 << 20);
    std::atomic<bool> stop{false};
    std::thread reader([&] {
        for (int i = 0; i < 2000 && !stop; ++i) {
            (void)registry.list_reports();
            (void)registry.status("g", "x");
        }
    });
    std::thread writer([&] {
        for (int i = 0; i < 2000 && !stop; ++i) {
            (void)registry.add_report("g", "x", "r");
            (void)registry.set_status("g", "x", i % 3 - 1);
        }
    });
    for (int i = 0; i < 300; ++i) {
        CHECK(registry.add_identifier("g", srmi::core::IdentifierSpec{"x", 1, std::string("d"), 5})
                  .ok());
        CHECK(registry.remove_identifier("g", "X").ok());
    }
    stop = true;
    reader.join();
    writer.join();
    CHECK(registry.list_identifiers("g")->identifiers == std::vector<std::string>{"main"});
    CHECK(registry.store_bytes() == 0);  // every removed identifier took its bytes along
}

TEST_CASE("public state and restore round-trip") {
    srmi::core::Registry registry([] { return std::int64_t{42}; });
    registry.add_group("core", srmi::core::Visibility::kInternal);
    registry.add_group("pub", srmi::core::Visibility::kPublic);
    registry.add_identifier("pub", srmi::core::IdentifierSpec{"extra", -3, std::string("x"), 2});
    registry.add_report("pub", "extra", "one");
    auto state = registry.public_state();
    REQUIRE(state.size() == 1);
    CHECK(state[0].name == "pub");
    REQUIRE(state[0].identifiers.size() == 2);
    CHECK(state[0].identifiers[1].reports == std::vector<srmi::core::Report>{{42, "one"}});

    srmi::core::Registry fresh;
    fresh.add_group("PUB", srmi::core::Visibility::kPublic);
    CHECK(fresh.restore(state[0]).ok());
    CHECK(fresh.list_identifiers("pub")->identifiers == std::vector<std::string>{"main", "extra"});
    CHECK(fresh.status("pub", "extra")->details == std::optional<std::string>("x"));
    CHECK(fresh.list_reports("pub", "extra")->front().timestamp == 42);
    CHECK(fresh.store_bytes() == 4);  // "x" + "one"
    // A shared store restores internal groups too (the cluster's members).
    fresh.add_group("int", srmi::core::Visibility::kInternal);
    CHECK(fresh.restore(srmi::core::PersistedGroup{"int", state[0].identifiers}).ok());
    CHECK(fresh.list_identifiers("int")->identifiers == std::vector<std::string>{"main", "extra"});
}
