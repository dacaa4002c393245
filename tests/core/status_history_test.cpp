// Status history: what each identifier keeps, what sr_status_history and
// availability read from it, in the registry and in the cluster's apply path.
#include "core/status_history.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/registry.h"

using namespace srmi::core;

namespace {

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;

StatusTransition change(std::int64_t at, std::optional<int> from, int to) {
    return StatusTransition{at, from, to, std::nullopt, {}};
}

/// A registry whose history clock the test moves.
struct Clocked {
    std::int64_t now = 100 * kDay;
    Registry registry;
    Clocked() {
        registry.set_millis_clock([this] { return now; });
    }
};

IdentifierSpec spec(std::string name, int status = 1) {
    IdentifierSpec out;
    out.name = std::move(name);
    out.status = status;
    return out;
}

std::vector<int> statuses(const std::vector<HistoryEntry>& entries) {
    std::vector<int> out;
    for (const auto& e : entries) out.push_back(e.change.to);
    return out;
}

}  // namespace

TEST_CASE("history keeps at most max_changes, oldest dropped first") {
    StatusHistory history;
    const HistoryLimits limits{3, std::chrono::hours(24 * 365)};
    for (int i = 0; i < 5; ++i) history.record(change(1000 + i, i, i + 1), limits);
    REQUIRE(history.size() == 3);
    CHECK(history.front().to == 3);
    CHECK(history.back().to == 5);
}

TEST_CASE("history drops changes older than max_age but the one before the window") {
    StatusHistory history;
    const HistoryLimits limits{100, std::chrono::hours(1)};
    history.record(change(0, std::nullopt, 1), limits);
    history.record(change(10 * 60'000, 1, -1), limits);
    history.record(change(20 * 60'000, -1, 1), limits);
    // Two hours later: the change at 20 min is older than an hour, but it is
    // the status when the kept hour begins, so it stays; the others go.
    history.record(change(2 * kHour, 1, -2), limits);
    REQUIRE(history.size() == 2);
    CHECK(history[0].at_ms == 20 * 60'000);
    CHECK(history[1].to == -2);
}

TEST_CASE("history with max_changes 0 keeps nothing") {
    StatusHistory history;
    history.record(change(1, std::nullopt, 1), HistoryLimits{0, std::chrono::hours(1)});
    CHECK(history.empty());
}

TEST_CASE("a change dated before the newest is moved up to it") {
    StatusHistory history;
    history.record(change(5000, std::nullopt, 1), {});
    history.record(change(4000, 1, -1), {});
    CHECK(history.back().at_ms == 5000);
}

TEST_CASE("between selects by time, limit keeps the newest") {
    StatusHistory history;
    for (int i = 0; i < 10; ++i) history.record(change(i * 1000, i, i + 1), {});
    CHECK(history.between(2000, 5000, std::nullopt).size() == 4);
    auto newest = history.between(0, 100000, 2);
    REQUIRE(newest.size() == 2);
    CHECK(newest[0].to == 9);
    CHECK(newest[1].to == 10);
    CHECK(history.between(20000, 30000, std::nullopt).empty());
}

TEST_CASE("availability counts time before the first change as unknown") {
    const std::int64_t now = 10 * kDay;
    // Appeared 30 minutes ago ready, not ready for the last 6 minutes.
    const std::vector<std::vector<ReadinessPoint>> one{
        {{now - 30 * 60'000, true}, {now - 6 * 60'000, false}}};
    const auto a = availability(one, now);
    CHECK(a[0].ready_ms == 24 * 60'000);
    CHECK(a[0].not_ready_ms == 6 * 60'000);
    CHECK(a[0].unknown_ms == 30 * 60'000);
    CHECK(a[0].ratio().value() == doctest::Approx(0.8));
    CHECK(a[1].unknown_ms == kDay - 30 * 60'000);
    CHECK(a[2].ratio().value() == doctest::Approx(0.8));
}

TEST_CASE("availability of nothing known is no ratio") {
    const auto a = availability({{}}, 10 * kDay);
    CHECK_FALSE(a[0].ratio().has_value());
    CHECK(a[0].unknown_ms == kHour);
    CHECK_FALSE(availability({}, 10 * kDay)[2].ratio().has_value());
}

TEST_CASE("availability uses the change before the window for its start") {
    const std::int64_t now = 30 * kDay;
    // Not ready since 10 days ago, ready for the last 12 hours.
    const std::vector<std::vector<ReadinessPoint>> one{
        {{now - 10 * kDay, false}, {now - 12 * kHour, true}}};
    const auto a = availability(one, now);
    CHECK(a[0].ratio().value() == doctest::Approx(1.0));
    CHECK(a[1].ratio().value() == doctest::Approx(0.5));
    CHECK(a[2].unknown_ms == 0);
    CHECK(a[2].ready_ms == 12 * kHour);
}

TEST_CASE("a group is not ready while any member is, unknown while any is unknown") {
    const std::int64_t now = 10 * kDay;
    const std::vector<std::vector<ReadinessPoint>> members{
        {{now - 40 * 60'000, true}},                                  // ready for 40 min
        {{now - 20 * 60'000, true}, {now - 10 * 60'000, false}},      // known for 20 min
    };
    const auto a = availability(members, now);
    CHECK(a[0].unknown_ms == 40 * 60'000);  // before the second member was known
    CHECK(a[0].ready_ms == 10 * 60'000);
    CHECK(a[0].not_ready_ms == 10 * 60'000);
}

TEST_CASE("the registry records appearances and changes, never an unchanged status") {
    Clocked c;
    auto handle = c.registry.add_group("db", Visibility::kPublic);
    c.now += 1000;
    REQUIRE(c.registry.set_status("db", "main", 1, std::string("same")));  // unchanged status
    c.now += 1000;
    REQUIRE(c.registry.set_status("db", "main", -3, std::string("down")));
    c.now += 1000;
    REQUIRE(handle.set_status("main", 0));  // stored as 1
    const auto history = c.registry.status_history("db", "MAIN");
    REQUIRE(history);
    REQUIRE(history->size() == 3);
    CHECK_FALSE((*history)[0].change.from.has_value());
    CHECK((*history)[0].change.at_ms == 100 * kDay);
    CHECK((*history)[1].change == StatusTransition{100 * kDay + 2000, 1, -3, "down", {}});
    CHECK((*history)[2].change.to == 1);
    CHECK(c.registry.status_history("nope", "main").error() == Errc::group_not_found);
    CHECK(c.registry.status_history("db", "nope").error() == Errc::identifier_not_found);
}

TEST_CASE("all merges the group's identifiers in time order, limit keeps the newest") {
    Clocked c;
    c.registry.add_group("db", Visibility::kPublic, {spec("a"), spec("b")});
    for (int i = 0; i < 4; ++i) {
        c.now += 1000;
        REQUIRE(c.registry.set_status("db", i % 2 == 0 ? "b" : "a", -(i + 1)));
    }
    auto all = c.registry.status_history("db", "all");
    REQUIRE(all);
    CHECK(all->size() == 6);
    CHECK(statuses(*all) == std::vector<int>{1, 1, -1, -2, -3, -4});
    CHECK((*all)[2].identifier == "b");
    HistoryQuery query;
    query.limit = 2;
    CHECK(statuses(*c.registry.status_history("db", "all", query)) == std::vector<int>{-3, -4});
}

TEST_CASE("a removed identifier takes its history; added again, it starts afresh") {
    Clocked c;
    c.registry.add_group("db", Visibility::kPublic, {spec("a"), spec("b")});
    REQUIRE(c.registry.set_status("db", "b", -1));
    REQUIRE(c.registry.remove_identifier("db", "b"));
    REQUIRE(c.registry.add_identifier("db", spec("b", 2)));
    const auto history = c.registry.status_history("db", "b");
    REQUIRE(history->size() == 1);
    CHECK(history->front().change.to == 2);
}

TEST_CASE("availability of an identifier and of its group from the registry") {
    Clocked c;
    c.registry.add_group("db", Visibility::kPublic, {spec("a"), spec("b")});
    c.now += 30 * 60'000;
    REQUIRE(c.registry.set_status("db", "b", -1));
    c.now += 30 * 60'000;
    const auto b = c.registry.availability("db", "b");
    REQUIRE(b);
    CHECK(b->name == "b");
    CHECK(b->windows[0].ratio().value() == doctest::Approx(0.5));
    const auto group = c.registry.availability("db");
    REQUIRE(group);
    REQUIRE(group->size() == 3);
    CHECK((*group)[0].name == "all");
    CHECK((*group)[0].windows[0].ratio().value() == doctest::Approx(0.5));
    CHECK((*group)[1].windows[0].ratio().value() == doctest::Approx(1.0));
    CHECK(c.registry.availability("db", "ALL")->windows[0].not_ready_ms == 30 * 60'000);
    const auto every = c.registry.availability();
    CHECK(every.size() == 1);
    CHECK(every[0].members.size() == 3);
}

TEST_CASE("restore takes the persisted history, or starts one at the restore") {
    Clocked c;
    c.registry.add_group("db", Visibility::kPublic);
    PersistedGroup persisted{"db", {}};
    PersistedIdentifier kept{"main", -1, "down", 10, {}, 0, 0, {}};
    kept.history = {change(c.now - 2 * kHour, std::nullopt, 1), change(c.now - kHour, 1, -1)};
    PersistedIdentifier fresh{"new", 1, std::nullopt, 10, {}, 0, 0, {}};
    persisted.identifiers = {kept, fresh};
    REQUIRE(c.registry.restore(persisted));
    CHECK(c.registry.status_history("db", "main")->size() == 2);
    const auto started = c.registry.status_history("db", "new");
    REQUIRE(started->size() == 1);
    CHECK(started->front().change.at_ms == c.now);
    const auto state = c.registry.public_state();
    CHECK(state[0].identifiers[0].history == kept.history);
}

TEST_CASE("changes applied from an ordering journal keep their time and node") {
    Clocked c;
    c.registry.add_group("db", Visibility::kPublic);
    StateChange set;
    set.kind = StateChange::Kind::kSetStatus;
    set.group = "db";
    set.identifier = "main";
    set.status = -5;
    set.at_ms = 42'000;
    set.node = "b";
    REQUIRE(c.registry.apply(set));
    const auto history = c.registry.status_history("db", "main");
    REQUIRE(history->size() == 2);
    // Dated before the appearance (another instance's clock): moved up to it.
    CHECK(history->back().change.at_ms == c.now);
    CHECK(history->back().change.node == "b");
    StateChange group;
    group.kind = StateChange::Kind::kAddGroup;
    group.group = "web";
    group.identifiers.push_back(PersistedIdentifier{"main", 1, std::nullopt, 10, {}, 0, 0, {}});
    group.at_ms = c.now - 5;
    group.node = "a";
    REQUIRE(c.registry.apply(group));
    const auto web = c.registry.status_history("web", "main");
    CHECK(web->front().change == StatusTransition{c.now - 5, std::nullopt, 1, std::nullopt, "a"});
}

TEST_CASE("the ring keeps time order across wrap-arounds, growth and restores") {
    StatusHistory history;
    const HistoryLimits five{5, std::chrono::hours(24)};
    // 1..3 grow the ring; 4..23 wrap it around four times at its limit.
    for (int i = 1; i <= 23; ++i) history.record(change(i * 1000, i - 1, i), five);
    REQUIRE(history.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(history[i].to == static_cast<int>(19 + i));
        CHECK(history[i].at_ms == static_cast<std::int64_t>(19 + i) * 1000);
    }
    CHECK(history.front().to == 19);
    CHECK(history.back().to == 23);
    // Ranges by index over the wrapped ring.
    CHECK(history.between(20'000, 22'000, std::nullopt).size() == 3);
    CHECK(history.between(20'000, 22'000, 1).front().to == 22);
    CHECK(history.between(0, 18'999, std::nullopt).empty());
    CHECK(history.between(23'001, 30'000, std::nullopt).empty());
    CHECK(history.all().size() == 5);

    // Age: a change a day later keeps only the newest before the cutoff.
    history.record(change(23'000 + 24 * kHour + 1, 23, 24), five);
    REQUIRE(history.size() == 2);
    CHECK(history.front().to == 23);
    CHECK(history.back().to == 24);

    // A restore of more than the limit keeps the newest, in order.
    std::vector<StatusTransition> restored;
    for (int i = 1; i <= 8; ++i) restored.push_back(change(i * 1000, i - 1, i));
    history.assign(restored, five, 8000);
    REQUIRE(history.size() == 5);
    CHECK(history.front().to == 4);
    CHECK(history.back().to == 8);
    history.record(change(9000, 8, 9), five);
    CHECK(history.front().to == 5);
    CHECK(history.back().to == 9);
    // Off: nothing kept, whatever comes.
    history.assign(restored, HistoryLimits{0, std::chrono::hours(1)}, 8000);
    CHECK(history.empty());
}

TEST_CASE("the ring grows by half when full, not on every change") {
    StatusHistory history;
    const HistoryLimits many{100'000, std::chrono::hours(24)};
    std::size_t growths = 0;
    std::size_t capacity = history.capacity();
    for (int i = 1; i <= 20'000; ++i) {
        history.record(change(i, i - 1, i), many);
        if (history.capacity() != capacity) {
            capacity = history.capacity();
            ++growths;
        }
    }
    CHECK(history.size() == 20'000);
    CHECK(history.capacity() <= 30'000);
    // 1, 2, 3, 4, 6, 9, ... 20 000: about log1.5(20 000) growths, not 20 000.
    CHECK(growths < 30);
}

TEST_CASE("an appearance without details or node is held in place until the first change") {
    StatusHistory history;
    const HistoryLimits limits{3, std::chrono::hours(24)};
    history.record(change(1000, std::nullopt, 1), limits);
    CHECK(history.capacity() == 0);  // nothing allocated for it
    REQUIRE(history.size() == 1);
    CHECK(history[0] == change(1000, std::nullopt, 1));
    CHECK(history.all() == std::vector{change(1000, std::nullopt, 1)});
    CHECK(history.between(0, 999, std::nullopt).empty());
    CHECK(history.first_after(1000) == 1);
    CHECK(readiness_points(history, 2000).size() == 1);

    // The first change puts it in the ring, before itself; limits apply as ever.
    history.record(change(500, 1, -1), limits);  // dated before it: moved up
    REQUIRE(history.size() == 2);
    CHECK(history[0] == change(1000, std::nullopt, 1));
    CHECK(history[1] == change(1000, 1, -1));
    history.record(change(3000, -1, 2), limits);
    history.record(change(4000, 2, 3), limits);
    REQUIRE(history.size() == 3);
    CHECK(history.front().to == -1);

    // With details (or a node) it is an entry of the ring at once; one change kept only.
    StatusHistory detailed;
    auto appeared = change(1000, std::nullopt, 1);
    appeared.details = "booting";
    detailed.record(appeared, limits);
    CHECK(detailed.capacity() >= 1);
    CHECK(detailed[0] == appeared);
    StatusHistory one;
    one.record(change(1000, std::nullopt, 1), HistoryLimits{1, std::chrono::hours(24)});
    one.record(change(2000, 1, -1), HistoryLimits{1, std::chrono::hours(24)});
    REQUIRE(one.size() == 1);
    CHECK(one[0] == change(2000, 1, -1));
}
