// MemberIndex: a group's identifiers found by name, case-insensitively, both
// while it scans its hashes and once it has built a table.
#include "core/detail/member_index.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

struct Member {
    std::string name;
};

using Index = srmi::core::detail::MemberIndex<Member>;

std::shared_ptr<Member> named(std::string name) {
    return std::make_shared<Member>(Member{std::move(name)});
}

std::vector<std::string> names_of(const Index& index) {
    std::vector<std::string> out;
    for (const auto& m : index.members()) out.push_back(m->name);
    return out;
}

// An index of `count` members named m0, m1 ...
Index numbered(std::size_t count) {
    Index index;
    for (std::size_t i = 0; i < count; ++i) REQUIRE(index.add(named("m" + std::to_string(i))));
    return index;
}

}  // namespace

TEST_CASE("members are found whatever the case, and kept in the order added") {
    // Below, at and past the size where the index stops scanning.
    for (std::size_t count :
         {std::size_t{1}, Index::kScanLimit, Index::kScanLimit + 1, std::size_t{200}}) {
        CAPTURE(count);
        Index index = numbered(count);
        CHECK(index.size() == count);
        for (std::size_t i = 0; i < count; ++i) {
            const auto name = "m" + std::to_string(i);
            REQUIRE(index.find(name) != nullptr);
            CHECK(index.find(name)->name == name);
            CHECK(index.find("M" + std::to_string(i)) == index.find(name));
            CHECK(index.members()[i]->name == name);
        }
        CHECK(index.find("m" + std::to_string(count)) == nullptr);
        CHECK(index.find("") == nullptr);
        CHECK_FALSE(index.contains("nobody"));
    }
}

TEST_CASE("a name already taken, in any case, is refused and nothing is kept") {
    for (std::size_t count : {std::size_t{3}, Index::kScanLimit + 5}) {
        CAPTURE(count);
        Index index = numbered(count);
        const auto first = index.find("m0");
        CHECK_FALSE(index.add(named("M0")));
        CHECK(index.size() == count);
        CHECK(index.find("m0") == first);
        CHECK(index.find("M0")->name == "m0");
    }
}

TEST_CASE("removed members are no longer found; the others keep their order") {
    for (std::size_t count : {std::size_t{5}, Index::kScanLimit, Index::kScanLimit + 3}) {
        CAPTURE(count);
        Index index = numbered(count);
        const auto gone = index.remove("M1");
        REQUIRE(gone != nullptr);
        CHECK(gone->name == "m1");
        CHECK(index.remove("m1") == nullptr);
        CHECK(index.find("m1") == nullptr);
        CHECK(index.size() == count - 1);
        auto expected = names_of(numbered(count));
        expected.erase(expected.begin() + 1);
        CHECK(names_of(index) == expected);
        for (const auto& name : expected) CHECK(index.find(name)->name == name);

        // The name is free again, and the newcomer goes last.
        CHECK(index.add(named("M1")));
        CHECK(index.find("m1")->name == "M1");
        CHECK(index.members().back()->name == "M1");
    }
}

TEST_CASE("an index that grows past the scan limit by adds keeps finding all") {
    Index index = numbered(Index::kScanLimit);
    for (std::size_t i = Index::kScanLimit; i < 3 * Index::kScanLimit; ++i) {
        REQUIRE(index.add(named("m" + std::to_string(i))));
        CHECK_FALSE(index.add(named("M" + std::to_string(i / 2))));
    }
    for (std::size_t i = 0; i < 3 * Index::kScanLimit; ++i)
        CHECK(index.contains("M" + std::to_string(i)));
}
