// GET /metrics: the counters without sockets, then the real server scraped
// after real traffic, every answer checked by a strict parser of the text
// exposition format 0.0.4.
#include "server/observe/metrics.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/event_hub.h"
#include "core/registry.h"
#include "tests/support/rpc_over_http.h"
#include "tests/support/test_server.h"
#include "tests/support/udp_receiver.h"
#include "tests/support/wait_until.h"
#include "version.h"

namespace {

using srmi::test::wait_until;

using nlohmann::json;
using srmi::test::HttpClient;
using srmi::test::TestServer;
namespace http = boost::beast::http;

// --- a strict reader of the text format ----------------------------------------

using LabelSet = std::map<std::string, std::string>;

struct Sample {
    std::string name;
    LabelSet labels;
    double value = 0;
};

struct Family {
    std::string help;
    std::string type;
    std::vector<Sample> samples;
};

/// What parse() read; throws std::runtime_error naming the line for anything
/// the format (or good practice it states) does not allow.
struct Exposition {
    std::map<std::string, Family> families;

    std::optional<double> value(const std::string& name, const LabelSet& labels = {}) const {
        for (const auto& [family_name, family] : families) {
            for (const auto& s : family.samples) {
                if (s.name == name && s.labels == labels) return s.value;
            }
        }
        return std::nullopt;
    }
    /// 0 when the series is absent: counters with labels appear on first use.
    double counter(const std::string& name, const LabelSet& labels = {}) const {
        return value(name, labels).value_or(0);
    }
};

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");

double parse_value(const std::string& text) {
    if (text == "+Inf") return INFINITY;
    if (text == "-Inf") return -INFINITY;
    if (text == "NaN") return NAN;
    if (text.empty() ||
        !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-' || text[0] == '+')) {
        throw std::runtime_error("bad value '" + text + "'");
    }
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) throw std::runtime_error("bad value '" + text + "'");
    return v;
}

/// `{a="x",b="y"}` starting at text[i] == '{'; leaves i after the '}'.
LabelSet parse_labels(const std::string& text, std::size_t& i) {
    LabelSet labels;
    ++i;  // '{'
    if (i < text.size() && text[i] == '}') throw std::runtime_error("empty label braces");
    for (;;) {
        const auto eq = text.find('=', i);
        if (eq == std::string::npos) throw std::runtime_error("label without '='");
        const auto name = text.substr(i, eq - i);
        if (!std::regex_match(name, kLabelName))
            throw std::runtime_error("bad label name '" + name + "'");
        if (name.rfind("__", 0) == 0)
            throw std::runtime_error("reserved label name '" + name + "'");
        i = eq + 1;
        if (i >= text.size() || text[i] != '"') throw std::runtime_error("label value not quoted");
        ++i;
        std::string value;
        for (;;) {
            if (i >= text.size()) throw std::runtime_error("unterminated label value");
            const char c = text[i++];
            if (c == '"') break;
            if (c == '\n') throw std::runtime_error("raw newline in label value");
            if (c != '\\') {
                value += c;
                continue;
            }
            if (i >= text.size()) throw std::runtime_error("dangling backslash");
            const char e = text[i++];
            if (e == '\\')
                value += '\\';
            else if (e == '"')
                value += '"';
            else if (e == 'n')
                value += '\n';
            else
                throw std::runtime_error(std::string("bad escape \\") + e);
        }
        if (!labels.emplace(name, value).second)
            throw std::runtime_error("label '" + name + "' twice");
        if (i >= text.size()) throw std::runtime_error("unterminated labels");
        if (text[i] == '}') {
            ++i;
            return labels;
        }
        if (text[i] != ',') throw std::runtime_error("expected ',' or '}' after a label");
        ++i;
    }
}

/// The family a sample name belongs to, given the types declared so far.
std::string family_of(const std::string& name, const std::map<std::string, Family>& families) {
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            const auto base = name.substr(0, name.size() - suffix.size());
            const auto it = families.find(base);
            if (it != families.end() &&
                (it->second.type == "histogram" || it->second.type == "summary"))
                return base;
        }
    }
    return name;
}

void check_histograms(const std::string& name, const Family& family) {
    // Series by their labels without `le`.
    std::map<LabelSet, std::vector<std::pair<double, double>>> buckets;
    std::map<LabelSet, double> counts;
    std::map<LabelSet, double> sums;
    for (const auto& s : family.samples) {
        auto labels = s.labels;
        if (s.name == name + "_bucket") {
            const auto le = labels.find("le");
            if (le == labels.end()) throw std::runtime_error(name + ": bucket without le");
            const double bound = parse_value(le->second);
            labels.erase(le);
            buckets[labels].emplace_back(bound, s.value);
        } else if (s.name == name + "_count") {
            counts[labels] = s.value;
        } else if (s.name == name + "_sum") {
            sums[labels] = s.value;
        } else {
            throw std::runtime_error(name + ": unexpected sample " + s.name);
        }
    }
    for (const auto& [labels, list] : buckets) {
        for (std::size_t i = 1; i < list.size(); ++i) {
            if (!(list[i].first > list[i - 1].first))
                throw std::runtime_error(name + ": le not increasing");
            if (list[i].second < list[i - 1].second)
                throw std::runtime_error(name + ": buckets not cumulative");
        }
        if (list.empty() || !std::isinf(list.back().first))
            throw std::runtime_error(name + ": no +Inf bucket");
        if (counts.count(labels) == 0 || counts[labels] != list.back().second) {
            throw std::runtime_error(name + ": +Inf bucket differs from _count");
        }
        if (sums.count(labels) == 0 || sums[labels] < 0)
            throw std::runtime_error(name + ": no or negative _sum");
    }
    if (counts.size() != buckets.size() || sums.size() != buckets.size()) {
        throw std::runtime_error(name + ": _count or _sum without buckets");
    }
}

Exposition parse(const std::string& text) {
    Exposition out;
    if (text.empty() || text.back() != '\n')
        throw std::runtime_error("does not end with a newline");
    std::string current;             // the family whose lines we are in
    std::set<std::string> finished;  // families left: none may come back
    std::set<std::pair<std::string, LabelSet>> seen;
    std::size_t line_no = 0;
    std::size_t start = 0;
    auto enter = [&](const std::string& family) {
        if (family == current) return;
        if (finished.count(family) != 0)
            throw std::runtime_error("family " + family + " split in two");
        if (!current.empty()) finished.insert(current);
        current = family;
    };
    while (start < text.size()) {
        const auto end = text.find('\n', start);
        const auto line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        try {
            if (line.empty()) throw std::runtime_error("empty line");
            if (line[0] == '#') {
                const bool help = line.rfind("# HELP ", 0) == 0;
                const bool type = line.rfind("# TYPE ", 0) == 0;
                if (!help && !type) continue;  // a comment
                const auto rest = line.substr(7);
                const auto space = rest.find(' ');
                if (space == std::string::npos)
                    throw std::runtime_error("HELP or TYPE without text");
                const auto name = rest.substr(0, space);
                const auto what = rest.substr(space + 1);
                if (!std::regex_match(name, kMetricName))
                    throw std::runtime_error("bad metric name " + name);
                enter(name);
                auto& family = out.families[name];
                if (!family.samples.empty()) throw std::runtime_error("HELP or TYPE after samples");
                if (help) {
                    if (!family.help.empty()) throw std::runtime_error("HELP twice");
                    if (what.empty()) throw std::runtime_error("empty HELP");
                    for (std::size_t i = 0; i < what.size(); ++i) {
                        if (what[i] == '\\' &&
                            (i + 1 == what.size() || (what[i + 1] != '\\' && what[i + 1] != 'n'))) {
                            throw std::runtime_error("bad escape in HELP");
                        }
                        if (what[i] == '\\') ++i;
                    }
                    family.help = what;
                } else {
                    if (!family.type.empty()) throw std::runtime_error("TYPE twice");
                    static const std::set<std::string> kTypes{"counter", "gauge", "histogram",
                                                              "summary", "untyped"};
                    if (kTypes.count(what) == 0) throw std::runtime_error("unknown type " + what);
                    family.type = what;
                }
                continue;
            }
            std::size_t i = 0;
            while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
            Sample s;
            s.name = line.substr(0, i);
            if (!std::regex_match(s.name, kMetricName))
                throw std::runtime_error("bad metric name " + s.name);
            if (i < line.size() && line[i] == '{') s.labels = parse_labels(line, i);
            if (i >= line.size() || line[i] != ' ')
                throw std::runtime_error("expected one space before the value");
            ++i;
            const auto value_text = line.substr(i);
            if (value_text.find(' ') != std::string::npos)
                throw std::runtime_error("extra field (timestamp?)");
            s.value = parse_value(value_text);

            const auto family_name = family_of(s.name, out.families);
            enter(family_name);
            auto& family = out.families[family_name];
            if (family.help.empty() || family.type.empty())
                throw std::runtime_error("sample before HELP and TYPE");
            if (family.type == "counter" && !(s.value >= 0))
                throw std::runtime_error("negative counter");
            if (family.type == "histogram" && s.labels.count("le") != 0 &&
                s.name != family_name + "_bucket") {
                throw std::runtime_error("le outside a bucket");
            }
            if (!seen.emplace(s.name, s.labels).second) throw std::runtime_error("series twice");
            family.samples.push_back(std::move(s));
        } catch (const std::runtime_error& e) {
            throw std::runtime_error("line " + std::to_string(line_no) + " '" + line +
                                     "': " + e.what());
        }
    }
    for (const auto& [name, family] : out.families) {
        if (family.help.empty() || family.type.empty())
            throw std::runtime_error(name + ": no HELP or no TYPE");
        if (family.type == "histogram") check_histograms(name, family);
    }
    return out;
}

Exposition parse_checked(const std::string& text) {
    try {
        return parse(text);
    } catch (const std::runtime_error& e) {
        FAIL_CHECK(e.what() << "\n---\n" << text);
        throw;
    }
}

// --- helpers for the wire tests --------------------------------------------------

using srmi::test::call;
using srmi::test::result;
using srmi::test::UdpReceiver;

Exposition scrape(HttpClient& client) {
    auto res = client.request(http::verb::get, "/metrics", {}, {});
    REQUIRE(res.result_int() == 200);
    return parse_checked(res.body());
}

/// A sink that only counts, as a stand-in transport in the unit tests.
struct NullSink : srmi::core::EventSink {
    void push(srmi::core::EventPayload) override {}
    std::uint64_t dropped() const override { return drops; }
    void close() override {}
    std::uint64_t drops = 0;
};

}  // namespace

TEST_CASE("metric label values are escaped as the text format requires") {
    using srmi::server::escape_label_value;
    CHECK(escape_label_value("plain") == "plain");
    CHECK(escape_label_value("a\"b") == "a\\\"b");
    CHECK(escape_label_value("a\\b") == "a\\\\b");
    CHECK(escape_label_value("a\nb") == "a\\nb");
    CHECK(escape_label_value("tab\there") == "tab\there");  // only these three are escaped
    CHECK(escape_label_value("caf\xC3\xA9") == "caf\xC3\xA9");
    CHECK(escape_label_value("bad\xFF") == "bad\xEF\xBF\xBD");
    CHECK(escape_label_value("cut\xC3") == "cut\xEF\xBF\xBD");
    CHECK(escape_label_value("\xED\xA0\x80") ==
          "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST_CASE("metric counters keep every label set bounded") {
    srmi::core::Registry registry;
    registry.add_group("g\"1", srmi::core::Visibility::kPublic,
                       {srmi::core::IdentifierSpec{"back\\slash\nnew line", -2, std::nullopt, 1}});
    registry.add_report("g\"1", "back\\slash\nnew line", "one");
    registry.add_report("g\"1", "back\\slash\nnew line", "two");  // the ring of 1 wraps
    auto sink = std::make_shared<NullSink>();
    srmi::core::EventHub hub(
        [sink](std::string_view) { return std::shared_ptr<srmi::core::EventSink>(sink); });
    const int event = hub.publish("E_ONE");
    hub.publish("E_TWO");
    REQUIRE(std::holds_alternative<srmi::core::SubscribeOutcome>(hub.subscribe("E_ONE", "x", 60)));
    srmi::server::Metrics metrics({registry,
                                   hub,
                                   {"a", "b"},
                                   [] { return std::int64_t{3}; },
                                   nullptr,
                                   [] { return std::uint64_t{7}; }});

    metrics.record_call("a", 0, std::chrono::microseconds(100));  // on the bound: le="0.0001"
    metrics.record_call("a", 0, std::chrono::microseconds(101));
    metrics.record_call("a", 404, std::chrono::seconds(11));  // above every bound
    metrics.record_call("client-invented", -32601, std::chrono::microseconds(1));
    for (int code = 1; code <= 20; ++code)
        metrics.record_call("b", code, std::chrono::microseconds(1));
    metrics.record_delivery(event, "udp");
    metrics.record_delivery(event, "carrier-pigeon");
    metrics.record_delivery(1, "sse");   // an event nobody subscribed to, still named
    metrics.record_delivery(42, "sse");  // never published
    metrics.record_status_change();
    sink->drops = 5;

    const auto text = metrics.render();
    const auto m = parse_checked(text);
    CHECK(m.value("srmi_status", {{"group", "g\"1"}, {"identifier", "back\\slash\nnew line"}}) ==
          -2);
    CHECK(m.value("srmi_ready", {{"group", "g\"1"}, {"identifier", "back\\slash\nnew line"}}) == 0);
    CHECK(m.value("srmi_reports_total",
                  {{"group", "g\"1"}, {"identifier", "back\\slash\nnew line"}}) == 2);
    CHECK(text.find(R"(srmi_status{group="g\"1",identifier="back\\slash\nnew line"} -2)") !=
          std::string::npos);
    CHECK(m.value("srmi_rpc_requests_total", {{"method", "a"}, {"code", "0"}}) == 2);
    CHECK(m.value("srmi_rpc_requests_total", {{"method", "a"}, {"code", "404"}}) == 1);
    CHECK(m.value("srmi_rpc_requests_total", {{"method", ""}, {"code", "-32601"}}) == 1);
    CHECK(m.value("srmi_rpc_requests_total", {{"method", "b"}, {"code", "16"}}) == 1);
    CHECK_FALSE(m.value("srmi_rpc_requests_total", {{"method", "b"}, {"code", "17"}}));
    CHECK(m.value("srmi_rpc_requests_total", {{"method", "b"}, {"code", "other"}}) == 4);
    CHECK(m.value("srmi_rpc_duration_seconds_bucket", {{"method", "a"}, {"le", "0.0001"}}) == 1);
    CHECK(m.value("srmi_rpc_duration_seconds_bucket", {{"method", "a"}, {"le", "0.00025"}}) == 2);
    CHECK(m.value("srmi_rpc_duration_seconds_bucket", {{"method", "a"}, {"le", "10"}}) == 2);
    CHECK(m.value("srmi_rpc_duration_seconds_bucket", {{"method", "a"}, {"le", "+Inf"}}) == 3);
    CHECK(m.value("srmi_rpc_duration_seconds_count", {{"method", "a"}}) == 3);
    CHECK(m.value("srmi_rpc_duration_seconds_sum", {{"method", "a"}}) ==
          doctest::Approx(11.000201));
    CHECK(text.find("srmi_rpc_duration_seconds_sum{method=\"a\"} 11.000201000\n") !=
          std::string::npos);
    CHECK(m.value("srmi_event_deliveries_total", {{"event", "E_ONE"}, {"transport", "udp"}}) == 1);
    CHECK(m.value("srmi_event_deliveries_total", {{"event", "E_ONE"}, {"transport", "other"}}) ==
          1);
    CHECK(m.value("srmi_event_deliveries_total", {{"event", "E_TWO"}, {"transport", "sse"}}) ==
          1);
    CHECK(m.value("srmi_event_deliveries_total", {{"event", ""}, {"transport", "sse"}}) == 1);
    CHECK(m.value("srmi_event_drops_total") == 5);
    CHECK(m.value("srmi_event_fanout_drops_total") == 7);
    CHECK(m.value("srmi_status_changes_total") == 1);
    CHECK(m.value("srmi_http_connections") == 3);
    CHECK(m.value("srmi_build_info", {{"version", std::string(srmi::kVersion)}}) == 1);
    CHECK(m.families.at("srmi_rpc_duration_seconds").type == "histogram");
    CHECK(m.families.at("srmi_reports_total").type == "counter");
    CHECK(m.families.at("srmi_status").type == "gauge");

    SUBCASE("process metrics come from /proc/self") {
        CHECK(m.value("process_resident_memory_bytes").value_or(0) > 1e5);
        CHECK(m.value("process_open_fds").value_or(0) >= 3);
        CHECK(m.value("process_cpu_seconds_total").value_or(-1) >= 0);
        const auto now = static_cast<double>(std::time(nullptr));
        const auto started = m.value("process_start_time_seconds").value_or(0);
        CHECK(started <= now + 1);
        CHECK(started > now - 24 * 3600 * 365.0);
    }
    SUBCASE("dropped events stay counted when their sink goes") {
        REQUIRE(std::get<srmi::core::SubscribeOutcome>(hub.subscribe("E_ONE", "x", 0)) ==
                srmi::core::SubscribeOutcome::kRemoved);
        sink->drops = 0;  // even a sink that forgot would not make the counter go back
        CHECK(parse_checked(metrics.render()).value("srmi_event_drops_total") == 5);
    }
}

TEST_CASE("GET /metrics after real traffic: every counter moves, the format holds") {
    TestServer server;
    HttpClient client(server.port());
    const auto before = scrape(client);

    SUBCASE("headers, HEAD and the wrong method") {
        auto res = client.request(http::verb::get, "/metrics", {}, {});
        CHECK(res[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
        CHECK(res[http::field::cache_control] == "no-store");
        // HEAD: the length of the body it does not carry (a parser told to skip it).
        HttpClient other(server.port());
        http::request<http::empty_body> head{http::verb::head, "/metrics", 11};
        head.set(http::field::host, "127.0.0.1");
        http::write(other.stream(), head);
        http::response_parser<http::empty_body> parser;
        parser.skip(true);
        boost::beast::flat_buffer buffer;
        http::read(other.stream(), buffer, parser);
        CHECK(parser.get().result_int() == 200);
        CHECK(std::stoul(std::string(parser.get()[http::field::content_length])) > 1000);
        auto post = client.request(http::verb::post, "/metrics", "x", "text/plain");
        CHECK(post.result_int() == 405);
        CHECK(post[http::field::allow] == "GET, HEAD");
        CHECK(client.request(http::verb::get, "/metrics/x", {}, {}).result_int() == 404);
    }

    SUBCASE("requests, statuses, reports, events, connections") {
        UdpReceiver udp;
        CHECK(result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", udp.socket(), 60}) ==
              "OK");
        // A Unix socket nobody listens on: each event sent there is dropped.
        const std::string nowhere =
            "unix:/tmp/srmi-metrics-test-" + std::to_string(::getpid()) + ".sock";
        CHECK(result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", nowhere, 60}) == "OK");

        // An identifier whose name needs every escape, added at run time.
        const std::string weird = "we\"ird\\name\nline";
        CHECK(result(client, "sr_add_identifier", {{"group", "custom"}, {"identifier", weird}}) ==
              "OK");
        CHECK(result(client, "sr_add_report",
                     {{"group", "custom"}, {"identifier", weird}, {"report", "r"}}) == "OK");
        for (int i = 0; i < 3; ++i)
            CHECK(result(client, "sr_add_report", {"custom", "report"}) == "OK");
        CHECK(result(client, "sr_set_status",
                     {{"group", "custom"}, {"identifier", weird}, {"status", -4}}) == "OK");
        CHECK(result(client, "sr_set_status", {{"group", "custom"}, {"status", -3}}) == "OK");
        CHECK(result(client, "sr_set_status", {{"group", "custom"}, {"status", -3}}) ==
              "OK");  // unchanged
        for (int i = 0; i < 2; ++i) REQUIRE(udp.receive());

        result(client, "sr_get_status", {"custom"});
        result(client, "core:uptime");  // counted under its flat name
        CHECK(call(client, "sr_set_status", {"core", "1"})["error"]["code"] == 403);
        CHECK(call(client, "no_such_method")["error"]["code"] == -32601);
        CHECK(client.post("{not json").result_int() == 200);
        CHECK(client.post(R"([{"jsonrpc":"2.0","method":"version","id":1}, 5])").result_int() ==
              200);

        HttpClient second(server.port());
        REQUIRE(second.request(http::verb::get, "/livez", {}, {}).result_int() == 200);

        const auto after = scrape(client);
        const auto delta = [&](const std::string& name, const LabelSet& labels = {}) {
            return after.counter(name, labels) - before.counter(name, labels);
        };
        const LabelSet weird_labels{{"group", "custom"}, {"identifier", weird}};
        CHECK(after.value("srmi_status", weird_labels) == -4);
        CHECK(after.value("srmi_ready", weird_labels) == 0);
        CHECK(after.value("srmi_reports_total", weird_labels) == 1);
        CHECK(delta("srmi_reports_total", {{"group", "custom"}, {"identifier", "main"}}) == 3);
        CHECK(after.value("srmi_status", {{"group", "custom"}, {"identifier", "main"}}) == -3);
        CHECK(after.value("srmi_status", {{"group", "core"}, {"identifier", "main"}}) == 1);
        CHECK(after.value("srmi_ready", {{"group", "core"}, {"identifier", "main"}}) == 1);
        CHECK(delta("srmi_status_changes_total") == 2);

        CHECK(delta("srmi_rpc_requests_total", {{"method", "sr_add_report"}, {"code", "0"}}) == 4);
        CHECK(delta("srmi_rpc_requests_total", {{"method", "sr_set_status"}, {"code", "0"}}) == 3);
        CHECK(delta("srmi_rpc_requests_total", {{"method", "sr_set_status"}, {"code", "403"}}) ==
              1);
        CHECK(delta("srmi_rpc_requests_total", {{"method", "uptime"}, {"code", "0"}}) == 1);
        CHECK(delta("srmi_rpc_requests_total", {{"method", "version"}, {"code", "0"}}) == 1);
        CHECK(delta("srmi_rpc_requests_total", {{"method", ""}, {"code", "-32601"}}) == 1);
        CHECK(delta("srmi_rpc_requests_total", {{"method", ""}, {"code", "-32700"}}) == 1);
        CHECK(delta("srmi_rpc_requests_total", {{"method", ""}, {"code", "-32600"}}) == 1);
        CHECK(delta("srmi_rpc_duration_seconds_count", {{"method", "sr_set_status"}}) == 4);
        CHECK(delta("srmi_rpc_duration_seconds_count", {{"method", ""}}) == 3);
        CHECK_FALSE(after.value("srmi_rpc_requests_total",
                                {{"method", "no_such_method"}, {"code", "-32601"}}));

        CHECK(delta("srmi_event_deliveries_total",
                    {{"event", "E_CORE_SR_STATUS_CHANGED"}, {"transport", "udp"}}) == 2);
        CHECK(delta("srmi_event_deliveries_total",
                    {{"event", "E_CORE_SR_STATUS_CHANGED"}, {"transport", "unix"}}) == 2);
        CHECK(after.value("srmi_http_connections") == 2);

        // Drops happen on the sink's strand, after the answers.
        double drops = 0;
        CHECK(wait_until([&] {
            drops = scrape(client).counter("srmi_event_drops_total");
            return drops - before.counter("srmi_event_drops_total") >= 2;
        }));
        // Unsubscribed, the sink is gone; its drops are not.
        CHECK(result(client, "event_subscribe", {"E_CORE_SR_STATUS_CHANGED", nowhere, 0}) == "OK");
        CHECK(scrape(client).counter("srmi_event_drops_total") >= drops);

        // The second connection leaves; the server notices when it reads EOF.
        second.stream().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both);
        second.stream().close();
        CHECK(wait_until([&] { return scrape(client).value("srmi_http_connections") == 1; }));
    }

    SUBCASE("an event stream is a connection and an sse transport") {
        HttpClient stream(server.port());
        stream.write_raw("GET /events?event=E_CORE_SR_STATUS_CHANGED HTTP/1.1\r\nHost: x\r\n\r\n");
        // The header is queued after the tap is added: once it is here, events reach the stream.
        std::string received;
        while (received.find(": srmi event stream\n\n") == std::string::npos) {
            char buffer[512];
            stream.stream().expires_after(std::chrono::seconds(5));
            received.append(buffer, stream.stream().read_some(boost::asio::buffer(buffer)));
        }
        CHECK(scrape(client).value("srmi_http_connections") == 2);
        CHECK(result(client, "sr_set_status", {"alarms", "-1"}) == "OK");
        // Fanned out on the events thread, after the answer.
        CHECK(wait_until([&] {
            return scrape(client).counter(
                       "srmi_event_deliveries_total",
                       {{"event", "E_CORE_SR_STATUS_CHANGED"}, {"transport", "sse"}}) == 1;
        }));
    }
}
