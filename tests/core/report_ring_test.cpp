// ReportRing: the fixed-capacity log of one identifier.
#include "core/report_ring.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using srmi::core::Report;
using srmi::core::ReportRing;

namespace {

Report numbered(int n) { return Report{static_cast<std::int64_t>(1000 + n), "report " + std::to_string(n)}; }

// The reports numbered first..last (inclusive), oldest first.
std::vector<Report> numbered_range(int first, int last) {
    std::vector<Report> out;
    for (int n = first; n <= last; ++n) out.push_back(numbered(n));
    return out;
}

void push_numbered(ReportRing& ring, int first, int last) {
    for (int n = first; n <= last; ++n) ring.push(numbered(n));
}

}  // namespace

TEST_CASE("ring buffer keeps reports oldest first until it is full") {
    ReportRing ring(4);
    CHECK(ring.capacity() == 4);
    CHECK(ring.size() == 0);
    CHECK(ring.snapshot().empty());

    push_numbered(ring, 1, 3);
    CHECK(ring.size() == 3);
    CHECK(ring.snapshot() == numbered_range(1, 3));

    push_numbered(ring, 4, 4);
    CHECK(ring.size() == 4);
    CHECK(ring.snapshot() == numbered_range(1, 4));
}

TEST_CASE("ring buffer drops the oldest report") {
    ReportRing ring(3);

    SUBCASE("one past capacity drops exactly the first") {
        push_numbered(ring, 1, 4);
        CHECK(ring.size() == 3);
        CHECK(ring.snapshot() == numbered_range(2, 4));
    }
    SUBCASE("every wrap position keeps the newest, oldest first") {
        for (int n = 1; n <= 10; ++n) {
            ring.push(numbered(n));
            CAPTURE(n);
            CHECK(ring.snapshot() == numbered_range(n < 3 ? 1 : n - 2, n));
        }
    }
    SUBCASE("after many wraps") {
        push_numbered(ring, 1, 1000);
        CHECK(ring.size() == 3);
        CHECK(ring.capacity() == 3);
        CHECK(ring.snapshot() == numbered_range(998, 1000));
    }
}

TEST_CASE("ring buffer of capacity 1 holds only the newest report") {
    ReportRing ring(1);
    ring.push(numbered(1));
    CHECK(ring.snapshot() == numbered_range(1, 1));
    ring.push(numbered(2));
    CHECK(ring.size() == 1);
    CHECK(ring.snapshot() == numbered_range(2, 2));
    push_numbered(ring, 3, 57);
    CHECK(ring.snapshot() == numbered_range(57, 57));
}

TEST_CASE("ring buffer snapshot is an independent copy") {
    ReportRing ring(2);
    push_numbered(ring, 1, 2);
    auto before = ring.snapshot();
    before.front().log = "changed";
    CHECK(ring.snapshot() == numbered_range(1, 2));

    ring.push(numbered(3));
    CHECK(before.size() == 2);
    CHECK(before.back() == numbered(2));
    CHECK(ring.snapshot() == numbered_range(2, 3));
}

TEST_CASE("ring buffer for_each visits in the same order as snapshot") {
    ReportRing ring(5);
    push_numbered(ring, 1, 12);
    std::vector<Report> visited;
    ring.for_each([&](const Report& r) { visited.push_back(r); });
    CHECK(visited == ring.snapshot());
    CHECK(visited == numbered_range(8, 12));
}
