// Metrics: the server's counters and GET /metrics, in Prometheus's text
// exposition format 0.0.4.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_hub.h"
#include "core/registry.h"
#include "server/http/message.h"

namespace srmi::server {

/// What a shared state store says of itself (see server/state).
struct StateStoreStats {
    bool up = false;              ///< taking writes
    bool leader = false;          ///< this instance expires the cluster's leases
    std::uint64_t applied = 0;    ///< the last change of the shared log applied here
    std::uint64_t commits = 0;    ///< transactions this instance committed
    std::uint64_t changes = 0;    ///< changes those transactions held
};

/// What Metrics reads when it renders, besides its own counters.
struct MetricSources {
    const core::Registry& registry;             ///< statuses, readiness, reports added
    const core::EventHub& hub;                  ///< event names (read once), drops
    std::vector<std::string> methods;           ///< the dispatcher's flat method names
    std::function<std::int64_t()> connections;  ///< open HTTP connections; may be empty
    /// Connections closed at accept, beyond max_connections; may be empty.
    std::function<std::uint64_t()> connections_rejected = nullptr;
    /// Status changes never fanned out: the events thread was too far behind
    /// (FanOutQueue's bound). May be empty.
    std::function<std::uint64_t()> fan_outs_dropped = nullptr;
    /// The shared state store (--state postgresql://...); empty without one.
    std::function<StateStoreStats()> state_store = nullptr;
};

/// One server's counters and their exposition. The record_* calls are
/// thread-safe, lock-free and allocation-free (relaxed atomics), and every
/// label set is bounded whatever clients send: a method outside
/// `MetricSources::methods` counts as method="", an event published after
/// construction as event="", a transport other than udp, unix, tcp, http,
/// https and sse as transport="other", and result codes beyond the first
/// kCodesPerMethod of a method as code="other".
class Metrics {
  public:
    static constexpr std::size_t kCodesPerMethod = 16;

    explicit Metrics(MetricSources sources);
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    /// A JSON-RPC request ended (see rpc::CallDoneHook).
    void record_call(std::string_view method, int code, std::chrono::nanoseconds elapsed) noexcept;
    /// An identifier's status changed.
    void record_status_change() noexcept;
    /// An event was handed to a sink (see core::EventHub::on_delivered).
    void record_delivery(int event_id, std::string_view transport) noexcept;

    /// The whole exposition: HELP and TYPE lines, then the samples, family by
    /// family. Thread-safe; reads memory and /proc/self, takes no lock of its
    /// own (the registry's and the hub's, one at a time).
    std::string render() const;

  private:
    struct MethodStats;
    MethodStats& stats_for(std::string_view method) noexcept;
    std::atomic<std::uint64_t>& delivery_counter(int event_id, std::string_view transport) noexcept;

    MetricSources sources_;
    std::vector<std::unique_ptr<MethodStats>> methods_;               // table order, then method=""
    std::vector<std::pair<std::string_view, MethodStats*>> by_name_;  // sorted, for lookup
    std::vector<std::string> events_;                     // by id, as published at construction
    std::vector<std::atomic<std::uint64_t>> deliveries_;  // (events_ + 1) x (transports + 1)
    std::atomic<std::uint64_t> status_changes_{0};
};

/// The answer to GET or HEAD /metrics (`text/plain; version=0.0.4;
/// charset=utf-8`, never cached); 405 with `Allow: GET, HEAD` to any other
/// method.
Response metrics_response(const Request& request, const Metrics& metrics);

/// A label value as the text format writes it between its quotes: backslash,
/// double quote and line feed escaped (`\\`, `\"`, `\n`), and bytes that are
/// not UTF-8 replaced by U+FFFD, since the format is UTF-8.
std::string escape_label_value(std::string_view value);

}  // namespace srmi::server
