// MemberIndex: a group's identifiers in registration order, found by name
// case-insensitively. Most groups hold a handful of identifiers: those are
// found by scanning a packed array of their names' hashes (16 to a cache
// line), with no node allocated per identifier; a hash table is built only
// for a group past kScanLimit members.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/detail/folded_map.h"

namespace srmi::core::detail {

template <class Member>
class MemberIndex {
  public:
    using Ptr = std::shared_ptr<Member>;
    static constexpr std::size_t kScanLimit = 32;

    /// The members in registration order.
    const std::vector<Ptr>& members() const noexcept { return members_; }
    std::size_t size() const noexcept { return members_.size(); }

    void reserve(std::size_t count) {
        members_.reserve(count);
        hashes_.reserve(count);
    }

    /// The member whose name equals `name` case-insensitively, or nullptr.
    Ptr find(std::string_view name) const {
        if (!by_name_.empty()) {
            auto it = by_name_.find(name);
            return it == by_name_.end() ? nullptr : it->second;
        }
        const auto at = scan(name, hash(name));
        return at == kNone ? nullptr : members_[at];
    }

    bool contains(std::string_view name) const { return find(name) != nullptr; }

    /// Appends `member`, unless its name is taken: then returns false and
    /// keeps nothing.
    bool add(const Ptr& member) {
        const std::string_view name = member->name;
        const auto h = hash(name);
        if (by_name_.empty() ? scan(name, h) != kNone : by_name_.count(name) != 0) return false;
        if (by_name_.empty() && members_.size() == kScanLimit) build_table();
        if (!by_name_.empty()) by_name_.emplace(name, member);
        members_.push_back(member);
        hashes_.push_back(h);
        return true;
    }

    /// Takes out the member named `name` and returns it, or nullptr.
    Ptr remove(std::string_view name) {
        std::size_t at = kNone;
        if (by_name_.empty()) {
            at = scan(name, hash(name));
        } else if (auto it = by_name_.find(name); it != by_name_.end()) {
            at = static_cast<std::size_t>(std::find(members_.begin(), members_.end(), it->second) -
                                          members_.begin());
            by_name_.erase(it);
        }
        if (at == kNone) return nullptr;
        Ptr gone = std::move(members_[at]);
        members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(at));
        hashes_.erase(hashes_.begin() + static_cast<std::ptrdiff_t>(at));
        return gone;
    }

  private:
    static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

    static std::uint32_t hash(std::string_view name) noexcept {
        return static_cast<std::uint32_t>(FoldedHash{}(name));
    }

    std::size_t scan(std::string_view name, std::uint32_t h) const noexcept {
        for (std::size_t i = 0; i < hashes_.size(); ++i) {
            if (hashes_[i] == h && equal_folded(members_[i]->name, name)) return i;
        }
        return kNone;
    }

    void build_table() {
        by_name_.reserve(members_.size() * 2);
        for (const auto& m : members_) by_name_.emplace(std::string_view(m->name), m);
    }

    std::vector<Ptr> members_;
    std::vector<std::uint32_t> hashes_;  // hashes_[i] is of members_[i]'s folded name
    // Past kScanLimit members only; keys view the members' own names.
    std::unordered_map<std::string_view, Ptr, FoldedHash, FoldedEqual> by_name_;
};

}  // namespace srmi::core::detail
