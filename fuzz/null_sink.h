// NullSink: an event sink that delivers nowhere, so that the fuzz targets can
// subscribe, raise and list events without opening a socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/event_hub.h"

namespace srmi::fuzz {

/// Takes every event and keeps none; counts what it was given, so that the
/// payload is really touched (an ASan read of the whole text).
class NullSink final : public core::EventSink {
public:
    void push(core::EventPayload payload) override {
        if (payload) bytes_.fetch_add(payload->size(), std::memory_order_relaxed);
    }
    std::uint64_t dropped() const override { return 0; }
    void close() override {}
    std::string_view transport() const override { return "other"; }

private:
    std::atomic<std::uint64_t> bytes_{0};
};

/// A factory without transports: any socket string with a scheme (`x:...`)
/// gets a NullSink, anything else the error text a real factory would give,
/// so both answers of event_subscribe are reachable.
inline core::SinkFactory null_sink_factory() {
    return [](std::string_view socket) -> std::variant<std::shared_ptr<core::EventSink>, std::string> {
        if (socket.find(':') == std::string_view::npos || socket.front() == ':') {
            return "bad socket '" + std::string(socket) + "': no scheme";
        }
        return std::make_shared<NullSink>();
    };
}

/// The clock of every fuzzed registry and hub: fixed, so that an input
/// replays exactly (no subscription expires half-way through a run).
inline std::int64_t fixed_clock() { return 1700000000; }

}  // namespace srmi::fuzz
