// StatusHistory and availability: a sweep over the members' changes in time
// order, adding each stretch between two changes to the windows it overlaps.
#include "core/status_history.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace srmi::core {

void StatusHistory::record(StatusTransition change, const HistoryLimits& limits) {
    if (limits.max_changes == 0) return;  // history is off
    if (empty() && !change.from && !change.details && change.node.empty()) {
        held_ = true;
        held_at_ms_ = change.at_ms;
        held_to_ = change.to;
        return;
    }
    if (!empty()) change.at_ms = std::max(change.at_ms, at_ms(size() - 1));
    release_held(limits.max_changes);
    // Room first, so the ring never grows beyond max_changes.
    while (size_ >= limits.max_changes) pop_front();
    const auto now = change.at_ms;
    push_back(std::move(change), limits.max_changes);
    trim(limits, now);
}

void StatusHistory::assign(std::vector<StatusTransition> changes, const HistoryLimits& limits,
                           std::int64_t now_ms) {
    slots_.clear();
    head_ = size_ = 0;
    held_ = false;
    if (limits.max_changes == 0) return;
    const auto keep = std::min(changes.size(), limits.max_changes);
    slots_.reserve(keep);
    for (auto i = changes.size() - keep; i < changes.size(); ++i) {
        auto& change = changes[i];
        if (!slots_.empty() && change.at_ms < slots_.back().at_ms) {
            change.at_ms = slots_.back().at_ms;
        }
        slots_.push_back(std::move(change));
    }
    size_ = slots_.size();
    trim(limits, now_ms);
}

void StatusHistory::push_back(StatusTransition change, std::size_t max_slots) {
    if (size_ == slots_.size()) {
        // Half again as many slots (not twice): a long history wastes at most
        // a third of its slots; never more than the limit keeps.
        const auto grown = std::min(std::max(size_ + size_ / 2, size_ + 1), max_slots);
        if (head_ == 0) {
            // Not wrapped (every identifier's first entries): append in place,
            // reserving only when the vector is full (reserving on every append
            // moved the whole history each time: quadratic).
            if (slots_.size() == slots_.capacity()) slots_.reserve(grown);
            slots_.push_back(std::move(change));
            ++size_;
            return;
        }
        std::vector<StatusTransition> bigger;
        bigger.reserve(grown);
        for (std::size_t i = 0; i < size_; ++i) bigger.push_back(std::move(slots_[slot(i)]));
        bigger.resize(grown);
        slots_ = std::move(bigger);
        head_ = 0;
    }
    slots_[slot(size_)] = std::move(change);
    ++size_;
}

void StatusHistory::release_held(std::size_t max_slots) {
    if (!held_) return;
    held_ = false;
    push_back(held_entry(), max_slots);
}

void StatusHistory::pop_front() {
    slots_[head_] = StatusTransition{};  // its details and node freed now
    head_ = head_ + 1 == slots_.size() ? 0 : head_ + 1;
    --size_;
}

void StatusHistory::trim(const HistoryLimits& limits, std::int64_t now_ms) {
    while (size_ > limits.max_changes) pop_front();
    const auto cutoff =
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_age).count();
    // The newest change at or before the cutoff stays: it is the status then.
    while (size_ >= 2 && at_ms(1) <= cutoff) pop_front();
}

std::size_t StatusHistory::first_after(std::int64_t at_ms) const {
    // Binary search over indices: the ring has no iterators of its own.
    std::size_t low = 0, high = size();
    while (low < high) {
        const auto mid = low + (high - low) / 2;
        if (this->at_ms(mid) <= at_ms) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    return low;
}

std::size_t StatusHistory::first_at_or_after(std::int64_t at_ms) const {
    return at_ms == std::numeric_limits<std::int64_t>::min() ? 0 : first_after(at_ms - 1);
}

std::vector<StatusTransition> StatusHistory::between(std::int64_t since_ms, std::int64_t until_ms,
                                                     std::optional<std::size_t> limit) const {
    auto first = first_at_or_after(since_ms);
    const auto last = std::max(first, first_after(until_ms));
    if (limit && last - first > *limit) first = last - *limit;
    std::vector<StatusTransition> out;
    out.reserve(last - first);
    for (auto i = first; i < last; ++i) out.push_back((*this)[i]);
    return out;
}

std::vector<StatusTransition> StatusHistory::all() const {
    std::vector<StatusTransition> out;
    out.reserve(size());
    for (std::size_t i = 0; i < size(); ++i) out.push_back((*this)[i]);
    return out;
}

std::vector<ReadinessPoint> readiness_points(const StatusHistory& history, std::int64_t now_ms) {
    const auto longest = std::chrono::duration_cast<std::chrono::milliseconds>(
                             kAvailabilityWindows[kAvailabilityWindowCount - 1].length)
                             .count();
    // The first change after the window opened, then one back: the status then.
    auto first = history.first_after(now_ms - longest);
    if (first > 0) --first;
    std::vector<ReadinessPoint> points;
    points.reserve(history.size() - first);
    for (auto i = first; i < history.size(); ++i) {
        points.push_back({history.at_ms(i), history.to(i) > 0});
    }
    return points;
}

Availability availability(const std::vector<std::vector<ReadinessPoint>>& members,
                          std::int64_t now_ms) {
    struct Step {
        std::int64_t at_ms;
        std::size_t member;
        bool ready;
    };
    std::vector<Step> steps;
    for (std::size_t m = 0; m < members.size(); ++m) {
        for (const auto& p : members[m]) steps.push_back({p.at_ms, m, p.ready});
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.at_ms < b.at_ms; });

    std::array<std::int64_t, kAvailabilityWindowCount> opens{};
    for (std::size_t w = 0; w < kAvailabilityWindowCount; ++w) {
        opens[w] = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(
                                kAvailabilityWindows[w].length)
                                .count();
    }
    Availability out{};
    // Adds the stretch [from, to) spent in `state` to every window it overlaps.
    const auto add = [&](std::int64_t from, std::int64_t to, Readiness state) {
        for (std::size_t w = 0; w < kAvailabilityWindowCount; ++w) {
            const auto length = std::min(to, now_ms) - std::max(from, opens[w]);
            if (length <= 0) continue;
            auto& slot = state == Readiness::kReady      ? out[w].ready_ms
                         : state == Readiness::kNotReady ? out[w].not_ready_ms
                                                         : out[w].unknown_ms;
            slot += length;
        }
    };

    std::vector<Readiness> member_state(members.size(), Readiness::kUnknown);
    std::size_t unknown = members.size();
    std::size_t not_ready = 0;
    const auto group_state = [&] {
        if (not_ready > 0) return Readiness::kNotReady;
        if (unknown > 0 || members.empty()) return Readiness::kUnknown;
        return Readiness::kReady;
    };
    std::int64_t from = opens[kAvailabilityWindowCount - 1];
    for (std::size_t i = 0; i < steps.size();) {
        const auto at = steps[i].at_ms;
        add(from, at, group_state());
        for (; i < steps.size() && steps[i].at_ms == at; ++i) {
            auto& state = member_state[steps[i].member];
            if (state == Readiness::kUnknown) --unknown;
            if (state == Readiness::kNotReady) --not_ready;
            state = steps[i].ready ? Readiness::kReady : Readiness::kNotReady;
            if (state == Readiness::kNotReady) ++not_ready;
        }
        from = std::max(from, at);
    }
    add(from, now_ms, group_state());
    return out;
}

}  // namespace srmi::core
