// Server: the registry, the dispatch table and the HTTP listener, put together.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/core_status.h"
#include "core/event_hub.h"
#include "core/registry.h"
#include "rpc/dispatcher.h"
#include "server/config.h"
#include "core/core_events.h"
#include "server/events/fan_out_queue.h"
#include "server/http/session.h"
#include "server/observe/memory_watch.h"
#include "server/observe/metrics.h"
#include "server/observe/probes.h"
#include "server/observe/profiler.h"
#include "server/state/postgres_state.h"
#include "server/state/sqlite_state.h"
#include "server/http/worker_pool.h"

namespace srmi::server {

class Listener;
class LogEventSink;

/// One srmi instance. Construct, start(), then stop() from any thread (or let
/// SIGINT/SIGTERM do it) and wait(). The destructor stops and joins.
class Server {
public:
    /// Registers `core` (then INITIALIZING) and the configured public groups,
    /// restoring them from the state directory when one is configured, or
    /// joining the registry shared in PostgreSQL. Throws std::invalid_argument
    /// for groups the registry refuses and StateError for a state file or
    /// database that cannot be used.
    explicit Server(Config config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds, starts the I/O threads and sets core RUNNING. Throws
    /// boost::system::system_error when the address cannot be bound.
    void start(bool handle_signals = false);
    /// Begins a graceful stop: core TERMINATING, no new connections, requests
    /// in flight answered (for up to `grace`), then the threads end. Idempotent.
    void stop();
    /// Blocks until the I/O threads have ended.
    void wait();

    /// The bound port (useful when listening on port 0).
    std::uint16_t port() const;
    core::Registry& registry() noexcept { return registry_; }
    core::EventHub& events() noexcept { return hub_; }
    const rpc::Dispatcher& dispatcher() const noexcept { return dispatcher_; }

    static constexpr std::chrono::seconds kGrace{3};

private:
    void begin_stop();
    void stop_io();
    void check_drained(std::chrono::steady_clock::time_point deadline);

    void schedule_maintenance();
    void restore_state();
    /// Subscribes again what the state file keeps, forgetting what expired
    /// (what cannot be made now is logged and kept); then keeps each change.
    std::size_t restore_subscriptions();
    void join_cluster();

    Config config_;
    /// One per I/O thread beyond the first (which runs ioc_): sessions are
    /// spread over ioc_ and these, one thread each. Destroyed after ioc_,
    /// whose pending accept holds a socket of one of them.
    std::vector<std::unique_ptr<boost::asio::io_context>> more_iocs_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> more_work_;
    boost::asio::io_context ioc_;  // sessions live on it, and the listener
    /// Event delivery: subscribers' sinks, and the fan-out of each status
    /// change, on a thread of their own, so that a write with a thousand
    /// subscribers is answered as fast as one with none.
    boost::asio::io_context events_ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> events_work_{events_ioc_.get_executor()};
    FanOutQueue fan_out_{events_ioc_};  // status changes and reports to the events thread, in order
    std::thread events_thread_;
    std::unique_ptr<Metrics> metrics_;  // made once the method table is; outlives every hook into it
    core::Registry registry_;
    core::EventHub hub_;
    core::CoreEvents core_events_;
    MemoryWatch memory_watch_;
    std::unique_ptr<Profiler> profiler_;  // when profiling_proc is configured
    std::unique_ptr<WorkerPool> workers_;  // when max_workers > 0
    std::unique_ptr<SqliteState> state_;   // when state_dir is set
    std::unique_ptr<PostgresState> cluster_;  // when state_uri is set
    core::CoreStatus core_;
    rpc::Dispatcher dispatcher_;
    ProbeContext probes_;
    AccessControl access_;
    std::shared_ptr<SessionContext> context_;  // shared: sessions may outlive the server's other parts
    std::shared_ptr<LogEventSink> log_sink_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer drain_timer_;
    boost::asio::steady_timer maintenance_timer_;
    std::shared_ptr<Listener> listener_;
    std::vector<std::thread> threads_;
    std::mutex join_mutex_;
    bool stopping_ = false;  // touched only by handlers posted to ioc_, one at a time
};

}  // namespace srmi::server
