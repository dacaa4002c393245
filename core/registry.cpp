// Registry: locking is per identifier for status and reports, and a shared
// lock on the group table only while a name is looked up.
#include "core/registry.h"

#include <algorithm>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "core/detail/group.h"

namespace srmi::core {

namespace detail {

std::string fold_case(std::string_view name) {
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace detail

std::string name_key(std::string_view name) { return detail::fold_case(name); }

namespace {

// The journal ticket of this thread's latest write (see Registry::take_ticket).
thread_local std::uint64_t t_ticket = 0;

bool is_all(std::string_view identifier) {
    return detail::equal_folded(identifier, kAllIdentifiers);
}

IdentifierStatus copy_status(const detail::Identifier& id) {
    std::lock_guard lock(id.mutex);
    return IdentifierStatus{id.name, id.status, id.details, id.reports_added};
}

IdentifierReports copy_reports(const detail::Identifier& id) {
    std::lock_guard lock(id.mutex);
    return IdentifierReports{id.name, id.reports.snapshot()};
}

std::vector<IdentifierStatus> group_status(const detail::Group& group) {
    std::vector<IdentifierStatus> out;
    for (const auto& id : group.members()) out.push_back(copy_status(*id));
    return out;
}

std::vector<IdentifierReports> group_reports(const detail::Group& group) {
    std::vector<IdentifierReports> out;
    for (const auto& id : group.members()) out.push_back(copy_reports(*id));
    return out;
}

GroupIdentifiers group_identifiers(const detail::Group& group) {
    GroupIdentifiers out{group.name, {}};
    for (const auto& id : group.members()) out.identifiers.push_back(id->name);
    return out;
}

}  // namespace

// --- GroupHandle -------------------------------------------------------------

Result<void> GroupHandle::set_status(std::string_view identifier, int status,
                                     std::optional<std::string> details) const {
    return registry_->write_status(*group_, identifier, status, std::move(details));
}

Result<void> GroupHandle::add_report(std::string_view identifier, std::string text) const {
    return registry_->write_report(*group_, identifier, std::move(text));
}

const std::string& GroupHandle::name() const noexcept { return group_->name; }

// --- Registry ----------------------------------------------------------------

Registry::Registry(Clock clock) : clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
    set_millis_clock({});
}

void Registry::set_millis_clock(Clock clock) {
    millis_clock_ = std::move(clock);
    if (!millis_clock_) {
        millis_clock_ = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
}

StatusTransition Registry::transition(std::optional<int> from, int to,
                                      const std::optional<std::string>& details,
                                      const StateChange* origin) const {
    StatusTransition t{(origin != nullptr && origin->at_ms != 0) ? origin->at_ms : millis_clock_(),
                       from, to, details, {}};
    if (origin != nullptr) t.node = origin->node;
    return t;
}

Registry::~Registry() = default;

GroupHandle Registry::add_group(std::string name, Visibility visibility,
                                std::vector<IdentifierSpec> identifiers) {
    return add_group(std::move(name), visibility, std::move(identifiers), nullptr);
}

GroupHandle Registry::add_group(std::string name, Visibility visibility,
                                std::vector<IdentifierSpec> identifiers,
                                const StateChange* origin) {
    if (name.empty()) throw std::invalid_argument("group name is empty");
    if (identifiers.empty()) identifiers.emplace_back();

    auto group = std::make_unique<detail::Group>(std::move(name), visibility);
    group->index.reserve(identifiers.size());
    // Its identifiers appear at one instant: the clock read once, not once
    // each (100 000 reads were 2-3 ms of a 10 000 x 10 config's start-up).
    const auto appeared = transition(std::nullopt, 1, std::nullopt, origin);
    std::int64_t details_bytes = 0;
    for (auto& spec : identifiers) {
        if (spec.name.empty()) {
            throw std::invalid_argument("group '" + group->name + "': identifier name is empty");
        }
        if (spec.details) details_bytes += static_cast<std::int64_t>(spec.details->size());
        auto id = std::make_shared<detail::Identifier>(std::move(spec));
        id->history.record(StatusTransition{appeared.at_ms, std::nullopt, id->status, id->details,
                                            appeared.node},
                           history_limits_);
        if (!group->index.add(id)) {
            throw std::invalid_argument("group '" + group->name + "': duplicate identifier '" +
                                        id->name + "'");
        }
    }

    std::unique_lock lock(groups_mutex_);
    auto key = detail::fold_case(group->name);
    if (by_name_.count(key) != 0) {
        throw std::invalid_argument("duplicate group '" + group->name + "'");
    }
    detail::Group* raw = group.get();
    groups_.push_back(std::move(group));
    by_name_.emplace(std::move(key), raw);
    lock.unlock();
    account(details_bytes);
    return GroupHandle(this, raw);
}

detail::Group* Registry::find_group(std::string_view name) const {
    std::shared_lock lock(groups_mutex_);
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
}

std::vector<detail::Group*> Registry::groups_snapshot() const {
    std::shared_lock lock(groups_mutex_);
    std::vector<detail::Group*> out;
    out.reserve(groups_.size());
    for (const auto& g : groups_) out.push_back(g.get());
    return out;
}

std::size_t Registry::group_count() const {
    std::shared_lock lock(groups_mutex_);
    return groups_.size();
}

Result<IdentifierStatus> Registry::status(std::string_view group,
                                          std::string_view identifier) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (is_all(identifier)) {
        IdentifierStatus aggregate{std::string(kAllIdentifiers), 1, "aggregated", 0};
        for (const auto& id : g->members()) {
            std::lock_guard lock(id->mutex);
            if (id->status < 0) {
                aggregate.status = -1;
                break;
            }
        }
        return aggregate;
    }
    const auto id = g->find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    return copy_status(*id);
}

Result<std::vector<IdentifierStatus>> Registry::list_status(std::string_view group) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    return group_status(*g);
}

std::vector<GroupStatus> Registry::list_status() const {
    std::vector<GroupStatus> out;
    for (const auto* g : groups_snapshot()) out.push_back(GroupStatus{g->name, group_status(*g)});
    return out;
}

namespace {
void visit_members(const detail::Group& group,
                   const std::function<void(const StatusView&)>& visit) {
    for (const auto& id : group.members()) {
        std::lock_guard lock(id->mutex);
        visit(StatusView{id->name, id->status, id->details});
    }
}
}  // namespace

void Registry::visit_status(const StatusVisitor& visitor) const {
    for (const auto* g : groups_snapshot()) {
        // Read before the members: a change made while they are shown bumps
        // it past this, so whoever kept this version sees the change later.
        if (visitor.group(g->name, g->status_version.load(std::memory_order_acquire))) {
            visit_members(*g, visitor.identifier);
        }
    }
}

Result<void> Registry::visit_status(std::string_view group,
                                    const std::function<void(const StatusView&)>& visit) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    visit_members(*g, visit);
    return {};
}

Result<std::vector<Report>> Registry::list_reports(std::string_view group,
                                                   std::string_view identifier) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    const auto id = g->find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    std::lock_guard lock(id->mutex);
    return id->reports.snapshot();
}

Result<std::vector<IdentifierReports>> Registry::list_reports(std::string_view group) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    return group_reports(*g);
}

std::vector<GroupReports> Registry::list_reports() const {
    std::vector<GroupReports> out;
    for (const auto* g : groups_snapshot()) out.push_back(GroupReports{g->name, group_reports(*g)});
    return out;
}

Result<GroupIdentifiers> Registry::list_identifiers(std::string_view group) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    return group_identifiers(*g);
}

std::vector<GroupIdentifiers> Registry::list_identifiers() const {
    std::vector<GroupIdentifiers> out;
    for (const auto* g : groups_snapshot()) out.push_back(group_identifiers(*g));
    return out;
}

Result<void> Registry::set_status(std::string_view group, std::string_view identifier, int status,
                                  std::optional<std::string> details, std::int64_t ttl) {
    auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (g->visibility != Visibility::kPublic) return Errc::forbidden;
    if (ordered_) {
        auto id = g->find(identifier);
        if (id == nullptr) return Errc::identifier_not_found;
        StateChange change;
        change.kind = StateChange::Kind::kSetStatus;
        change.group = g->name;
        change.identifier = id->name;
        change.status = status == 0 ? 1 : status;
        change.details = std::move(details);
        change.ttl = ttl;
        change.at_ms = millis_clock_();
        return propose(std::move(change));
    }
    return write_status(*g, identifier, status, std::move(details), ttl);
}

Result<void> Registry::add_report(std::string_view group, std::string_view identifier,
                                  std::string text) {
    auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (g->visibility != Visibility::kPublic) return Errc::forbidden;
    if (ordered_) {
        auto id = g->find(identifier);
        if (id == nullptr) return Errc::identifier_not_found;
        if (id->reports.capacity() == 0) return Errc::reports_disabled;
        StateChange change;
        change.kind = StateChange::Kind::kAddReport;
        change.group = g->name;
        change.identifier = id->name;
        // Stamped once, by the instance written to: every instance keeps the same report.
        change.report = Report{clock_(), std::move(text)};
        return propose(std::move(change));
    }
    return write_report(*g, identifier, std::move(text));
}

Result<void> Registry::propose(StateChange change) const {
    const auto ticket = journal_->record(std::move(change));
    if (ticket == 0) return Errc::store_unavailable;
    t_ticket = ticket;
    return {};
}

Result<void> Registry::apply(const StateChange& change) {
    auto* g = find_group(change.group);
    if (change.kind == StateChange::Kind::kAddGroup) {
        if (g != nullptr) return Errc::already_exists;
        std::vector<IdentifierSpec> specs;
        for (const auto& id : change.identifiers) {
            specs.push_back(IdentifierSpec{id.name, id.status, id.details, id.max_reports});
        }
        try {
            add_group(change.group, Visibility::kPublic, std::move(specs), &change);
        } catch (const std::invalid_argument&) {
            return Errc::invalid_name;
        }
        return {};
    }
    if (g == nullptr) return Errc::group_not_found;
    switch (change.kind) {
        case StateChange::Kind::kSetStatus:
            return write_status(*g, change.identifier, change.status, change.details, change.ttl,
                                change.lease, 0, &change);
        case StateChange::Kind::kExpireLease:
            return write_status(*g, change.identifier, -1, change.details, 0, 0, change.lease,
                                &change);
        case StateChange::Kind::kAddReport:
            return write_report(*g, change.identifier, change.report.log, change.report.timestamp);
        case StateChange::Kind::kAddIdentifier:
            return insert_identifier(*g,
                                     IdentifierSpec{change.identifier, change.status,
                                                    change.details, change.max_reports, change.ttl},
                                     change.lease, &change);
        case StateChange::Kind::kRemoveIdentifier:
            return erase_identifier(*g, change.identifier);
        case StateChange::Kind::kAddGroup:
            break;  // above
    }
    return {};
}

Result<void> Registry::write_status(detail::Group& group, std::string_view identifier, int status,
                                    std::optional<std::string> details, std::int64_t ttl,
                                    std::uint64_t lease, std::uint64_t if_lease,
                                    const StateChange* origin) const {
    auto id = group.find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    if (status == 0) status = 1;

    std::int64_t delta = 0;
    {
        std::lock_guard lock(id->mutex);
        if (id->removed) return Errc::identifier_not_found;  // lost the race with its removal
        // An expiry that a renewal (or a write without a lease) overtook does nothing.
        if (if_lease != 0 && (id->lease_ttl == 0 || id->lease != if_lease)) return {};
        const int old_status = id->status;
        delta = static_cast<std::int64_t>(details ? details->size() : 0) -
                static_cast<std::int64_t>(id->details ? id->details->size() : 0);
        id->status = status;
        id->details = std::move(details);
        if (ttl > 0) {
            arm_lease(group, id, ttl, lease != 0 ? lease : next_lease_.fetch_add(1));
        } else {
            id->lease_ttl = 0;
            id->lease = 0;
        }
        group.changed();
        if (old_status == status || history_limits_.max_changes == 0) {
            journal(StateChange::Kind::kSetStatus, group, *id);
        } else {
            auto entry = transition(old_status, status, id->details, origin);
            journal(StateChange::Kind::kSetStatus, group, *id, nullptr, &entry);
            id->history.record(std::move(entry), history_limits_);
        }
        if (old_status != status) {
            std::shared_lock listeners(listeners_mutex_);
            const StatusChange change{group.name, id->name, old_status, status, id->details};
            for (const auto& listener : listeners_) listener(change);
        }
    }
    if (delta != 0) account(delta);
    return {};
}

void Registry::arm_lease(detail::Group& group, const std::shared_ptr<detail::Identifier>& id,
                         std::int64_t ttl, std::uint64_t lease) const {
    id->lease_ttl = ttl;
    id->lease = lease;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(ttl);
    std::lock_guard lock(leases_mutex_);
    leases_.emplace(deadline, LeaseEntry{id, &group, lease});
}

std::string Registry::expiry_details(const detail::Group& group) const {
    auto it = expiry_details_.find(detail::fold_case(group.name));
    return it == expiry_details_.end() ? std::string("expired") : it->second;
}

void Registry::set_expiry_details(std::string_view group, std::string details) {
    expiry_details_[detail::fold_case(group)] = std::move(details);
}

std::size_t Registry::expire_leases(std::chrono::steady_clock::time_point now, bool act) {
    std::vector<LeaseEntry> due;
    {
        std::lock_guard lock(leases_mutex_);
        while (!leases_.empty() && leases_.begin()->first <= now) {
            due.push_back(std::move(leases_.begin()->second));
            leases_.erase(leases_.begin());
        }
    }
    // Looked at again later: a lease whose expiry is left to another
    // instance, or proposed but not yet applied (it may never be, if the
    // journal fails), until the lease ends one way or another.
    constexpr auto kRecheck = std::chrono::seconds(1);
    std::vector<LeaseEntry> again;
    std::size_t ended = 0;
    for (auto& entry : due) {
        auto id = entry.identifier.lock();
        if (!id) continue;
        {
            std::lock_guard lock(id->mutex);
            if (id->removed || id->lease_ttl == 0 || id->lease != entry.lease) continue;
        }
        if (!act) {
            again.push_back(std::move(entry));
            continue;
        }
        if (ordered_) {
            StateChange change;
            change.kind = StateChange::Kind::kExpireLease;
            change.group = entry.group->name;
            change.identifier = id->name;
            change.details = expiry_details(*entry.group);
            change.lease = entry.lease;
            change.at_ms = millis_clock_();
            if (journal_->record(std::move(change)) != 0) ++ended;
            again.push_back(std::move(entry));
            continue;
        }
        auto done = write_status(*entry.group, id->name, -1, expiry_details(*entry.group), 0, 0,
                                 entry.lease);
        if (done) ++ended;
    }
    if (!again.empty()) {
        std::lock_guard lock(leases_mutex_);
        for (auto& entry : again) leases_.emplace(now + kRecheck, std::move(entry));
    }
    return ended;
}

Result<void> Registry::write_report(detail::Group& group, std::string_view identifier,
                                    std::string text,
                                    std::optional<std::int64_t> timestamp) const {
    auto id = group.find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    const auto added = static_cast<std::int64_t>(text.size());
    std::int64_t freed = 0;
    std::optional<Report> heard;  // a copy for the report listeners, made only when there are some
    {
        std::lock_guard lock(id->mutex);
        if (id->removed) return Errc::identifier_not_found;  // lost the race with its removal
        if (id->reports.capacity() == 0) return Errc::reports_disabled;
        const bool full = id->reports.size() == id->reports.capacity();
        const auto seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
        Report report{timestamp ? *timestamp : clock_(), std::move(text)};
        if (has_report_listeners_.load(std::memory_order_acquire)) heard = report;
        journal(StateChange::Kind::kAddReport, group, *id, &report);
        freed = static_cast<std::int64_t>(id->reports.push(std::move(report), seq));
        ++id->reports_added;
        // Recorded under the identifier's lock, so one identifier's entries
        // stay in sequence order in order_.
        if (store_limit_ != 0) remember_report(id, seq, full);
    }
    account(added - freed);
    if (store_limit_ != 0 && store_bytes() > store_limit_) evict_over_limit();
    if (heard) {
        const ReportAdded event{group.name, id->name, heard->timestamp, heard->log};
        std::shared_lock listeners(listeners_mutex_);
        for (const auto& listener : report_listeners_) listener(event);
    }
    return {};
}

void Registry::account(std::int64_t delta) const {
    const auto now =
        store_bytes_.fetch_add(static_cast<std::uint64_t>(delta), std::memory_order_relaxed) +
        static_cast<std::uint64_t>(delta);
    if (store_listener_) store_listener_(now);
}

void Registry::remember_report(const std::shared_ptr<detail::Identifier>& id, std::uint64_t seq,
                               bool overwrote) const {
    std::lock_guard lock(order_mutex_);
    order_.emplace_back(id, seq);
    if (overwrote) ++stale_in_order_;
    // Entries of overwritten reports pile up in a registry under its cap;
    // drop them once they are the majority, so order_ stays O(reports).
    if (stale_in_order_ > 1024 && stale_in_order_ > order_.size() / 2) compact_order_locked();
}

void Registry::compact_order_locked() const {
    // Keep, per identifier, only the newest `size()` entries: the others
    // belong to reports its ring has already overwritten. Walking from the
    // newest end counts each identifier's entries without touching its lock.
    std::unordered_map<const detail::Identifier*, std::size_t> remaining;
    std::deque<std::pair<std::weak_ptr<detail::Identifier>, std::uint64_t>> kept;
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        const auto id = it->first.lock();
        if (!id) continue;  // removed since
        auto [slot, inserted] = remaining.try_emplace(id.get(), id->reports.capacity());
        if (slot->second == 0) continue;
        --slot->second;
        kept.push_front(*it);
    }
    order_.swap(kept);
    stale_in_order_ = 0;
}

void Registry::evict_over_limit() const {
    while (store_bytes() > store_limit_) {
        std::pair<std::weak_ptr<detail::Identifier>, std::uint64_t> entry;
        {
            std::lock_guard lock(order_mutex_);
            if (order_.empty()) return;
            entry = std::move(order_.front());
            order_.pop_front();
        }
        const auto oldest = entry.first.lock();
        if (!oldest) continue;  // removed since: its bytes left with it
        std::int64_t freed = 0;
        {
            std::lock_guard lock(oldest->mutex);
            auto& ring = oldest->reports;
            if (!oldest->removed && !ring.empty() && ring.front_seq() == entry.second) {
                freed = static_cast<std::int64_t>(ring.pop_front());
            }
        }
        if (freed != 0) account(-freed);
    }
}

void Registry::set_store_limit(std::uint64_t bytes) { store_limit_ = bytes; }

void Registry::on_store_change(std::function<void(std::uint64_t)> listener) {
    store_listener_ = std::move(listener);
}

namespace {
std::int64_t bytes_of(const detail::Identifier& id) {
    std::int64_t bytes = id.details ? static_cast<std::int64_t>(id.details->size()) : 0;
    id.reports.for_each([&](const Report& r) { bytes += static_cast<std::int64_t>(r.log.size()); });
    return bytes;
}
}  // namespace

void Registry::journal(StateChange::Kind kind, const detail::Group& group,
                       const detail::Identifier& id, const Report* report,
                       const StatusTransition* transition) const {
    // An ordering journal saw the write when it was proposed.
    if (journal_ == nullptr || ordered_ || group.visibility != Visibility::kPublic) return;
    StateChange change;
    change.kind = kind;
    change.group = group.name;
    change.identifier = id.name;
    // Only these kinds carry the identifier's state, and only their callers
    // hold its lock (a removal holds the group's lock only: name suffices).
    if (kind == StateChange::Kind::kSetStatus || kind == StateChange::Kind::kAddIdentifier) {
        change.status = id.status;
        change.details = id.details;
        change.max_reports = id.reports.capacity();
    }
    if (report != nullptr) change.report = *report;
    if (transition != nullptr) change.transition = *transition;
    t_ticket = journal_->record(std::move(change));
}

std::uint64_t Registry::take_ticket() noexcept { return std::exchange(t_ticket, 0); }

void Registry::note_ticket(std::uint64_t ticket) noexcept { t_ticket = std::max(t_ticket, ticket); }

Result<void> Registry::add_identifier(std::string_view group, IdentifierSpec spec) {
    auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (g->visibility != Visibility::kPublic) return Errc::forbidden;
    if (spec.name.empty()) return Errc::invalid_name;
    if (ordered_) {
        if (g->find(spec.name) != nullptr) return Errc::already_exists;
        StateChange change;
        change.kind = StateChange::Kind::kAddIdentifier;
        change.group = g->name;
        change.identifier = std::move(spec.name);
        change.status = spec.status == 0 ? 1 : spec.status;
        change.details = std::move(spec.details);
        change.max_reports = spec.max_reports;
        change.ttl = spec.ttl;
        change.at_ms = millis_clock_();
        return propose(std::move(change));
    }
    return insert_identifier(*g, std::move(spec));
}

Result<void> Registry::insert_identifier(detail::Group& group, IdentifierSpec spec,
                                         std::uint64_t lease, const StateChange* origin) {
    if (spec.name.empty()) return Errc::invalid_name;
    const auto details_bytes = static_cast<std::int64_t>(spec.details ? spec.details->size() : 0);
    const auto ttl = spec.ttl;
    {
        std::unique_lock lock(group.mutex);
        if (group.index.contains(spec.name)) return Errc::already_exists;
        auto id = std::make_shared<detail::Identifier>(std::move(spec));
        std::lock_guard id_lock(id->mutex);
        if (ttl > 0) arm_lease(group, id, ttl, lease != 0 ? lease : next_lease_.fetch_add(1));
        auto entry = transition(std::nullopt, id->status, id->details, origin);
        journal(StateChange::Kind::kAddIdentifier, group, *id, nullptr,
                history_limits_.max_changes != 0 ? &entry : nullptr);
        id->history.record(std::move(entry), history_limits_);
        group.index.add(id);
        group.changed();
    }
    if (details_bytes != 0) account(details_bytes);
    return {};
}

Result<void> Registry::remove_identifier(std::string_view group, std::string_view identifier) {
    auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (g->visibility != Visibility::kPublic) return Errc::forbidden;
    if (ordered_) {
        auto id = g->find(identifier);
        if (id == nullptr) return Errc::identifier_not_found;
        if (g->members().size() == 1) return Errc::last_identifier;
        StateChange change;
        change.kind = StateChange::Kind::kRemoveIdentifier;
        change.group = g->name;
        change.identifier = id->name;
        return propose(std::move(change));
    }
    return erase_identifier(*g, identifier);
}

Result<void> Registry::erase_identifier(detail::Group& group, std::string_view identifier) {
    detail::IdentifierPtr removed;
    {
        std::unique_lock lock(group.mutex);
        if (!group.index.contains(identifier)) return Errc::identifier_not_found;
        if (group.index.size() == 1) return Errc::last_identifier;
        removed = group.index.remove(identifier);
        group.changed();
        journal(StateChange::Kind::kRemoveIdentifier, group, *removed);
    }
    // Readers that found it before may still hold it; its bytes leave the store now.
    std::int64_t bytes = 0;
    {
        std::lock_guard lock(removed->mutex);
        removed->removed = true;
        bytes = bytes_of(*removed);
    }
    if (bytes != 0) account(-bytes);
    return {};
}

std::vector<PersistedGroup> Registry::public_state() const {
    std::vector<PersistedGroup> out;
    for (const auto* g : groups_snapshot()) {
        if (g->visibility != Visibility::kPublic) continue;
        PersistedGroup group{g->name, {}};
        for (const auto& id : g->members()) {
            std::lock_guard lock(id->mutex);
            group.identifiers.push_back(PersistedIdentifier{
                id->name, id->status, id->details, id->reports.capacity(), id->reports.snapshot(),
                id->lease_ttl, id->lease, id->history.all()});
        }
        out.push_back(std::move(group));
    }
    return out;
}

Result<void> Registry::restore(const PersistedGroup& persisted) {
    auto* g = find_group(persisted.name);
    if (g == nullptr) return Errc::group_not_found;
    if (persisted.identifiers.empty()) return Errc::last_identifier;

    detail::MemberIndex<detail::Identifier> index;
    index.reserve(persisted.identifiers.size());
    std::int64_t added = 0;
    for (const auto& p : persisted.identifiers) {
        if (p.name.empty() || index.contains(p.name)) return Errc::invalid_name;
        auto id = std::make_shared<detail::Identifier>(
            IdentifierSpec{p.name, p.status, p.details, p.max_reports});
        for (const auto& r : p.reports) {
            if (id->reports.capacity() == 0) break;
            const auto seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
            added -= static_cast<std::int64_t>(id->reports.push(r, seq));
            added += static_cast<std::int64_t>(r.log.size());
            if (store_limit_ != 0) remember_report(id, seq, false);
        }
        if (p.details) added += static_cast<std::int64_t>(p.details->size());
        // A store that kept no history for it (an older file) knows it from now on.
        id->history.assign(p.history, history_limits_, millis_clock_());
        if (id->history.empty()) {
            id->history.record(transition(std::nullopt, id->status, id->details, nullptr),
                               history_limits_);
        }
        if (p.ttl > 0) {
            // Restarted in full: how long it had left was not kept.
            std::lock_guard id_lock(id->mutex);
            arm_lease(*g, id, p.ttl, p.lease != 0 ? p.lease : next_lease_.fetch_add(1));
        }
        index.add(id);
    }
    {
        std::unique_lock lock(g->mutex);
        std::swap(index, g->index);
    }
    std::int64_t removed = 0;
    for (const auto& id : index.members()) {  // the ones replaced
        std::lock_guard lock(id->mutex);
        id->removed = true;
        removed += bytes_of(*id);
    }
    account(added - removed);
    if (store_limit_ != 0 && store_bytes() > store_limit_) evict_over_limit();
    return {};
}

// --- history and availability ------------------------------------------------

Result<std::vector<HistoryEntry>> Registry::status_history(std::string_view group,
                                                           std::string_view identifier,
                                                           const HistoryQuery& query) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    std::vector<HistoryEntry> out;
    const auto copy = [&](const detail::Identifier& id) {
        std::lock_guard lock(id.mutex);
        auto changes = id.history.between(query.since_ms, query.until_ms, query.limit);
        out.reserve(out.size() + changes.size());
        for (auto& change : changes) {
            out.push_back(HistoryEntry{id.name, std::move(change)});
        }
    };
    if (!is_all(identifier)) {
        const auto id = g->find(identifier);
        if (id == nullptr) return Errc::identifier_not_found;
        copy(*id);
        return out;
    }
    for (const auto& id : g->members()) copy(*id);
    std::stable_sort(out.begin(), out.end(), [](const HistoryEntry& a, const HistoryEntry& b) {
        return a.change.at_ms < b.change.at_ms;
    });
    if (query.limit && out.size() > *query.limit) {
        out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(*query.limit));
    }
    return out;
}

std::vector<std::vector<ReadinessPoint>> Registry::member_points(
    const detail::Group& group, std::int64_t now, std::vector<std::string>* names) const {
    std::vector<std::vector<ReadinessPoint>> points;
    for (const auto& id : group.members()) {
        std::lock_guard lock(id->mutex);
        if (names != nullptr) names->push_back(id->name);
        points.push_back(readiness_points(id->history, now));
    }
    return points;
}

Result<NamedAvailability> Registry::availability(std::string_view group,
                                                 std::string_view identifier) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    const auto now = millis_clock_();
    if (is_all(identifier)) {
        return NamedAvailability{std::string(kAllIdentifiers),
                                 core::availability(member_points(*g, now), now)};
    }
    const auto id = g->find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    std::vector<std::vector<ReadinessPoint>> points(1);
    {
        std::lock_guard lock(id->mutex);
        points[0] = readiness_points(id->history, now);
    }
    return NamedAvailability{id->name, core::availability(points, now)};
}

namespace {
std::vector<NamedAvailability> group_availability(
    const std::vector<std::string>& names, const std::vector<std::vector<ReadinessPoint>>& points,
    std::int64_t now) {
    std::vector<NamedAvailability> out;
    out.reserve(names.size() + 1);
    out.push_back({std::string(kAllIdentifiers), availability(points, now)});
    std::vector<std::vector<ReadinessPoint>> one(1);
    for (std::size_t i = 0; i < names.size(); ++i) {
        one[0] = points[i];
        out.push_back({names[i], availability(one, now)});
    }
    return out;
}
}  // namespace

Result<std::vector<NamedAvailability>> Registry::availability(std::string_view group) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    const auto now = millis_clock_();
    std::vector<std::string> names;
    const auto points = member_points(*g, now, &names);
    return group_availability(names, points, now);
}

std::vector<GroupAvailability> Registry::availability() const {
    const auto now = millis_clock_();
    std::vector<GroupAvailability> out;
    for (const auto* g : groups_snapshot()) {
        std::vector<std::string> names;
        const auto points = member_points(*g, now, &names);
        out.push_back({g->name, group_availability(names, points, now)});
    }
    return out;
}

void Registry::on_status_change(StatusListener listener) {
    std::unique_lock lock(listeners_mutex_);
    listeners_.push_back(std::move(listener));
}

void Registry::on_report(ReportListener listener) {
    std::unique_lock lock(listeners_mutex_);
    report_listeners_.push_back(std::move(listener));
    has_report_listeners_.store(true, std::memory_order_release);
}

}  // namespace srmi::core
