// Registry: leases (a status that expires unless set again) and writes through
// a journal that orders changes (proposed, then applied in the journal's order).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/state_journal.h"

using namespace srmi::core;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

namespace {

/// The order a shared store would give: every proposed change queued here,
/// applied when the test says, each numbered as the log numbers it.
class OrderingJournal final : public StateJournal {
public:
    std::uint64_t record(StateChange change) override {
        if (refusing) return 0;
        queued.push_back(std::move(change));
        return ++ticket;
    }
    void when_durable(std::uint64_t, std::function<void(bool)> done) override { done(true); }
    bool orders_changes() const noexcept override { return true; }

    /// Applies everything queued to each registry, in order, as every instance does.
    void deliver(std::vector<Registry*> registries) {
        auto changes = std::move(queued);
        queued.clear();
        for (auto& change : changes) {
            ++seq;  // an expiry names the lease it ends; any other change starts lease `seq`
            if (change.kind != StateChange::Kind::kExpireLease) change.lease = seq;
            for (auto* registry : registries) registry->apply(change);
        }
    }

    std::vector<StateChange> queued;
    std::uint64_t ticket = 0;
    std::uint64_t seq = 0;
    bool refusing = false;
};

struct Seen {
    int old_status;
    int new_status;
    std::optional<std::string> details;
    friend bool operator==(const Seen&, const Seen&) = default;
};

/// Two instances with group `gw`, writing through one ordering journal.
struct TwoInstances {
    Registry a;
    Registry b;
    OrderingJournal journal;

    TwoInstances() {
        for (auto* r : {&a, &b}) {
            r->add_group("gw", Visibility::kPublic);
            r->set_journal(&journal);
        }
    }
};

std::vector<Seen>& watch(Registry& registry, std::vector<Seen>& seen) {
    registry.on_status_change([&seen](const StatusChange& c) {
        seen.push_back({c.old_status, c.new_status, c.details});
    });
    return seen;
}

}  // namespace

TEST_CASE("a lease not renewed within its ttl turns the identifier -1 'expired', once") {
    Registry registry;
    registry.add_group("gw", Visibility::kPublic);
    std::vector<Seen> seen;
    watch(registry, seen);
    REQUIRE(registry.set_status("gw", "main", 3, "up", 5).ok());
    const auto start = Steady::now();
    CHECK(registry.expire_leases(start + seconds(4)) == 0);
    CHECK(registry.status("gw")->status == 3);
    CHECK(registry.expire_leases(start + seconds(6)) == 1);
    CHECK(registry.status("gw")->status == -1);
    CHECK(registry.status("gw")->details == "expired");
    CHECK(registry.expire_leases(start + seconds(60)) == 0);  // ended: nothing more
    CHECK(seen == std::vector<Seen>{{1, 3, "up"}, {3, -1, "expired"}});
}

TEST_CASE("a renewal moves the lease on; a write without ttl ends it") {
    Registry registry;
    registry.add_group("gw", Visibility::kPublic);
    const auto start = Steady::now();
    REQUIRE(registry.set_status("gw", "main", 2, std::nullopt, 2).ok());
    REQUIRE(registry.set_status("gw", "main", 2, std::nullopt, 100).ok());
    CHECK(registry.expire_leases(start + seconds(10)) == 0);
    CHECK(registry.status("gw")->status == 2);
    REQUIRE(registry.set_status("gw", "main", 4).ok());
    CHECK(registry.expire_leases(start + seconds(1000)) == 0);
    CHECK(registry.status("gw")->status == 4);
}

TEST_CASE("an identifier added with a ttl is leased; the group's expiry details are used") {
    Registry registry;
    registry.add_group("members", Visibility::kPublic);
    registry.set_expiry_details("members", "unreachable");
    IdentifierSpec spec{"n1", 1, "running", 0, 3};
    REQUIRE(registry.add_identifier("members", spec).ok());
    CHECK(registry.expire_leases(Steady::now() + seconds(4)) == 1);
    CHECK(registry.status("members", "n1")->details == "unreachable");
}

TEST_CASE("an instance that does not act keeps its leases and expires them once it does") {
    Registry registry;
    registry.add_group("gw", Visibility::kPublic);
    REQUIRE(registry.set_status("gw", "main", 2, std::nullopt, 1).ok());
    const auto later = Steady::now() + seconds(2);
    CHECK(registry.expire_leases(later, false) == 0);
    CHECK(registry.status("gw")->status == 2);
    CHECK(registry.expire_leases(later + seconds(2), true) == 1);
    CHECK(registry.status("gw")->status == -1);
}

TEST_CASE("with an ordering journal a write is only proposed, then applied in the order") {
    TwoInstances two;
    auto& [a, b, journal] = two;
    std::vector<Seen> seen_a;
    std::vector<Seen> seen_b;
    watch(a, seen_a);
    watch(b, seen_b);

    REQUIRE(a.set_status("gw", "main", 5, "a").ok());
    REQUIRE(b.set_status("gw", "main", -5, "b").ok());
    CHECK(a.status("gw")->status == 1);  // not applied yet
    CHECK(Registry::take_ticket() == 2);
    // The racing writes end the same everywhere: the last in the order wins.
    journal.deliver({&a, &b});
    CHECK(a.status("gw")->status == -5);
    CHECK(b.status("gw")->status == -5);
    CHECK(seen_a == std::vector<Seen>{{1, 5, "a"}, {5, -5, "b"}});
    CHECK(seen_b == seen_a);

    // Checked when proposed: what cannot apply is refused at once.
    CHECK(a.set_status("gw", "nobody", 1).error() == Errc::identifier_not_found);
    CHECK(a.remove_identifier("gw", "main").error() == Errc::last_identifier);
    journal.refusing = true;
    CHECK(a.set_status("gw", "main", 1).error() == Errc::store_unavailable);
}

TEST_CASE("ordered adds and removes race to the same end; an add of a known group is refused") {
    TwoInstances two;
    auto& [a, b, journal] = two;
    REQUIRE(a.add_identifier("gw", IdentifierSpec{"x", 2, std::nullopt, kPublicMaxReports, 0}).ok());
    REQUIRE(b.add_identifier("gw", IdentifierSpec{"X", 3, std::nullopt, kPublicMaxReports, 0}).ok());  // both saw none
    REQUIRE(a.add_report("gw", "main", "hello").ok());
    journal.deliver({&a, &b});
    for (auto* r : {&a, &b}) {
        CHECK(r->status("gw", "x")->status == 2);  // the first in the order won
        CHECK(r->list_identifiers("gw")->identifiers == std::vector<std::string>{"main", "x"});
        CHECK(r->list_reports("gw", "main")->at(0).log == "hello");
    }
    CHECK(a.list_reports("gw", "main")->at(0).timestamp ==
          b.list_reports("gw", "main")->at(0).timestamp);

    StateChange group;
    group.kind = StateChange::Kind::kAddGroup;
    group.group = "GW";
    group.identifiers.push_back(PersistedIdentifier{"main", 1, std::nullopt, 10, {}, 0, 0, {}});
    CHECK(a.apply(group).error() == Errc::already_exists);
    group.group = "db";
    CHECK(a.apply(group).ok());
    CHECK(a.status("db")->status == 1);
}

TEST_CASE("an ordered expiry applies only if no renewal came before it") {
    Registry a;
    a.add_group("gw", Visibility::kPublic);
    OrderingJournal journal;
    a.set_journal(&journal);
    REQUIRE(a.set_status("gw", "main", 2, std::nullopt, 1).ok());
    journal.deliver({&a});
    CHECK(a.expire_leases(Steady::now() + seconds(2)) == 1);  // proposed
    REQUIRE(a.set_status("gw", "main", 2, std::nullopt, 60).ok());  // renewed in the meantime
    std::swap(journal.queued[0], journal.queued[1]);           // ... and ordered first
    journal.deliver({&a});
    CHECK(a.status("gw")->status == 2);  // the stale expiry did nothing

    REQUIRE(a.set_status("gw", "main", 3, std::nullopt, 1).ok());
    journal.deliver({&a});
    CHECK(a.expire_leases(Steady::now() + seconds(2)) == 1);
    journal.deliver({&a});
    CHECK(a.status("gw")->status == -1);
    CHECK(a.status("gw")->details == "expired");
}
