// CoreEvents without a wire format: a renderer that spells an Event out as
// "NAME id a=v b=v" shows which event was raised with which parameters.
#include "core/core_events.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using srmi::core::CoreEvent;
using srmi::core::CoreEvents;
using srmi::core::Event;
using srmi::core::EventHub;
using srmi::core::EventPayload;

std::string spell(const Event& event) {
    std::string out = std::string(event.name) + " " + std::to_string(event.id);
    for (const auto& param : event.params) {
        out += " " + std::string(param.name) + "=";
        std::visit(
            [&](const auto& value) {
                using T = std::decay_t<decltype(value)>;
                if constexpr (std::is_same_v<T, std::string_view>) {
                    out += "'" + std::string(value) + "'";
                } else {
                    out += std::to_string(value) + (std::is_same_v<T, std::uint64_t> ? "u" : "");
                }
            },
            param.value);
    }
    return out;
}

struct RecordingSink : srmi::core::EventSink {
    std::mutex mutex;
    std::vector<std::string> received;

    void push(EventPayload payload) override {
        std::lock_guard lock(mutex);
        received.push_back(*payload);
    }
    std::uint64_t dropped() const override { return 0; }
    void close() override {}
};

struct Fixture {
    explicit Fixture(bool profiling = false)
        : events(
              hub,
              [this](const Event& event) {
                  ++rendered;
                  return std::make_shared<const std::string>(spell(event));
              },
              CoreEvents::Options{profiling}) {}

    void listen() { hub.add_tap({}, sink); }

    EventHub hub{
        [](std::string_view) -> std::variant<std::shared_ptr<srmi::core::EventSink>, std::string> {
            return std::string("no transports here");
        }};
    int rendered = 0;
    CoreEvents events;
    std::shared_ptr<RecordingSink> sink = std::make_shared<RecordingSink>();
};

}  // namespace

TEST_CASE("the vocabulary is published in OpenSIPS's order, srmi's own after it") {
    SUBCASE("without profiling") {
        Fixture f;
        const auto listed = f.hub.events();
        REQUIRE(listed.size() == 8);
        CHECK(listed[0].name == "E_CORE_SR_STATUS_CHANGED");
        CHECK(listed[6].name == "E_CORE_LOG");
        CHECK(listed[7].name == "E_SRMI_REPORT_ADDED");
        CHECK(f.events.id(CoreEvent::report_added) == 7);
        CHECK(f.events.id(CoreEvent::profiling) == -1);
        CHECK_FALSE(f.events.wanted(CoreEvent::profiling));
    }
    SUBCASE("with profiling, E_PROFILING_PROC takes id 7") {
        Fixture f(true);
        const auto listed = f.hub.events();
        REQUIRE(listed.size() == 9);
        CHECK(listed[7].name == "E_PROFILING_PROC");
        CHECK(listed[8].name == "E_SRMI_REPORT_ADDED");
        CHECK(f.events.id(CoreEvent::profiling) == 7);
    }
    for (int i = 0; i <= static_cast<int>(CoreEvent::report_added); ++i) {
        CHECK(CoreEvents::name(static_cast<CoreEvent>(i)).rfind("E_", 0) == 0);
    }
}

TEST_CASE("an event nobody listens to is not even rendered") {
    Fixture f;
    const std::optional<std::string> details;
    f.events.status_changed({"custom", "main", 1, -2, details});
    f.events.threshold("sr_get_status", 1500, "{}");
    f.events.log({"INFO", "srmi", "", "hello", 0});
    CHECK(f.rendered == 0);
}

TEST_CASE("each event carries OpenSIPS's parameters, in order") {
    Fixture f(true);
    f.listen();

    const std::optional<std::string> details("warming up");
    f.events.status_changed({"custom", "main", 1, -3, details});
    const std::optional<std::string> none;
    f.events.status_changed({"custom", "main", -3, 2, none});
    f.events.report_added({"custom", "main", 1700000000, "disk full"});
    f.events.threshold("sr_get_status", 1500, "{\"x\":1}");
    f.events.tcp_disconnect({"127.0.0.1", 50000}, {"127.0.0.1", 8888}, "http");
    f.events.memory_threshold(false, 91, 90, 910, 1000);
    f.events.auto_scale("jsonrpc handlers", 80, true, 3);

    CoreEvents::ProfilingRecord exit;
    exit.epoch_micros = 1'700'000'000'000'123;
    exit.session = 4;
    exit.verb = "exit";
    exit.name = "sr_get_status";
    exit.depth = 1;
    exit.file = "rpc/dispatcher.cpp";
    exit.line = 12;
    exit.status = 0;
    f.events.profiling(exit);

    const std::vector<std::string> expected = {
        "E_CORE_SR_STATUS_CHANGED 0 group='custom' identifier='main' status=-3 details='warming "
        "up' old_status=1",
        "E_CORE_SR_STATUS_CHANGED 0 group='custom' identifier='main' status=2 old_status=-3",
        "E_SRMI_REPORT_ADDED 8 group='custom' identifier='main' timestamp=1700000000 log='disk "
        "full'",
        "E_CORE_THRESHOLD 1 source='sr_get_status' time=1500 extra='{\"x\":1}'",
        "E_CORE_TCP_DISCONNECT 5 src_ip='127.0.0.1' src_port=50000 dst_ip='127.0.0.1' "
        "dst_port=8888 "
        "proto='http'",
        "E_CORE_SHM_THRESHOLD 2 usage=91 threshold=90 used=910u size=1000u",
        "E_CORE_PROC_AUTO_SCALE 4 group_type='workers' group_filter='jsonrpc handlers' "
        "group_load=80 "
        "scale='up' process_id=3 pid=" +
            std::to_string(::getpid()),
        "E_PROFILING_PROC 7 sec=1700000000 usec=123 session=4u verb='exit' name='sr_get_status' "
        "type=1 "
        "depth=1 file='rpc/dispatcher.cpp' line=12 status=0",
    };
    CHECK(f.sink->received == expected);
}

TEST_CASE("a deferred status change keeps its facts and is rendered only where it runs") {
    Fixture f;
    f.listen();
    std::vector<std::function<void()>> deferred;
    f.events.defer_fan_out(
        [&](std::function<void()> task) { deferred.push_back(std::move(task)); });

    {
        // The registry's views die with its call; the deferred task must not need them.
        std::string group = "custom", identifier = "main";
        std::optional<std::string> details("first");
        f.events.status_changed({group, identifier, 1, -1, details});
        details = "second";
        f.events.status_changed({group, identifier, -1, -2, details});
        group.assign(group.size(), 'x');
        identifier.assign(identifier.size(), 'x');
        details = "overwritten";
    }
    f.events.report_added({"custom", "main", 5, std::string("a report")});
    CHECK(f.rendered == 0);
    CHECK(f.sink->received.empty());

    REQUIRE(deferred.size() == 3);
    for (auto& task : deferred) task();
    CHECK(f.rendered == 3);
    CHECK(f.sink->received ==
          std::vector<std::string>{
              "E_CORE_SR_STATUS_CHANGED 0 group='custom' identifier='main' status=-1 "
              "details='first' old_status=1",
              "E_CORE_SR_STATUS_CHANGED 0 group='custom' identifier='main' status=-2 "
              "details='second' old_status=-1",
              "E_SRMI_REPORT_ADDED 7 group='custom' identifier='main' timestamp=5 log='a report'"});
}
