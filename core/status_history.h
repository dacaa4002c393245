// StatusHistory: the status changes of one identifier, bounded by count and
// age, and the availability (time ready, not ready, unknown) they imply.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace srmi::core {

/// One status change of an identifier as its history keeps it.
struct StatusTransition {
    std::int64_t at_ms = 0;   ///< when it took effect, milliseconds since the epoch
    std::optional<int> from;  ///< the status before; nullopt: the identifier appeared
    int to = 1;               ///< the status after
    std::optional<std::string> details;  ///< the details it was set with
    std::string node;  ///< the instance that took the write (in a cluster; else empty)

    friend bool operator==(const StatusTransition&, const StatusTransition&) = default;
};

/// How much history each identifier keeps. The newest change older than
/// `max_age` is kept too: it says what the status was when the window opened.
struct HistoryLimits {
    /// 7 days of a change a minute, and the change before them. 0: no history.
    std::size_t max_changes = 7 * 24 * 60 + 1;
    std::chrono::seconds max_age{std::chrono::hours(24 * 7)};
};

/// The changes of one identifier, oldest first. Not thread-safe: the
/// identifier's lock guards it, as it guards the status.
///
/// A ring over one vector: one that flaps for good reuses its slots
/// (std::deque's first block alone was 576 bytes, twice an identifier
/// without history). An appearance without details or node (every
/// identifier of a config file) is held in place until the first change, so
/// an identifier that never changes allocates nothing for its history.
class StatusHistory {
public:
    /// Appends `change` and drops what `limits` no longer keep. A change
    /// dated before the newest one (another instance's clock) is moved up to
    /// it, so the history stays in time order.
    void record(StatusTransition change, const HistoryLimits& limits);
    /// Replaces everything (a restore), then applies `limits` as of `now_ms`.
    void assign(std::vector<StatusTransition> changes, const HistoryLimits& limits,
                std::int64_t now_ms);

    bool empty() const noexcept { return size() == 0; }
    std::size_t size() const noexcept { return held_ ? 1 : size_; }
    /// The changes it has room for without growing (age trimming frees no slots).
    std::size_t capacity() const noexcept { return slots_.capacity(); }
    /// The i-th change, oldest first (i < size()), a copy.
    StatusTransition operator[](std::size_t i) const {
        return held_ ? held_entry() : slots_[slot(i)];
    }
    StatusTransition front() const { return (*this)[0]; }
    StatusTransition back() const { return (*this)[size() - 1]; }
    /// The i-th change's time and status, without copying it.
    std::int64_t at_ms(std::size_t i) const noexcept {
        return held_ ? held_at_ms_ : slots_[slot(i)].at_ms;
    }
    int to(std::size_t i) const noexcept { return held_ ? held_to_ : slots_[slot(i)].to; }

    /// The changes in [since_ms, until_ms], oldest first; with `limit`, only
    /// the newest `limit` of them.
    std::vector<StatusTransition> between(std::int64_t since_ms, std::int64_t until_ms,
                                          std::optional<std::size_t> limit) const;
    /// Every change, oldest first.
    std::vector<StatusTransition> all() const;

    /// The index of the first change dated after `at_ms` (size() if none).
    std::size_t first_after(std::int64_t at_ms) const;
    /// The index of the first change dated at or after `at_ms` (size() if none).
    std::size_t first_at_or_after(std::int64_t at_ms) const;

private:
    std::size_t slot(std::size_t i) const noexcept {
        const auto j = head_ + i;
        return j < slots_.size() ? j : j - slots_.size();
    }
    void push_back(StatusTransition change, std::size_t max_slots);
    void pop_front();
    void trim(const HistoryLimits& limits, std::int64_t now_ms);
    void release_held(std::size_t max_slots);
    StatusTransition held_entry() const {
        return StatusTransition{held_at_ms_, std::nullopt, held_to_, std::nullopt, {}};
    }

    std::vector<StatusTransition> slots_;  ///< the ring; size_ of them from head_ are kept
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    // The held appearance (only while the ring is empty): {held_at_ms_, no
    // status before, held_to_, no details, no node}.
    std::int64_t held_at_ms_ = 0;
    int held_to_ = 0;
    bool held_ = false;
};

/// Where a timeline is at a point in time: before its first change it is unknown.
enum class Readiness { kUnknown, kReady, kNotReady };

/// A status change reduced to what availability needs.
struct ReadinessPoint {
    std::int64_t at_ms;
    bool ready;
};

/// Time spent in each state over one window, in milliseconds.
struct WindowTime {
    std::int64_t ready_ms = 0;
    std::int64_t not_ready_ms = 0;
    std::int64_t unknown_ms = 0;

    /// ready / (ready + not ready); nullopt when nothing in the window is known.
    std::optional<double> ratio() const noexcept {
        const auto known = ready_ms + not_ready_ms;
        if (known == 0) return std::nullopt;
        return static_cast<double>(ready_ms) / static_cast<double>(known);
    }
};

/// The windows availability is told over, shortest first.
struct AvailabilityWindow {
    const char* name;  ///< "1h", "24h", "7d": the `window` label and the answer's key
    std::chrono::seconds length;
};
inline constexpr AvailabilityWindow kAvailabilityWindows[] = {
    {"1h", std::chrono::hours(1)},
    {"24h", std::chrono::hours(24)},
    {"7d", std::chrono::hours(24 * 7)},
};
inline constexpr std::size_t kAvailabilityWindowCount = std::size(kAvailabilityWindows);

/// What one identifier's or group's history says over each of kAvailabilityWindows.
using Availability = std::array<WindowTime, kAvailabilityWindowCount>;

/// Availability over the windows ending at `now_ms` of one timeline (each
/// member's points in time order) or of several taken together as a group's
/// `all`: not ready while any member is, else unknown while any member is,
/// else ready.
Availability availability(const std::vector<std::vector<ReadinessPoint>>& members,
                          std::int64_t now_ms);

/// The points of `history` that availability over the longest window ending
/// at `now_ms` needs: the last change before it opened, and every one after.
std::vector<ReadinessPoint> readiness_points(const StatusHistory& history, std::int64_t now_ms);

}  // namespace srmi::core
