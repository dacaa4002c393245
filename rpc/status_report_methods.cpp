// The sr_* methods: thin adapters between JSON parameters and core::Registry.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rpc/ctime_format.h"
#include "rpc/json_writer.h"
#include "rpc/methods.h"
#include "rpc/param_values.h"
#include "rpc/status_report_common.h"

namespace srmi::rpc {

namespace {

using namespace detail;


// {"Name":..,"Readiness":..,"Status":..,"Details":..} straight to text: the
// listing of every group can hold hundreds of thousands of these.
void write_status(JsonWriter& w, const core::StatusView& s) {
    w.raw('{').key("Name").string(s.name).raw(',').key("Readiness").boolean(s.ready());
    w.raw(',').key("Status").integer(s.status);
    if (s.details) w.raw(',').key("Details").string(*s.details);
    w.raw('}');
}

// What the listing of every group made of each group, kept while the group's
// version stays: a dashboard polling 10 000 groups re-renders only those that
// changed since its last poll, and the rest is a copy.
struct ListingCache {
    struct Entry {
        std::string name;
        std::optional<std::uint64_t> version;  // of the group `text` was made of; none: not made
        std::string text;                      // {"Name":..,"Identifiers":[..]}
    };
    std::mutex mutex;            // one listing at a time reads and refreshes the entries
    std::vector<Entry> entries;  // in listing (registration) order
};

Reply list_all_status(const core::Registry& registry, ListingCache& cache) {
    std::lock_guard lock(cache.mutex);
    std::size_t next = 0;
    std::optional<std::size_t> open;  // the entry being made
    std::optional<JsonWriter> w;
    bool first_identifier = true;
    auto close = [&] {
        if (open) cache.entries[*open].text += "]}";
        open.reset();
    };
    registry.visit_status(core::StatusVisitor{
        [&](std::string_view group, std::uint64_t version) {
            close();
            if (next == cache.entries.size()) cache.entries.emplace_back();
            auto& entry = cache.entries[next];
            const std::size_t index = next++;
            if (entry.version == version && entry.name == group) return false;
            entry.name.assign(group);
            entry.version = version;
            entry.text.clear();
            w.emplace(entry.text);
            w->raw('{').key("Name").string(group).raw(',').key("Identifiers").raw('[');
            first_identifier = true;
            open = index;
            return true;
        },
        [&](const core::StatusView& s) {
            if (!first_identifier) w->raw(',');
            first_identifier = false;
            write_status(*w, s);
        }});
    close();
    cache.entries.resize(next);  // groups are never removed; kept exact all the same

    std::size_t size = 2;
    for (const auto& entry : cache.entries) size += entry.text.size() + 1;
    RawJson answer;
    answer.text.reserve(size);
    answer.text += '[';
    for (std::size_t i = 0; i < cache.entries.size(); ++i) {
        if (i > 0) answer.text += ',';
        answer.text += cache.entries[i].text;
    }
    answer.text += ']';
    return answer;
}

Json reports_array(const std::vector<core::Report>& reports) {
    Json out = Json::array();
    for (const auto& r : reports) {
        Json entry = Json::object();
        entry["Timestamp"] = r.timestamp;
        entry["Date"] = ctime_string(r.timestamp);
        entry["Log"] = r.log;
        out.push_back(std::move(entry));
    }
    return out;
}

Json identifier_reports_array(const std::vector<core::IdentifierReports>& list) {
    Json out = Json::array();
    for (const auto& id : list) {
        Json entry = Json::object();
        entry["Name"] = id.name;
        entry["Reports"] = reports_array(id.reports);
        out.push_back(std::move(entry));
    }
    return out;
}

Json identifiers_object(const core::GroupIdentifiers& g) {
    Json out = Json::object();
    out["Group"] = g.name;
    out["Identifiers"] = g.identifiers;
    return out;
}


// A registry answer as the result `shape` gives it, or the matching error.
template <class T, class Shape>
Reply shaped(const core::Result<T>& answer, Shape&& shape,
             const char* identifier_message = "Identifier not found") {
    if (!answer) return to_rpc_error(answer.error(), identifier_message);
    return shape(*answer);
}

// Every group as {"Name", "Identifiers": shape(identifiers)}, in registration order.
template <class Groups, class Shape>
Json named_groups(const Groups& groups, Shape&& shape) {
    Json out = Json::array();
    for (const auto& g : groups) {
        Json entry = Json::object();
        entry["Name"] = g.name;
        entry["Identifiers"] = shape(g.identifiers);
        out.push_back(std::move(entry));
    }
    return out;
}

// The optional members of sr_add_identifier's recipes, every subset of them.
std::vector<std::vector<std::string>> add_identifier_recipes() {
    const std::vector<std::string> optional = {"status", "details", "max_reports"};
    std::vector<std::vector<std::string>> out;
    for (unsigned mask = 0; mask < (1U << optional.size()); ++mask) {
        std::vector<std::string> params = {"group", "identifier"};
        for (std::size_t i = 0; i < optional.size(); ++i) {
            if ((mask & (1U << i)) != 0) params.push_back(optional[i]);
        }
        out.push_back(std::move(params));
    }
    return out;
}

constexpr int kMaxReportsLimit = 1'000'000;
constexpr int kMaxTtl = 31'536'000;  // a year of seconds
constexpr const char* kTtlMessage = "Parameter 'ttl' must be an integer from 1 to 31536000";

// The lease a write asks for: 0 without `ttl`, nullopt when `ttl` is not
// a whole number of seconds from 1 to a year.
std::optional<std::int64_t> ttl_of(const Params& p) {
    if (!p.has("ttl")) return 0;
    auto ttl = int_value(p["ttl"]);
    if (!ttl || *ttl < 1 || *ttl > kMaxTtl) return std::nullopt;
    return *ttl;
}


// The types the sr_* methods' parameters and results share.
void add_status_report_schemas(Dispatcher& dispatcher) {
    dispatcher.add_schema({"GroupName", R"yaml(
description: |
  A group name, matched case-insensitively (`CUSTOM` finds `custom`).
  A value that is not a string is accepted by recipe matching but finds
  no group: 404 `Group not found`.
type: string
)yaml"});
    dispatcher.add_schema({"IdentifierName", R"yaml(
description: |
  An identifier name within the group, matched case-insensitively.
  When omitted, `main` is meant. In `sr_get_status`, `all` (any case)
  means the whole group.
type: string
)yaml"});
    dispatcher.add_schema({"TtlParam", R"yaml(
description: |
  srmi's own (not OpenSIPS's), named params only: a lease in seconds.
  Unless the identifier's status is set again within `ttl`, it turns
  -1 with details `expired` and E_CORE_SR_STATUS_CHANGED is raised, so a
  publisher that dies is noticed. A later write without `ttl` ends the
  lease. In a cluster exactly one instance expires it. Anything but an
  integer from 1 to 31536000: -32602 `Parameter 'ttl' must be an integer
  from 1 to 31536000`.
oneOf:
  - type: integer
    minimum: 1
    maximum: 31536000
  - type: string
    pattern: '^[0-9]+$'
)yaml"});
    dispatcher.add_schema({"StatusParam", R"yaml(
description: |
  The new status: a 32-bit integer, or a string holding one in decimal
  (opensips-mi sends every positional value as a string). `< 0` means
  not ready, `> 0` ready. 0 is stored as 1. Anything else:
  -32602 `Parameter 'status' must be an integer`.
oneOf:
  - type: integer
    minimum: -2147483648
    maximum: 2147483647
  - type: string
    pattern: '^\+?-?[0-9]+$'
)yaml"});
    dispatcher.add_schema({"DetailsParam", R"yaml(
description: |
  Free text stored with the status. Setting a status without details
  clears the previous details. Not a string: -32602
  `Parameter 'details' must be a string`.
type: string
)yaml"});
    dispatcher.add_schema({"ReportParam", R"yaml(
description: |
  The report's log text. Not a string: -32602
  `Parameter 'report' must be a string`.
type: string
)yaml"});
    dispatcher.add_schema({"MaxReportsParam", R"yaml(
description: |
  How many reports the identifier keeps (oldest dropped first; default
  50, 0 refuses reports): an integer from 0 to 1000000, or a string
  holding one in decimal. Anything else: -32602
  `Parameter 'max_reports' must be an integer from 0 to 1000000`.
oneOf:
  - type: integer
    minimum: 0
    maximum: 1000000
  - type: string
    pattern: '^\+?[0-9]+$'
)yaml"});
    dispatcher.add_schema({"Readiness", R"yaml(
description: '`Status > 0`.'
type: boolean
)yaml"});
    dispatcher.add_schema({"Status", R"yaml(
description: |
  Non-zero integer: `< 0` not ready, `> 0` ready. In the `core` group:
  -100 none, -1 initializing, 1 running, -2 terminating.
type: integer
)yaml"});
    dispatcher.add_schema({"Details", R"yaml(
description: Free text. The key is absent when the identifier has no details.
type: string
)yaml"});
    dispatcher.add_schema({"IdentifierStatus", R"yaml(
type: object
required: [Name, Readiness, Status]
additionalProperties: false
properties:
  Name:
    type: string
  Readiness:
    $ref: '#/components/schemas/Readiness'
  Status:
    $ref: '#/components/schemas/Status'
  Details:
    $ref: '#/components/schemas/Details'
)yaml"});
    dispatcher.add_schema({"GroupStatus", R"yaml(
type: object
required: [Name, Identifiers]
additionalProperties: false
properties:
  Name:
    type: string
  Identifiers:
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/IdentifierStatus'
)yaml"});
    dispatcher.add_schema({"Report", R"yaml(
type: object
required: [Timestamp, Date, Log]
additionalProperties: false
properties:
  Timestamp:
    description: When the report was added, in seconds since the epoch.
    type: integer
  Date:
    $ref: '#/components/schemas/CtimeDate'
  Log:
    type: string
)yaml"});
    dispatcher.add_schema({"IdentifierReports", R"yaml(
type: object
required: [Name, Reports]
additionalProperties: false
properties:
  Name:
    type: string
  Reports:
    description: Oldest first. At most `max_reports` entries.
    type: array
    items:
      $ref: '#/components/schemas/Report'
)yaml"});
    dispatcher.add_schema({"GroupReports", R"yaml(
type: object
required: [Name, Identifiers]
additionalProperties: false
properties:
  Name:
    type: string
  Identifiers:
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/IdentifierReports'
)yaml"});
    dispatcher.add_schema({"GroupIdentifiers", R"yaml(
type: object
required: [Group, Identifiers]
additionalProperties: false
properties:
  Group:
    description: The group name, spelled as registered.
    type: string
  Identifiers:
    type: array
    minItems: 1
    items:
      type: string
)yaml"});
}

void add_identifier_methods(Dispatcher& dispatcher, core::Registry& registry) {
    auto add = [&registry](const Params& p) -> Reply {
        auto name = string_value(p["identifier"]);
        if (!name || name->empty()) {
            return errors::invalid_params("Parameter 'identifier' must be a non-empty string");
        }
        core::IdentifierSpec spec;
        spec.name = std::string(*name);
        if (p.has("status")) {
            auto status = int_value(p["status"]);
            if (!status) return errors::invalid_params("Parameter 'status' must be an integer");
            spec.status = *status == 0 ? 1 : *status;
        }
        if (p.has("details")) {
            auto details = string_value(p["details"]);
            if (!details) return errors::invalid_params("Parameter 'details' must be a string");
            spec.details = std::string(*details);
        }
        if (p.has("max_reports")) {
            auto max = int_value(p["max_reports"]);
            if (!max || *max < 0 || *max > kMaxReportsLimit) {
                return errors::invalid_params(
                    "Parameter 'max_reports' must be an integer from 0 to 1000000");
            }
            spec.max_reports = static_cast<std::size_t>(*max);
        }
        auto ttl = ttl_of(p);
        if (!ttl) return errors::invalid_params(kTtlMessage);
        spec.ttl = *ttl;
        return with_group(p, [&](std::string_view group) -> Reply {
            auto done = registry.add_identifier(group, std::move(spec));
            if (!done) return to_rpc_error(done.error());
            return "OK";
        });
    };
    Method add_method{
        .name = "sr_add_identifier",
        .help = "adds an identifier to a public group (optional status, details, max_reports)",
        .role = Role::kWrite,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", R"yaml(
description: The new identifier's name, a non-empty string (else -32602 `Parameter 'identifier' must be a non-empty string`).
type: string
minLength: 1
)yaml"},
                   {"status", schema_ref("StatusParam")},
                   {"details", schema_ref("DetailsParam")},
                   {"max_reports", schema_ref("MaxReportsParam")},
                   {"ttl", schema_ref("TtlParam")}},
        .result = schema_ref("OkResult"),
        .errors = {invalid_params_doc("Parameter 'identifier' must be a non-empty string"),
                   invalid_params_doc(kTtlMessage),
                   invalid_params_doc("Parameter 'status' must be an integer"),
                   invalid_params_doc("Parameter 'details' must be a string"),
                   invalid_params_doc(
                       "Parameter 'max_reports' must be an integer from 0 to 1000000"),
                   group_not_found_doc(),
                   forbidden_doc(),
                   {409, "Identifier already exists", "",
                    "the group already has the identifier (names are case-insensitive)"}},
        .description =
            "Without `status` the identifier starts with status 1 (0 is stored as 1).\n"
            "Only public groups can be written: an internal group such as `core`\n"
            "gives 403 `Forbidden`. An identifier the group already has\n"
            "(case-insensitively) gives 409 `Identifier already exists`.",
    };
    for (auto& params : add_identifier_recipes()) {
        auto with_ttl = params;
        with_ttl.push_back("ttl");
        add_method.recipes.push_back({std::move(params), add});
        add_method.recipes.push_back({std::move(with_ttl), add, true});
    }
    dispatcher.add(std::move(add_method));

    dispatcher.add({
        .name = "sr_remove_identifier",
        .help = "removes an identifier, with its reports, from a public group",
        .recipes = {{{"group", "identifier"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) -> Reply {
                             auto done = registry.remove_identifier(group, identifier_or_main(p));
                             if (!done) return to_rpc_error(done.error());
                             return "OK";
                         });
                     }}},
        .role = Role::kWrite,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")}},
        .result = schema_ref("OkResult"),
        .errors = {group_not_found_doc(),
                   identifier_not_found_doc(),
                   forbidden_doc(),
                   {400, "Cannot remove the last identifier of a group", "",
                    "it is the group's only identifier"}},
        .description = "The identifier's reports go with it. Only public groups can be written\n"
                       "(else 403 `Forbidden`); the last identifier of a group cannot be removed\n"
                       "(400 `Cannot remove the last identifier of a group`).",
    });
}

}  // namespace

void add_status_report_methods(Dispatcher& dispatcher, core::Registry& registry) {
    add_status_report_schemas(dispatcher);

    auto get_status = [&registry](const Params& p) -> Reply {
        return with_group(p, [&](std::string_view group) {
            return shaped(
                registry.status(group, identifier_or_main(p)),
                [](const core::IdentifierStatus& s) -> Reply {
                    // The hottest read of all: written as text, no tree.
                    RawJson answer;
                    JsonWriter w(answer.text);
                    w.raw('{')
                        .key("Readiness")
                        .boolean(s.ready())
                        .raw(',')
                        .key("Status")
                        .integer(s.status);
                    if (s.details) w.raw(',').key("Details").string(*s.details);
                    w.raw('}');
                    return answer;
                },
                "Identity not found");
        });
    };
    dispatcher.add({
        .name = "sr_get_status",
        .help = "gets the status (only) of a 'status-report' group/identifier",
        .recipes = {{{"group"}, get_status}, {{"group", "identifier"}, get_status}},
        .qualified_name = "status_report:get",
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")}},
        .result = R"yaml(
description: |
  The status of one identifier (`main` when no identifier is named).
  For identifier `all`, the group aggregate: `Status` 1 if no
  identifier is negative, else -1, and `Details` `aggregated`.
type: object
required: [Readiness, Status]
additionalProperties: false
properties:
  Readiness:
    $ref: '#/components/schemas/Readiness'
  Status:
    $ref: '#/components/schemas/Status'
  Details:
    $ref: '#/components/schemas/Details'
examples:
  - {Readiness: true, Status: 1, Details: running}
)yaml",
        .errors = {group_not_found_doc(), identifier_not_found_doc("Identity not found")},
    });

    auto check_status = [&registry](const Params& p) -> Reply {
        return with_group(p, [&](std::string_view group) {
            return shaped(
                registry.status(group, identifier_or_main(p)),
                [](const auto& s) { return Json(s.status); }, "Identity not found");
        });
    };
    dispatcher.add({
        .name = "sr_check_status",
        .help = "returns the status integer of a 'status-report' group/identifier, as the "
                "sr_check_status() script function",
        .recipes = {{{"group"}, check_status}, {{"group", "identifier"}, check_status}},
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")}},
        .result = R"yaml(
description: |
  The identifier's status integer (`main` when no identifier is
  named), as OpenSIPS's `sr_check_status()` script function returns
  it. For identifier `all`, the group aggregate (1 or -1).
$ref: '#/components/schemas/Status'
examples: [1, -1]
)yaml",
        .errors = {group_not_found_doc(), identifier_not_found_doc("Identity not found")},
        .description = "`all` (any case) as identifier means the group aggregate.",
    });

    dispatcher.add({
        .name = "sr_list_status",
        .help = "lists the status of the identifiers of a 'status-report' group, or of all groups",
        .recipes = {{{},
                     [&registry, cache = std::make_shared<ListingCache>()](const Params&) -> Reply {
                         return list_all_status(registry, *cache);
                     }},
                    {{"group"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) -> Reply {
                             RawJson answer;
                             JsonWriter w(answer.text);
                             bool first = true;
                             w.raw('[');
                             auto found =
                                 registry.visit_status(group, [&](const core::StatusView& s) {
                                     if (!first) w.raw(',');
                                     first = false;
                                     write_status(w, s);
                                 });
                             if (!found) return to_rpc_error(found.error());
                             w.raw(']');
                             return answer;
                         });
                     }}},
        .qualified_name = "status_report:status",
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")}},
        .result = R"yaml(
description: |
  Without `group`: one entry per group, in registration order (`core`
  first). With `group`: that group's identifiers, in registration order.
anyOf:
  - title: all groups
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/GroupStatus'
  - title: one group
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/IdentifierStatus'
)yaml",
        .errors = {group_not_found_doc()},
    });

    dispatcher.add({
        .name = "sr_list_reports",
        .help = "lists the reports of a 'status-report' group/identifier, or of all groups",
        .recipes = {{{},
                     [&registry](const Params&) -> Reply {
                         return named_groups(registry.list_reports(), identifier_reports_array);
                     }},
                    {{"group"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) {
                             return shaped(registry.list_reports(group), identifier_reports_array);
                         });
                     }},
                    {{"group", "identifier"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) {
                             return shaped(registry.list_reports(group, identifier_or_main(p)),
                                           reports_array);
                         });
                     }}},
        .qualified_name = "status_report:reports",
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")}},
        .result = R"yaml(
description: |
  Without `group`: one entry per group. With `group`: one entry per
  identifier. With `group` and `identifier`: that identifier's reports,
  oldest first.
anyOf:
  - title: all groups
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/GroupReports'
  - title: one group
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/IdentifierReports'
  - title: one identifier
    type: array
    items:
      $ref: '#/components/schemas/Report'
)yaml",
        .errors = {group_not_found_doc(), identifier_not_found_doc()},
    });

    dispatcher.add({
        .name = "sr_list_identifiers",
        .help = "lists the identifiers of a 'status-report' group, or of all groups",
        .recipes = {{{},
                     [&registry](const Params&) -> Reply {
                         Json out = Json::array();
                         for (const auto& g : registry.list_identifiers()) {
                             out.push_back(identifiers_object(g));
                         }
                         return out;
                     }},
                    {{"group"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) {
                             return shaped(registry.list_identifiers(group), identifiers_object);
                         });
                     }}},
        .qualified_name = "status_report:identifiers",
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")}},
        .result = R"yaml(
description: |
  Without `group`: an array with one entry per group. With `group`: a
  single object (not an array).
oneOf:
  - title: all groups
    type: array
    minItems: 1
    items:
      $ref: '#/components/schemas/GroupIdentifiers'
  - title: one group
    $ref: '#/components/schemas/GroupIdentifiers'
)yaml",
        .errors = {group_not_found_doc()},
    });

    auto set_status = [&registry](const Params& p) -> Reply {
        auto status = int_value(p["status"]);
        if (!status) return errors::invalid_params("Parameter 'status' must be an integer");
        std::optional<std::string> details;
        if (p.has("details")) {
            if (!p["details"].is_string()) {
                return errors::invalid_params("Parameter 'details' must be a string");
            }
            details = p["details"].get<std::string>();
        }
        auto ttl = ttl_of(p);
        if (!ttl) return errors::invalid_params(kTtlMessage);
        return with_group(p, [&](std::string_view group) -> Reply {
            auto done = registry.set_status(group, identifier_or_main(p), *status,
                                            std::move(details), *ttl);
            if (!done) return to_rpc_error(done.error());
            return "OK";
        });
    };
    dispatcher.add({
        .name = "sr_set_status",
        .help = "sets the status (and optional details) of an identifier of a public group",
        .recipes = {{{"group", "status"}, set_status},
                    {{"group", "status", "details"}, set_status},
                    {{"group", "identifier", "status"}, set_status},
                    {{"group", "identifier", "status", "details"}, set_status},
                    {{"group", "status", "ttl"}, set_status, true},
                    {{"group", "status", "details", "ttl"}, set_status, true},
                    {{"group", "identifier", "status", "ttl"}, set_status, true},
                    {{"group", "identifier", "status", "details", "ttl"}, set_status, true}},
        .role = Role::kWrite,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")},
                   {"status", schema_ref("StatusParam")},
                   {"details", schema_ref("DetailsParam")},
                   {"ttl", schema_ref("TtlParam")}},
        .result = schema_ref("OkResult"),
        .errors = {invalid_params_doc("Parameter 'status' must be an integer"),
                   invalid_params_doc(kTtlMessage),
                   invalid_params_doc("Parameter 'details' must be a string"),
                   group_not_found_doc(), identifier_not_found_doc(), forbidden_doc()},
        .description = "Only public groups can be written: an internal group such as `core`\n"
                       "gives 403 `Forbidden`.",
    });

    auto add_report = [&registry](const Params& p) -> Reply {
        if (!p["report"].is_string()) {
            return errors::invalid_params("Parameter 'report' must be a string");
        }
        return with_group(p, [&](std::string_view group) -> Reply {
            auto done =
                registry.add_report(group, identifier_or_main(p), p["report"].get<std::string>());
            if (!done) return to_rpc_error(done.error());
            return "OK";
        });
    };
    dispatcher.add({
        .name = "sr_add_report",
        .help = "adds a report to an identifier of a public group",
        .recipes = {{{"group", "report"}, add_report},
                    {{"group", "identifier", "report"}, add_report}},
        .role = Role::kWrite,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")},
                   {"report", schema_ref("ReportParam")}},
        .result = schema_ref("OkResult"),
        .errors = {invalid_params_doc("Parameter 'report' must be a string"),
                   group_not_found_doc(),
                   identifier_not_found_doc(),
                   forbidden_doc(),
                   {400, "Identifier does not accept reports", "",
                    "the identifier has `max_reports` 0"}},
        .description = "Only public groups can be written (else 403 `Forbidden`).",
    });
    add_identifier_methods(dispatcher, registry);
}

}  // namespace srmi::rpc
