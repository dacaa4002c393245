// ReportRing: the fixed-capacity log of one identifier, oldest entry dropped first.
#pragma once

#include <algorithm>
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

/// A ring buffer of at most `capacity` reports, each tagged with a sequence
/// number the registry uses to evict the oldest reports first when its store
/// is over its limit. Not thread-safe: the owning Identifier guards it.
/// Storage grows with use, up to capacity, so an identifier that never
/// reports costs no report slots.
class ReportRing {
public:
    explicit ReportRing(std::size_t capacity) : capacity_(capacity) {}

    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Appends a report; when full, the oldest one is overwritten. Returns the
    /// bytes of log text that left the ring. Precondition: capacity() > 0.
    std::size_t push(Report report, std::uint64_t seq = 0) {
        if (size_ < slots_.size()) {  // a slot freed by pop_front()
            slots_[index(size_)] = Entry{std::move(report), seq};
            ++size_;
            return 0;
        }
        if (slots_.size() < capacity_) {
            // Keep ring order contiguous before growing the storage.
            std::rotate(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(head_), slots_.end());
            head_ = 0;
            slots_.push_back(Entry{std::move(report), seq});
            ++size_;
            return 0;
        }
        const std::size_t freed = slots_[head_].report.log.size();
        slots_[head_] = Entry{std::move(report), seq};
        head_ = (head_ + 1) % slots_.size();
        return freed;
    }

    /// Sequence number of the oldest report. Precondition: !empty().
    std::uint64_t front_seq() const { return slots_[head_].seq; }

    /// Removes the oldest report; returns the bytes of log text freed.
    /// Precondition: !empty().
    std::size_t pop_front() {
        Entry gone = std::move(slots_[head_]);
        slots_[head_] = Entry{};
        head_ = (head_ + 1) % slots_.size();
        --size_;
        return gone.report.log.size();
    }

    /// Calls `fn(const Report&)` for each stored report, oldest first.
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (std::size_t i = 0; i < size_; ++i) fn(slots_[index(i)].report);
    }

    /// A copy of the stored reports, oldest first.
    std::vector<Report> snapshot() const {
        std::vector<Report> out;
        out.reserve(size_);
        for_each([&](const Report& r) { out.push_back(r); });
        return out;
    }

private:
    struct Entry {
        Report report;
        std::uint64_t seq = 0;
    };

    std::size_t index(std::size_t i) const { return (head_ + i) % slots_.size(); }

    std::size_t capacity_;
    std::size_t head_ = 0;  // index of the oldest report
    std::size_t size_ = 0;
    std::vector<Entry> slots_;
};

}  // namespace srmi::core
