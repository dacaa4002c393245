// sr_status_history and sr_availability: the registry's status history, as
// the changes themselves and as the time ready over the last hour, day, week.
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "rpc/json_writer.h"
#include "rpc/methods.h"
#include "rpc/status_report_common.h"

namespace srmi::rpc {

namespace {

using namespace detail;

constexpr int kMaxLimit = 1'000'000;
constexpr const char* kLimitMessage = "Parameter 'limit' must be an integer from 1 to 1000000";
constexpr const char* kOrderMessage = "Parameter 'until' must not be before 'since'";

// Epoch seconds as a number or as decimal text (opensips-mi sends text), to
// milliseconds; nullopt for anything else, or beyond year 9999.
std::optional<std::int64_t> epoch_ms(const Json& value) {
    double seconds = 0;
    if (value.is_number()) {
        seconds = value.get<double>();
    } else if (auto text = string_value(value)) {
        const auto* end = text->data() + text->size();
        const auto [ptr, ec] = std::from_chars(text->data(), end, seconds);
        if (ec != std::errc{} || ptr != end) return std::nullopt;
    } else {
        return std::nullopt;
    }
    constexpr double kLatest = 253402300799.0;  // 9999-12-31T23:59:59Z
    if (!std::isfinite(seconds) || seconds < 0 || seconds > kLatest) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(seconds * 1000.0));
}

std::string time_message(const char* name) {
    return std::string("Parameter '") + name +
           "' must be a number of seconds since the epoch (0 to 253402300799)";
}

// "2026-12-03T21:00:00.123Z": the `Date` of a history entry. By hand, from
// the calendar of <chrono>: snprintf took a third of a 10 000-change answer.
void write_iso_date(JsonWriter& w, std::int64_t ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> at{milliseconds(ms)};
    const auto day = floor<days>(at);
    const year_month_day date{day};
    const hh_mm_ss time{at - day};
    char buffer[26] = "\"0000-00-00T00:00:00.000Z";
    const auto put = [&buffer](int at_char, int digits, long long value) {
        for (int i = at_char + digits - 1; i >= at_char; --i, value /= 10) {
            buffer[i] = static_cast<char>('0' + value % 10);
        }
    };
    put(1, 4, static_cast<int>(date.year()));
    put(6, 2, static_cast<unsigned>(date.month()));
    put(9, 2, static_cast<unsigned>(date.day()));
    put(12, 2, time.hours().count());
    put(15, 2, time.minutes().count());
    put(18, 2, time.seconds().count());
    put(21, 3, time.subseconds().count());
    w.raw(std::string_view(buffer, sizeof buffer - 1)).raw('"');
}

// Written as text: an answer can hold tens of thousands of entries.
void write_entry(JsonWriter& w, const core::HistoryEntry& entry) {
    const auto& c = entry.change;
    w.raw('{').key("Time").integer(c.at_ms).raw(',').key("Date");
    write_iso_date(w, c.at_ms);
    w.raw(',').key("Identifier").string(entry.identifier).raw(',').key("Old");
    if (c.from) {
        w.integer(*c.from);
    } else {
        w.raw("null");
    }
    w.raw(',').key("Status").integer(c.to).raw(',').key("Readiness").boolean(c.to > 0);
    if (c.details) w.raw(',').key("Details").string(*c.details);
    if (!c.node.empty()) w.raw(',').key("Node").string(c.node);
    w.raw('}');
}

Json window_json(const core::WindowTime& t) {
    Json out = Json::object();
    if (auto ratio = t.ratio()) {
        out["Availability"] = *ratio;
    } else {
        out["Availability"] = nullptr;
    }
    out["Ready"] = static_cast<double>(t.ready_ms) / 1000.0;
    out["NotReady"] = static_cast<double>(t.not_ready_ms) / 1000.0;
    out["Unknown"] = static_cast<double>(t.unknown_ms) / 1000.0;
    return out;
}

Json availability_json(const core::NamedAvailability& a) {
    Json out = Json::object();
    out["Name"] = a.name;
    for (std::size_t w = 0; w < core::kAvailabilityWindowCount; ++w) {
        out[core::kAvailabilityWindows[w].name] = window_json(a.windows[w]);
    }
    return out;
}

Reply status_history(const core::Registry& registry, const Params& p) {
    core::HistoryQuery query;
    if (p.has("since")) {
        auto since = epoch_ms(p["since"]);
        if (!since) return errors::invalid_params(time_message("since"));
        query.since_ms = *since;
    }
    if (p.has("until")) {
        auto until = epoch_ms(p["until"]);
        if (!until) return errors::invalid_params(time_message("until"));
        query.until_ms = *until;
    }
    if (query.until_ms < query.since_ms) return errors::invalid_params(kOrderMessage);
    if (p.has("limit")) {
        auto limit = int_value(p["limit"]);
        if (!limit || *limit < 1 || *limit > kMaxLimit) return errors::invalid_params(kLimitMessage);
        query.limit = static_cast<std::size_t>(*limit);
    }
    return with_group(p, [&](std::string_view group) -> Reply {
        auto changes = registry.status_history(group, identifier_or_main(p), query);
        if (!changes) return to_rpc_error(changes.error());
        RawJson answer;
        answer.text.reserve(changes->size() * 128 + 2);
        JsonWriter w(answer.text);
        w.raw('[');
        for (std::size_t i = 0; i < changes->size(); ++i) {
            if (i > 0) w.raw(',');
            write_entry(w, (*changes)[i]);
        }
        w.raw(']');
        return answer;
    });
}

// [group], then every subset of the optional members in order; only the
// prefixes of [group, identifier, since, until, limit] also match positional
// arrays (the others would be ambiguous by length).
std::vector<Recipe> history_recipes(const Handler& handler) {
    const std::vector<std::string> optional = {"identifier", "since", "until", "limit"};
    std::vector<Recipe> out;
    for (unsigned mask = 0; mask < (1U << optional.size()); ++mask) {
        std::vector<std::string> params = {"group"};
        for (std::size_t i = 0; i < optional.size(); ++i) {
            if ((mask & (1U << i)) != 0) params.push_back(optional[i]);
        }
        const bool prefix = (mask & (mask + 1)) == 0;  // 0b0..01..1
        out.push_back(Recipe{std::move(params), handler, !prefix});
    }
    return out;
}

}  // namespace

void add_history_methods(Dispatcher& dispatcher, core::Registry& registry) {
    dispatcher.add_schema({"HistoryEntry", R"yaml(
type: object
description: |
  One status change. The first entry of an identifier is usually its
  appearance (`Old` null): the time before it is unknown.
required: [Time, Date, Identifier, Old, Status, Readiness]
additionalProperties: false
properties:
  Time:
    description: when it took effect, milliseconds since the epoch
    type: integer
    examples: [1764795600123]
  Date:
    description: '`Time` in UTC, ISO 8601 with milliseconds'
    type: string
    examples: ['2025-12-03T21:00:00.123Z']
  Identifier:
    description: the identifier it belongs to (useful with `all`)
    type: string
  Old:
    description: the status before; null when the identifier appeared
    type: [integer, 'null']
  Status:
    description: the status after
    type: integer
  Readiness:
    description: '`Status` > 0'
    type: boolean
  Details:
    description: the details it was set with (absent when none)
    type: string
  Node:
    description: in a cluster, the instance that took the write
    type: string
)yaml"});
    dispatcher.add_schema({"WindowAvailability", R"yaml(
type: object
required: [Availability, Ready, NotReady, Unknown]
additionalProperties: false
properties:
  Availability:
    description: Ready / (Ready + NotReady); null when nothing in the window is known
    type: [number, 'null']
    minimum: 0
    maximum: 1
  Ready:
    description: seconds ready in the window
    type: number
  NotReady:
    description: seconds not ready in the window
    type: number
  Unknown:
    description: seconds before the first known change (or of a group member not yet known)
    type: number
)yaml"});
    dispatcher.add_schema({"Availability", R"yaml(
type: object
required: [Name, 1h, 24h, 7d]
additionalProperties: false
properties:
  Name:
    description: the identifier, or `all` for the group
    type: string
  1h:
    $ref: '#/components/schemas/WindowAvailability'
  24h:
    $ref: '#/components/schemas/WindowAvailability'
  7d:
    $ref: '#/components/schemas/WindowAvailability'
)yaml"});

    dispatcher.add({
        .name = "sr_status_history",
        .help = "lists the status changes of an identifier (or of a whole group), oldest first",
        .recipes = history_recipes(
            [&registry](const Params& p) -> Reply { return status_history(registry, p); }),
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")},
                   {"since", R"yaml(
description: only changes at or after this time (seconds since the epoch, fractions allowed)
oneOf:
  - type: number
    minimum: 0
  - type: string
)yaml"},
                   {"until", R"yaml(
description: only changes at or before this time (seconds since the epoch, fractions allowed)
oneOf:
  - type: number
    minimum: 0
  - type: string
)yaml"},
                   {"limit", R"yaml(
description: only the newest `limit` changes of the range
oneOf:
  - type: integer
    minimum: 1
    maximum: 1000000
  - type: string
    pattern: '^[0-9]+$'
)yaml"}},
        .result = R"yaml(
description: |
  The changes in time order, newest last: every change of the status
  (never a write that left it as it was), and the identifier's appearance.
  Kept per identifier up to `history_changes` and `history_age`.
type: array
items:
  $ref: '#/components/schemas/HistoryEntry'
)yaml",
        .errors = {invalid_params_doc(time_message("since").c_str()),
                   invalid_params_doc(time_message("until").c_str()),
                   invalid_params_doc(kOrderMessage), invalid_params_doc(kLimitMessage),
                   group_not_found_doc(), identifier_not_found_doc()},
        .description = "`all` (any case) as identifier merges the group's identifiers in time\n"
                       "order; each entry names its identifier.",
    });

    dispatcher.add({
        .name = "sr_availability",
        .help = "tells the time an identifier (or a group) was ready over the last 1h, 24h and 7d",
        .recipes = {{{"group"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) -> Reply {
                             auto all = registry.availability(group);
                             if (!all) return to_rpc_error(all.error());
                             Json out = Json::array();
                             for (const auto& a : *all) out.push_back(availability_json(a));
                             return out;
                         });
                     }},
                    {{"group", "identifier"},
                     [&registry](const Params& p) -> Reply {
                         return with_group(p, [&](std::string_view group) -> Reply {
                             auto one = registry.availability(group, identifier_or_main(p));
                             if (!one) return to_rpc_error(one.error());
                             return availability_json(*one);
                         });
                     }}},
        .role = Role::kRead,
        .params = {{"group", schema_ref("GroupName")},
                   {"identifier", schema_ref("IdentifierName")}},
        .result = R"yaml(
description: |
  From the status history, over the hour, day and week ending now. Time
  before an identifier's first known change is unknown, not ready. For
  `all` the group is not ready while any identifier is, else unknown
  while any is unknown, else ready. With `group` only: the group's `all`
  first, then each identifier in registration order.
anyOf:
  - title: one identifier or all
    $ref: '#/components/schemas/Availability'
  - title: the group and each identifier
    type: array
    minItems: 2
    items:
      $ref: '#/components/schemas/Availability'
)yaml",
        .errors = {group_not_found_doc(), identifier_not_found_doc()},
    });
}

}  // namespace srmi::rpc
