// Registry: locking is per identifier for status and reports, and a shared
// lock on the group table only while a name is looked up.
#include "core/registry.h"

#include <algorithm>
#include <ctime>
#include <stdexcept>

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

namespace {

bool is_all(std::string_view identifier) { return detail::fold_case(identifier) == kAllIdentifiers; }

IdentifierStatus copy_status(const detail::Identifier& id) {
    std::lock_guard lock(id.mutex);
    return IdentifierStatus{id.name, id.status, id.details};
}

IdentifierReports copy_reports(const detail::Identifier& id) {
    std::lock_guard lock(id.mutex);
    return IdentifierReports{id.name, id.reports.snapshot()};
}

std::vector<IdentifierStatus> group_status(const detail::Group& group) {
    std::vector<IdentifierStatus> out;
    for (const auto* id : group.members()) out.push_back(copy_status(*id));
    return out;
}

std::vector<IdentifierReports> group_reports(const detail::Group& group) {
    std::vector<IdentifierReports> out;
    for (const auto* id : group.members()) out.push_back(copy_reports(*id));
    return out;
}

GroupIdentifiers group_identifiers(const detail::Group& group) {
    GroupIdentifiers out{group.name, {}};
    for (const auto* id : group.members()) out.identifiers.push_back(id->name);
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
}

Registry::~Registry() = default;

GroupHandle Registry::add_group(std::string name, Visibility visibility,
                                std::vector<IdentifierSpec> identifiers) {
    if (name.empty()) throw std::invalid_argument("group name is empty");
    if (identifiers.empty()) identifiers.emplace_back();

    auto group = std::make_unique<detail::Group>(std::move(name), visibility);
    for (auto& spec : identifiers) {
        if (spec.name.empty()) {
            throw std::invalid_argument("group '" + group->name + "': identifier name is empty");
        }
        auto key = detail::fold_case(spec.name);
        if (group->by_name.count(key) != 0) {
            throw std::invalid_argument("group '" + group->name + "': duplicate identifier '" +
                                        spec.name + "'");
        }
        auto& id = group->identifiers.emplace_back(std::make_unique<detail::Identifier>(std::move(spec)));
        group->by_name.emplace(std::move(key), id.get());
    }

    std::unique_lock lock(groups_mutex_);
    auto key = detail::fold_case(group->name);
    if (by_name_.count(key) != 0) {
        throw std::invalid_argument("duplicate group '" + group->name + "'");
    }
    detail::Group* raw = group.get();
    groups_.push_back(std::move(group));
    by_name_.emplace(std::move(key), raw);
    return GroupHandle(this, raw);
}

detail::Group* Registry::find_group(std::string_view name) const {
    auto key = detail::fold_case(name);
    std::shared_lock lock(groups_mutex_);
    auto it = by_name_.find(key);
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

Result<IdentifierStatus> Registry::status(std::string_view group, std::string_view identifier) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (is_all(identifier)) {
        IdentifierStatus aggregate{std::string(kAllIdentifiers), 1, "aggregated"};
        for (const auto* id : g->members()) {
            std::lock_guard lock(id->mutex);
            if (id->status < 0) {
                aggregate.status = -1;
                break;
            }
        }
        return aggregate;
    }
    const auto* id = g->find(identifier);
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

Result<std::vector<Report>> Registry::list_reports(std::string_view group,
                                                   std::string_view identifier) const {
    const auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    const auto* id = g->find(identifier);
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
                                  std::optional<std::string> details) {
    auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (g->visibility != Visibility::kPublic) return Errc::forbidden;
    return write_status(*g, identifier, status, std::move(details));
}

Result<void> Registry::add_report(std::string_view group, std::string_view identifier,
                                  std::string text) {
    auto* g = find_group(group);
    if (g == nullptr) return Errc::group_not_found;
    if (g->visibility != Visibility::kPublic) return Errc::forbidden;
    return write_report(*g, identifier, std::move(text));
}

Result<void> Registry::write_status(detail::Group& group, std::string_view identifier, int status,
                                    std::optional<std::string> details) const {
    auto* id = group.find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    if (status == 0) status = 1;

    std::lock_guard lock(id->mutex);
    const int old_status = id->status;
    id->status = status;
    id->details = std::move(details);
    if (old_status != status) {
        std::shared_lock listeners(listeners_mutex_);
        const StatusChange change{group.name, id->name, old_status, status, id->details};
        for (const auto& listener : listeners_) listener(change);
    }
    return {};
}

Result<void> Registry::write_report(detail::Group& group, std::string_view identifier,
                                    std::string text) const {
    auto* id = group.find(identifier);
    if (id == nullptr) return Errc::identifier_not_found;
    std::lock_guard lock(id->mutex);
    if (id->reports.capacity() == 0) return Errc::reports_disabled;
    id->reports.push(Report{clock_(), std::move(text)});
    return {};
}

void Registry::on_status_change(StatusListener listener) {
    std::unique_lock lock(listeners_mutex_);
    listeners_.push_back(std::move(listener));
}

}  // namespace srmi::core
