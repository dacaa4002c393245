// Metrics: counters are plain relaxed atomics in tables sized at start-up, so
// recording never locks or allocates; rendering walks them, the registry and
// /proc/self, writing the text format by hand (it is a few lines of syntax).
#include "server/observe/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "version.h"

namespace srmi::server {

namespace {

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

constexpr std::array<std::string_view, 8> kTransports = {"udp",   "unix", "tcp",      "http",
                                                         "https", "sse",  "rabbitmq", "kafka"};
constexpr std::string_view kOtherTransport = "other";

/// Upper bounds of the duration buckets, in nanoseconds and as `le` labels.
struct Bucket {
    std::int64_t nanos;
    std::string_view le;
};
constexpr std::array<Bucket, 16> kBuckets = {{
    {100'000, "0.0001"},
    {250'000, "0.00025"},
    {500'000, "0.0005"},
    {1'000'000, "0.001"},
    {2'500'000, "0.0025"},
    {5'000'000, "0.005"},
    {10'000'000, "0.01"},
    {25'000'000, "0.025"},
    {50'000'000, "0.05"},
    {100'000'000, "0.1"},
    {250'000'000, "0.25"},
    {500'000'000, "0.5"},
    {1'000'000'000, "1"},
    {2'500'000'000, "2.5"},
    {5'000'000'000, "5"},
    {10'000'000'000, "10"},
}};

constexpr int kNoCode = -2147483647 - 1;  // marks a free code slot; no JSON-RPC code

// --- writing the format ---------------------------------------------------------

void append_number(std::string& out, std::uint64_t value) {
    std::array<char, 24> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
    out.append(buffer.data(), end);
}

void append_number(std::string& out, std::int64_t value) {
    std::array<char, 24> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
    out.append(buffer.data(), end);
}

void append_number(std::string& out, double value) {
    std::array<char, 32> buffer{};
    const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
    out.append(buffer.data(), end);
}

/// Nanoseconds as seconds, exactly: "12.000340500".
void append_seconds(std::string& out, std::uint64_t nanos) {
    append_number(out, nanos / 1'000'000'000);
    std::array<char, 10> fraction{};
    auto rest = nanos % 1'000'000'000;
    fraction[0] = '.';
    for (std::size_t i = 9; i > 0; --i) {
        fraction[i] = static_cast<char>('0' + rest % 10);
        rest /= 10;
    }
    out.append(fraction.data(), fraction.size());
}

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample_name(std::string& out, std::string_view name, Labels labels) {
    out.append(name);
    if (labels.size() == 0) return;
    out.push_back('{');
    bool first = true;
    for (const auto& [label, value] : labels) {
        if (!first) out.push_back(',');
        first = false;
        out.append(label).append("=\"").append(escape_label_value(value)).append("\"");
    }
    out.push_back('}');
}

template <class Number>
void sample(std::string& out, std::string_view name, Labels labels, Number value) {
    sample_name(out, name, labels);
    out.push_back(' ');
    append_number(out, value);
    out.push_back('\n');
}

/// One sample per broker subscriber (rabbitmq:, kafka:), labelled with its
/// event and its socket without a password: whether it is connected, what the
/// broker confirmed, what it dropped.
void render_broker_subscribers(std::string& out, const core::EventHub& hub) {
    struct Row {
        std::string event;
        core::SinkHealth health;
        std::uint64_t dropped;
    };
    std::vector<Row> rows;
    for (auto& entry : hub.subscribers()) {
        for (auto& s : entry.subscribers) {
            if (s.health) rows.push_back(Row{entry.event.name, std::move(*s.health), s.dropped});
        }
    }
    if (rows.empty()) return;
    family(out, "srmi_event_broker_connected", "gauge",
           "1 while a broker subscriber holds a working connection to its broker, else 0.");
    for (const auto& r : rows) {
        sample(out, "srmi_event_broker_connected", {{"event", r.event}, {"socket", r.health.shown}},
               std::uint64_t{r.health.connected ? 1U : 0U});
    }
    family(out, "srmi_event_broker_confirmed_total", "counter",
           "Events a broker subscriber's broker confirmed (publisher confirms, delivery reports).");
    for (const auto& r : rows) {
        sample(out, "srmi_event_broker_confirmed_total",
               {{"event", r.event}, {"socket", r.health.shown}}, r.health.confirmed);
    }
    family(out, "srmi_event_broker_dropped_total", "counter",
           "Events a broker subscriber dropped: its queue full while the broker was slow or "
           "away, refused by the broker, or given up at shutdown.");
    for (const auto& r : rows) {
        sample(out, "srmi_event_broker_dropped_total",
               {{"event", r.event}, {"socket", r.health.shown}}, r.dropped);
    }
}

// --- /proc/self -----------------------------------------------------------------

struct ProcessStats {
    std::optional<double> cpu_seconds;
    std::optional<double> start_time;
    std::optional<std::uint64_t> resident_bytes;
    std::optional<std::uint64_t> open_fds;
};

std::optional<std::int64_t> boot_time() {
    std::ifstream stat("/proc/stat");
    std::string line;
    while (std::getline(stat, line)) {
        if (line.rfind("btime ", 0) == 0) return std::strtoll(line.c_str() + 6, nullptr, 10);
    }
    return std::nullopt;
}

ProcessStats process_stats() {
    ProcessStats stats;
    const long ticks = ::sysconf(_SC_CLK_TCK);
    const long page = ::sysconf(_SC_PAGESIZE);

    std::ifstream file("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    // The command name, field 2, is in parentheses and may hold anything:
    // the fields counted here start after its last ')'.
    const auto close = text.rfind(')');
    if (close != std::string::npos && ticks > 0) {
        std::istringstream rest(text.substr(close + 1));
        std::vector<std::string> fields;  // fields[0] is field 3, state
        for (std::string field; rest >> field;) fields.push_back(std::move(field));
        if (fields.size() > 21) {
            const auto number = [&](std::size_t field) {
                return std::strtoull(fields[field - 3].c_str(), nullptr, 10);
            };
            stats.cpu_seconds =
                static_cast<double>(number(14) + number(15)) / static_cast<double>(ticks);
            if (auto booted = boot_time()) {
                stats.start_time = static_cast<double>(*booted) +
                                   static_cast<double>(number(22)) / static_cast<double>(ticks);
            }
            if (page > 0) stats.resident_bytes = number(24) * static_cast<std::uint64_t>(page);
        }
    }

    if (DIR* dir = ::opendir("/proc/self/fd")) {
        const int own = ::dirfd(dir);  // open only to be read here: not counted
        std::uint64_t count = 0;
        while (const dirent* entry = ::readdir(dir)) {
            if (entry->d_name[0] == '.') continue;
            if (std::atoi(entry->d_name) == own) continue;
            ++count;
        }
        ::closedir(dir);
        stats.open_fds = count;
    }
    return stats;
}

/// Length of the UTF-8 sequence starting at `text[i]`, or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;  // bounds of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;   // overlong
        if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;   // overlong
        if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return length;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size();) {
        const char c = value[i];
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            const auto length = utf8_length(value, i);
            if (length == 0) {
                out += "\xEF\xBF\xBD";  // U+FFFD
                ++i;
                continue;
            }
            out.append(value.substr(i, length));
            i += length;
            continue;
        }
        ++i;
    }
    return out;
}

// --- counters -------------------------------------------------------------------

struct Metrics::MethodStats {
    struct CodeSlot {
        std::atomic<int> code{kNoCode};
        std::atomic<std::uint64_t> count{0};
    };

    explicit MethodStats(std::string n) : name(std::move(n)) {}

    void count_code(int code) noexcept {
        for (auto& slot : codes) {
            int seen = slot.code.load(std::memory_order_relaxed);
            // A free slot is claimed; if another thread claimed it first, `seen` is its code.
            if (seen == kNoCode &&
                slot.code.compare_exchange_strong(seen, code, std::memory_order_relaxed)) {
                seen = code;
            }
            if (seen == code) {
                slot.count.fetch_add(1, std::memory_order_relaxed);
                return;
            }
        }
        other_codes.fetch_add(1, std::memory_order_relaxed);
    }

    const std::string name;
    std::array<CodeSlot, kCodesPerMethod> codes{};
    std::atomic<std::uint64_t> other_codes{0};
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1>
        buckets{};  // last: above every bound
    std::atomic<std::uint64_t> sum_nanos{0};
};

Metrics::Metrics(MetricSources sources)
    : sources_(std::move(sources)),
      deliveries_((sources_.hub.events().size() + 1) * (kTransports.size() + 1)) {
    for (const auto& name : sources_.methods) {
        const bool known = std::any_of(methods_.begin(), methods_.end(),
                                       [&](const auto& m) { return m->name == name; });
        if (!known && !name.empty()) methods_.push_back(std::make_unique<MethodStats>(name));
    }
    methods_.push_back(std::make_unique<MethodStats>(""));  // requests that called no method
    for (const auto& m : methods_) by_name_.emplace_back(m->name, m.get());
    std::sort(by_name_.begin(), by_name_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& event : sources_.hub.events()) events_.push_back(event.name);
}

Metrics::~Metrics() = default;

Metrics::MethodStats& Metrics::stats_for(std::string_view method) noexcept {
    const auto it = std::lower_bound(
        by_name_.begin(), by_name_.end(), method,
        [](const auto& entry, std::string_view name) { return entry.first < name; });
    if (it != by_name_.end() && it->first == method) return *it->second;
    return *methods_.back();
}

void Metrics::record_call(std::string_view method, int code,
                          std::chrono::nanoseconds elapsed) noexcept {
    auto& stats = stats_for(method);
    stats.count_code(code);
    const auto nanos = std::max<std::int64_t>(elapsed.count(), 0);
    const auto bucket = std::find_if(kBuckets.begin(), kBuckets.end(),
                                     [&](const Bucket& b) { return nanos <= b.nanos; }) -
                        kBuckets.begin();
    stats.buckets[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    stats.sum_nanos.fetch_add(static_cast<std::uint64_t>(nanos), std::memory_order_relaxed);
}

void Metrics::record_status_change() noexcept {
    status_changes_.fetch_add(1, std::memory_order_relaxed);
}

std::atomic<std::uint64_t>& Metrics::delivery_counter(int event_id,
                                                      std::string_view transport) noexcept {
    const auto event = event_id >= 0 && static_cast<std::size_t>(event_id) < events_.size()
                           ? static_cast<std::size_t>(event_id)
                           : events_.size();
    const auto t = static_cast<std::size_t>(
        std::find(kTransports.begin(), kTransports.end(), transport) - kTransports.begin());
    return deliveries_[event * (kTransports.size() + 1) + t];
}

void Metrics::record_delivery(int event_id, std::string_view transport) noexcept {
    delivery_counter(event_id, transport).fetch_add(1, std::memory_order_relaxed);
}

// --- exposition -----------------------------------------------------------------

std::string Metrics::render() const {
    std::string out;
    out.reserve(8192);

    family(out, "srmi_build_info", "gauge", "Always 1; the labels name the running build.");
    sample(out, "srmi_build_info", {{"version", kVersion}}, std::int64_t{1});

    const auto groups = sources_.registry.list_status();
    family(out, "srmi_status", "gauge", "Status of each identifier: > 0 ready, < 0 not ready.");
    for (const auto& g : groups) {
        for (const auto& id : g.identifiers) {
            sample(out, "srmi_status", {{"group", g.name}, {"identifier", id.name}},
                   std::int64_t{id.status});
        }
    }
    family(out, "srmi_ready", "gauge", "1 when the identifier is ready (status > 0), else 0.");
    for (const auto& g : groups) {
        for (const auto& id : g.identifiers) {
            sample(out, "srmi_ready", {{"group", g.name}, {"identifier", id.name}},
                   std::int64_t{id.ready() ? 1 : 0});
        }
    }
    family(out, "srmi_ready_ratio", "gauge",
           "Of the time in the window (1h, 24h, 7d) when the status was known, the fraction it "
           "was ready, from the status history; identifier \"all\" is the group. Absent while "
           "nothing in the window is known.");
    for (const auto& g : sources_.registry.availability()) {
        for (const auto& member : g.members) {
            for (std::size_t w = 0; w < core::kAvailabilityWindowCount; ++w) {
                const auto ratio = member.windows[w].ratio();
                if (!ratio) continue;
                sample(out, "srmi_ready_ratio",
                       {{"group", g.name},
                        {"identifier", member.name},
                        {"window", core::kAvailabilityWindows[w].name}},
                       *ratio);
            }
        }
    }
    family(out, "srmi_reports_total", "counter",
           "Reports added to each identifier since it was created or restored.");
    for (const auto& g : groups) {
        for (const auto& id : g.identifiers) {
            sample(out, "srmi_reports_total", {{"group", g.name}, {"identifier", id.name}},
                   id.reports_added);
        }
    }

    family(out, "srmi_status_changes_total", "counter", "Status changes of any identifier.");
    sample(out, "srmi_status_changes_total", {}, status_changes_.load(std::memory_order_relaxed));

    family(out, "srmi_rpc_requests_total", "counter",
           "JSON-RPC requests by method and result code (0: success); method \"\" when none was "
           "called.");
    for (const auto& m : methods_) {
        for (const auto& slot : m->codes) {
            const auto count = slot.count.load(std::memory_order_relaxed);
            if (count == 0) continue;
            const auto code = std::to_string(slot.code.load(std::memory_order_relaxed));
            sample(out, "srmi_rpc_requests_total", {{"method", m->name}, {"code", code}}, count);
        }
        if (const auto other = m->other_codes.load(std::memory_order_relaxed); other != 0) {
            sample(out, "srmi_rpc_requests_total", {{"method", m->name}, {"code", "other"}}, other);
        }
    }

    family(out, "srmi_rpc_duration_seconds", "histogram",
           "Time taken to handle a JSON-RPC request, by method.");
    for (const auto& m : methods_) {
        std::array<std::uint64_t, kBuckets.size() + 1> counts{};
        for (std::size_t i = 0; i < counts.size(); ++i)
            counts[i] = m->buckets[i].load(std::memory_order_relaxed);
        std::uint64_t total = 0;
        for (auto c : counts) total += c;
        if (total == 0) continue;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += counts[i];
            sample(out, "srmi_rpc_duration_seconds_bucket",
                   {{"method", m->name}, {"le", kBuckets[i].le}}, cumulative);
        }
        // +Inf and _count come from the same reads, so they always agree.
        sample(out, "srmi_rpc_duration_seconds_bucket", {{"method", m->name}, {"le", "+Inf"}},
               total);
        sample_name(out, "srmi_rpc_duration_seconds_sum", {{"method", m->name}});
        out.push_back(' ');
        append_seconds(out, m->sum_nanos.load(std::memory_order_relaxed));
        out.push_back('\n');
        sample(out, "srmi_rpc_duration_seconds_count", {{"method", m->name}}, total);
    }

    family(out, "srmi_http_connections", "gauge",
           "Open HTTP client connections, event streams included.");
    sample(out, "srmi_http_connections", {},
           std::max<std::int64_t>(sources_.connections ? sources_.connections() : 0, 0));
    family(out, "srmi_connections_rejected_total", "counter",
           "Client connections closed at accept because max_connections were open.");
    sample(out, "srmi_connections_rejected_total", {},
           sources_.connections_rejected ? sources_.connections_rejected() : std::uint64_t{0});

    family(out, "srmi_event_deliveries_total", "counter",
           "Raised events handed to a subscriber or an event stream, by event and transport.");
    for (std::size_t e = 0; e <= events_.size(); ++e) {
        const std::string_view event =
            e < events_.size() ? std::string_view(events_[e]) : std::string_view{};
        for (std::size_t t = 0; t <= kTransports.size(); ++t) {
            const auto count =
                deliveries_[e * (kTransports.size() + 1) + t].load(std::memory_order_relaxed);
            if (count == 0) continue;
            const auto transport = t < kTransports.size() ? kTransports[t] : kOtherTransport;
            sample(out, "srmi_event_deliveries_total", {{"event", event}, {"transport", transport}},
                   count);
        }
    }

    family(out, "srmi_event_drops_total", "counter",
           "Events dropped by subscribers and event streams (queue full or delivery failed).");
    sample(out, "srmi_event_drops_total", {}, sources_.hub.dropped_total());
    render_broker_subscribers(out, sources_.hub);
    family(out, "srmi_event_fanout_drops_total", "counter",
           "Status changes never fanned out to their subscribers: the events thread was too far "
           "behind (oldest dropped first).");
    sample(out, "srmi_event_fanout_drops_total", {},
           sources_.fan_outs_dropped ? sources_.fan_outs_dropped() : std::uint64_t{0});

    if (sources_.state_store) {
        const auto store = sources_.state_store();
        family(out, "srmi_state_store_up", "gauge",
               "1 while the shared state store takes writes, 0 while it is unreachable.");
        sample(out, "srmi_state_store_up", {}, std::uint64_t{store.up ? 1U : 0U});
        family(out, "srmi_state_log_applied", "gauge",
               "Number of the last change of the shared log applied by this instance.");
        sample(out, "srmi_state_log_applied", {}, store.applied);
        family(out, "srmi_state_commits_total", "counter",
               "Transactions (group commits) this instance committed to the shared store.");
        sample(out, "srmi_state_commits_total", {}, store.commits);
        family(out, "srmi_state_changes_committed_total", "counter",
               "Changes held by those transactions.");
        sample(out, "srmi_state_changes_committed_total", {}, store.changes);
        family(out, "srmi_cluster_leader", "gauge",
               "1 on the one instance of the cluster that expires leases.");
        sample(out, "srmi_cluster_leader", {}, std::uint64_t{store.leader ? 1U : 0U});
    }

    const auto process = process_stats();
    if (process.cpu_seconds) {
        family(out, "process_cpu_seconds_total", "counter",
               "Total user and system CPU time spent in seconds.");
        sample(out, "process_cpu_seconds_total", {}, *process.cpu_seconds);
    }
    if (process.open_fds) {
        family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
        sample(out, "process_open_fds", {}, *process.open_fds);
    }
    if (process.resident_bytes) {
        family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        sample(out, "process_resident_memory_bytes", {}, *process.resident_bytes);
    }
    if (process.start_time) {
        family(out, "process_start_time_seconds", "gauge",
               "Start time of the process since unix epoch in seconds.");
        sample(out, "process_start_time_seconds", {}, *process.start_time);
    }
    return out;
}

Response metrics_response(const Request& request, const Metrics& metrics) {
    if (!is_get_or_head(request)) return method_not_allowed(request, "GET, HEAD");
    return page_response(request, http::status::ok, kContentType, metrics.render());
}

}  // namespace srmi::server
