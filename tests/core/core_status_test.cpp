// CoreStatus: the life cycle of the server as the internal `core` group shows it.
#include "core/core_status.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "core/registry.h"

using namespace srmi::core;

namespace {

struct CoreFixture {
    std::int64_t now = 1'000;
    Registry registry{[this] { return now; }};
    CoreStatus core{registry};

    IdentifierStatus status() const {
        auto s = registry.status("core");
        REQUIRE(s.ok());
        return *s;
    }
    std::vector<Report> reports() const {
        auto r = registry.list_reports("core", "main");
        REQUIRE(r.ok());
        return *r;
    }
};

}  // namespace

TEST_CASE_FIXTURE(CoreFixture, "core starts at -100 with no details and no reports") {
    CHECK(status().name == "main");
    CHECK(status().status == kStateNone);
    CHECK(status().status == -100);
    CHECK_FALSE(status().details.has_value());
    CHECK_FALSE(status().ready());
    CHECK(reports().empty());

    auto ids = registry.list_identifiers();
    REQUIRE(ids.size() == 1);
    CHECK(ids[0].name == "core");
    CHECK(ids[0].identifiers == std::vector<std::string>{"main"});
}

TEST_CASE_FIXTURE(CoreFixture, "core moves through the life cycle of the spec") {
    now = 2'000;
    core.initializing();
    CHECK(status().status == -1);
    CHECK(status().details == "initializing");
    CHECK(reports() == std::vector<Report>{{2'000, "initializing"}});

    now = 2'005;
    core.running();
    CHECK(status().status == 1);
    CHECK(status().ready());
    CHECK(status().details == "running");
    CHECK(reports() == std::vector<Report>{{2'000, "initializing"},
                                           {2'005, "initialization completed, ready now"}});

    now = 2'010;
    core.terminating();
    CHECK(status().status == -2);
    CHECK_FALSE(status().ready());
    CHECK(status().details == "shutting down");
    CHECK(reports().size() == 2);  // terminating adds no report
}

TEST_CASE_FIXTURE(CoreFixture, "core announces each state change") {
    std::vector<std::pair<int, int>> seen;
    std::vector<std::optional<std::string>> details;
    registry.on_status_change([&](const StatusChange& c) {
        CHECK(c.group == "core");
        CHECK(c.identifier == "main");
        seen.emplace_back(c.old_status, c.new_status);
        details.push_back(c.details);
    });
    core.initializing();
    core.running();
    core.terminating();
    CHECK(seen == std::vector<std::pair<int, int>>{{-100, -1}, {-1, 1}, {1, -2}});
    CHECK(details == std::vector<std::optional<std::string>>{"initializing", "running", "shutting down"});
}

TEST_CASE_FIXTURE(CoreFixture, "core is internal: refused from outside") {
    core.running();
    auto set = registry.set_status("core", "main", -5, "hijack");
    REQUIRE_FALSE(set.ok());
    CHECK(set.error() == Errc::forbidden);
    auto add = registry.add_report("Core", "main", "hijack");
    REQUIRE_FALSE(add.ok());
    CHECK(add.error() == Errc::forbidden);

    CHECK(status().status == 1);
    CHECK(status().details == "running");
    CHECK(reports().size() == 1);
    CHECK_THROWS_AS(registry.add_group("CORE", Visibility::kPublic), std::invalid_argument);
}

TEST_CASE_FIXTURE(CoreFixture, "core keeps its last 10 reports") {
    CHECK(kCoreMaxReports == 10);
    for (int i = 0; i < 6; ++i) {
        now = 3'000 + 2 * i;
        core.initializing();
        now = 3'000 + 2 * i + 1;
        core.running();
    }
    auto r = reports();
    REQUIRE(r.size() == 10);
    // 12 reports were added (timestamps 3000..3011); the first two were dropped.
    for (std::size_t k = 0; k < r.size(); ++k) {
        CAPTURE(k);
        CHECK(r[k].timestamp == 3'002 + static_cast<std::int64_t>(k));
        CHECK(r[k].log == (k % 2 == 0 ? "initializing" : "initialization completed, ready now"));
    }
}
