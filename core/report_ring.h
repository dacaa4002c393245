// ReportRing: the fixed-capacity log of one identifier, oldest entry dropped first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace srmi::core {

/// One report: the log text and when it was added (seconds since the epoch).
struct Report {
    std::int64_t timestamp = 0;
    std::string log;

    friend bool operator==(const Report&, const Report&) = default;
};

/// A ring buffer of at most `capacity` reports. Not thread-safe: the owning
/// Identifier guards it. Push is O(1) and never allocates once the ring is full.
class ReportRing {
public:
    explicit ReportRing(std::size_t capacity) : capacity_(capacity) {}

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t size() const noexcept { return slots_.size(); }

    /// Appends a report; when full, the oldest one is overwritten.
    /// Precondition: capacity() > 0.
    void push(Report report) {
        if (slots_.size() < capacity_) {
            slots_.push_back(std::move(report));
            return;
        }
        slots_[head_] = std::move(report);
        head_ = (head_ + 1) % capacity_;
    }

    /// Calls `fn(const Report&)` for each stored report, oldest first.
    template <class Fn>
    void for_each(Fn&& fn) const {
        const std::size_t n = slots_.size();
        for (std::size_t i = 0; i < n; ++i) fn(slots_[(head_ + i) % n]);
    }

    /// A copy of the stored reports, oldest first.
    std::vector<Report> snapshot() const {
        std::vector<Report> out;
        out.reserve(slots_.size());
        for_each([&](const Report& r) { out.push_back(r); });
        return out;
    }

private:
    std::size_t capacity_;
    std::size_t head_ = 0;  // index of the oldest report once the ring is full
    std::vector<Report> slots_;
};

}  // namespace srmi::core
