// StatusHistory and availability: a sweep over the members' changes in time
// order, adding each stretch between two changes to the windows it overlaps.
#include "core/status_history.h"

#include <algorithm>
#include <utility>

namespace srmi::core {

void StatusHistory::record(StatusTransition change, const HistoryLimits& limits) {
    if (limits.max_changes == 0) return;  // history is off
    if (!changes_.empty() && change.at_ms < changes_.back().at_ms) {
        change.at_ms = changes_.back().at_ms;
    }
    const auto now = change.at_ms;
    changes_.push_back(std::move(change));
    trim(limits, now);
}

void StatusHistory::assign(std::vector<StatusTransition> changes, const HistoryLimits& limits,
                           std::int64_t now_ms) {
    changes_.clear();
    for (auto& change : changes) {
        if (!changes_.empty() && change.at_ms < changes_.back().at_ms) {
            change.at_ms = changes_.back().at_ms;
        }
        changes_.push_back(std::move(change));
    }
    trim(limits, now_ms);
}

void StatusHistory::trim(const HistoryLimits& limits, std::int64_t now_ms) {
    while (changes_.size() > limits.max_changes) changes_.pop_front();
    const auto cutoff =
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_age).count();
    // The newest change at or before the cutoff stays: it is the status then.
    while (changes_.size() >= 2 && changes_[1].at_ms <= cutoff) changes_.pop_front();
}

std::vector<StatusTransition> StatusHistory::between(std::int64_t since_ms, std::int64_t until_ms,
                                                     std::optional<std::size_t> limit) const {
    const auto by_time = [](const StatusTransition& c, std::int64_t t) { return c.at_ms < t; };
    auto first = std::lower_bound(changes_.begin(), changes_.end(), since_ms, by_time);
    auto last = std::upper_bound(changes_.begin(), changes_.end(), until_ms,
                                 [](std::int64_t t, const StatusTransition& c) { return t < c.at_ms; });
    if (last < first) last = first;
    if (limit && static_cast<std::size_t>(last - first) > *limit) {
        first = last - static_cast<std::ptrdiff_t>(*limit);
    }
    return {first, last};
}

std::vector<ReadinessPoint> readiness_points(const StatusHistory& history, std::int64_t now_ms) {
    const auto& changes = history.changes();
    const auto longest = std::chrono::duration_cast<std::chrono::milliseconds>(
                             kAvailabilityWindows[kAvailabilityWindowCount - 1].length)
                             .count();
    const auto opens = now_ms - longest;
    // The first change after the window opened, then one back: the status then.
    auto first = std::upper_bound(changes.begin(), changes.end(), opens,
                                  [](std::int64_t t, const StatusTransition& c) { return t < c.at_ms; });
    if (first != changes.begin()) --first;
    std::vector<ReadinessPoint> points;
    points.reserve(static_cast<std::size_t>(changes.end() - first));
    for (auto it = first; it != changes.end(); ++it) points.push_back({it->at_ms, it->to > 0});
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
