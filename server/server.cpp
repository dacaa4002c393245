// Server: start-up order follows the core life cycle of the spec
// (NONE -> INITIALIZING -> RUNNING once accepting -> TERMINATING on stop).
#include "server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <ctime>

#include "rpc/methods.h"
#include "rpc/notification.h"
#include "server/events/broker_socket.h"
#include "server/events/event_sinks.h"
#include "server/events/log_event_sink.h"
#include "server/http/listener.h"
#include "server/http/tls.h"
#include "version.h"

namespace srmi::server {

namespace net = boost::asio;

namespace {

constexpr std::chrono::seconds kMaintenancePeriod{1};
constexpr std::string_view kMembersGroup = "cluster";

// The sink factory loads event_tls_ca at once: a file that cannot be used is
// a configuration error, like the listener's own certificates.
core::SinkFactory checked_sink_factory(boost::asio::io_context& ioc, const Config& config) {
    SinkOptions options;
    options.queue_limit = config.event_queue_limit;
    options.tls_ca_file = config.event_tls_ca;
    try {
        return make_sink_factory(ioc, std::move(options));
    } catch (const TlsError& e) {
        throw ConfigError(e.what());
    }
}

}  // namespace

Server::Server(Config config)
    : config_(std::move(config)),
      hub_(checked_sink_factory(events_ioc_, config_)),
      core_events_(hub_, rpc::render_notification,
                   core::CoreEvents::Options{.profiling = !config_.profiling_proc.empty()}),
      memory_watch_(
          core_events_,
          MemoryWatch::Options{config_.event_pkg_threshold, config_.pkg_memory_size,
                               config_.event_shm_threshold, config_.registry_memory_limit}),
      core_(registry_),
      probes_{registry_, config_.ready_requires},
      access_(config_.credentials, config_.open_probes),
      context_(
          std::make_shared<SessionContext>(dispatcher_, config_.body_limit, config_.access_log)),
      signals_(ioc_),
      drain_timer_(ioc_),
      maintenance_timer_(ioc_) {
    registry_.set_store_limit(config_.registry_memory_limit);
    registry_.set_history_limits(
        core::HistoryLimits{static_cast<std::size_t>(config_.history_changes),
                            std::chrono::seconds(config_.history_age)});
    // One queue and one thread, so deferred fan-outs keep the order of the
    // changes; their payloads are built there, outside the registry's locks.
    core_events_.defer_fan_out(
        [this](std::function<void()> task) { fan_out_.push(std::move(task)); });
    registry_.on_store_change([this](std::uint64_t used) { memory_watch_.store_changed(used); });
    registry_.on_status_change(
        [this](const core::StatusChange& change) { core_events_.status_changed(change); });
    context_->hub = &hub_;
    context_->access = &access_;
    dispatcher_.set_limits(rpc::DispatchLimits{config_.max_batch, config_.max_json_depth});
    context_->probes = &probes_;
    context_->event_queue_limit = config_.event_queue_limit;
    context_->limits = config_.limits;
    if (!config_.tls_cert.empty() || !config_.tls_key.empty())
    {
        try {
            context_->tls = make_server_tls(config_.tls_cert, config_.tls_key, config_.tls_client_ca);
        } catch (const TlsError& e) {
            throw ConfigError(e.what());
        }
    }
    context_->on_disconnect = [this](const net::ip::tcp::endpoint& client,
                                     const net::ip::tcp::endpoint& local,
                                     std::string_view transport) {
        if (!core_events_.wanted(core::CoreEvent::tcp_disconnect)) return;
        core_events_.tcp_disconnect({client.address().to_string(), client.port()},
                                    {local.address().to_string(), local.port()}, transport);
    };
    if (config_.exec_threshold_us > 0) {
        dispatcher_.on_slow_call(std::chrono::microseconds(config_.exec_threshold_us),
                                 [this](const rpc::SlowCall& call) {
                                     spdlog::warn("{} took {} us (threshold {} us)", call.method,
                                                  call.micros, config_.exec_threshold_us);
                                     core_events_.threshold(call.method, call.micros, call.request);
                                 });
    }
    if (!config_.profiling_proc.empty()) {
        profiler_ = std::make_unique<Profiler>(core_events_, config_.profiling_proc == "on");
        context_->profiler = profiler_.get();
        dispatcher_.on_call(
            [profiler = profiler_.get()](const rpc::CallTrace& call) { profiler->trace(call); });
    }
    registry_.on_report(
        [this](const core::ReportAdded& report) { core_events_.report_added(report); });
    if (config_.max_workers > 0) {
        WorkerPoolOptions options;
        options.min_workers = config_.min_workers;
        options.max_workers = config_.max_workers;
        workers_ = std::make_unique<WorkerPool>(options, [this](int load, bool up, int worker) {
            spdlog::info("worker pool scaled {} (worker {}) at {}% load", up ? "up" : "down",
                         worker, load);
            core_events_.auto_scale("jsonrpc handlers", load, up, worker);
        });
        context_->workers = workers_.get();
    }
    if (config_.log_event_enabled) {
        log_sink_ = std::make_shared<LogEventSink>(core_events_);
        spdlog::default_logger()->sinks().push_back(log_sink_);
    }

    core_.initializing();
    for (auto& group : config_.groups) {
        // Moved, not copied: the registry is their home from now on.
        registry_.add_group(group.name, core::Visibility::kPublic, std::move(group.identifiers));
    }
    if (!config_.state_dir.empty()) restore_state();
    if (!config_.state_uri.empty()) join_cluster();
    rpc::add_all_methods(
        dispatcher_, registry_, hub_, profiler_ ? &profiler_->enabled() : nullptr,
        rpc::ServerInfo{kServerString, static_cast<std::int64_t>(std::time(nullptr))});

    // Last: requests are labelled by the finished method table, deliveries by
    // the events published by now.
    std::vector<std::string> methods;
    for (const auto& method : dispatcher_.methods()) methods.push_back(method.name);
    metrics_ = std::make_unique<Metrics>(MetricSources{
        registry_, hub_, std::move(methods),
        [context = context_] { return context->connections.load(std::memory_order_relaxed); },
        [context = context_] {
            return context->connections_rejected.load(std::memory_order_relaxed);
        },
        [this] { return fan_out_.dropped(); },
        cluster_ ? std::function<StateStoreStats()>([cluster = cluster_.get()] {
            const auto health = cluster->health();
            return StateStoreStats{health.connected, health.leader, health.applied,
                                   health.commits, health.changes};
        })
                 : nullptr});
    dispatcher_.on_call_done([metrics = metrics_.get()](std::string_view method, int code,
                                                        std::chrono::nanoseconds elapsed) {
        metrics->record_call(method, code, elapsed);
    });
    registry_.on_status_change(
        [metrics = metrics_.get()](const core::StatusChange&) { metrics->record_status_change(); });
    hub_.on_delivered([metrics = metrics_.get()](int event_id, std::string_view transport) {
        metrics->record_delivery(event_id, transport);
    });
    context_->metrics = metrics_.get();
}

void Server::restore_state() {
    state_ = SqliteState::open(config_.state_dir, registry_.history_limits());
    std::size_t restored = 0;
    for (const auto& group : state_->load()) {
        if (registry_.restore(group)) {
            ++restored;
        } else {
            spdlog::warn("{}: group '{}' is not declared any more; its state is dropped",
                         state_->path(), group.name);
        }
    }
    // From here on the file holds exactly the public groups as they are now,
    // and every acknowledged change reaches it before its answer leaves.
    state_->replace_all(registry_.public_state());
    registry_.set_journal(state_.get());
    context_->journal = state_.get();
    const auto subscriptions = restore_subscriptions();
    spdlog::info("state in {}: {} group(s) and {} subscription(s) restored", state_->path(),
                 restored, subscriptions);
}

std::size_t Server::restore_subscriptions() {
    std::size_t restored = 0;
    const std::int64_t now = std::time(nullptr);
    const WithoutBrokerLoginCheck no_wait;  // brokers are tried in the background
    for (auto& s : state_->load_subscriptions()) {
        if (s.expires_at <= now) {
            state_->record_subscription(std::move(s), true);
            continue;
        }
        // What is left of its lifetime: an expiry survives the restart.
        auto outcome = hub_.subscribe(s.event, s.socket, s.expires_at - now);
        if (const auto* error = std::get_if<std::pair<core::EventErrc, std::string>>(&outcome)) {
            // The reason only: the socket text may hold a broker's password.
            const auto& text = error->second;
            const auto reason = text.find("': ");
            // Kept: what fails now (a name not resolving yet at boot) may
            // not at the next start; it ends when its lifetime does.
            spdlog::warn("subscription of {} to {} not made again (kept for the next start): {}",
                         redact_socket(s.socket), s.event,
                         reason == std::string::npos ? text : text.substr(reason + 3));
            continue;
        }
        ++restored;
    }
    // From here on each subscription made, refreshed or removed is kept, and
    // its answer waits until it is on disk, as a registry write's does.
    hub_.on_subscription([state = state_.get()](std::string_view event, std::string_view socket,
                                                std::int64_t expire) {
        core::PersistedSubscription s{std::string(event), std::string(socket), expire,
                                      std::time(nullptr) + expire};
        core::Registry::note_ticket(state->record_subscription(std::move(s), expire == 0));
    });
    return restored;
}

void Server::join_cluster() {
    PostgresOptions options;
    options.uri = config_.state_uri;
    options.node = config_.node_name;
    options.lapse = std::chrono::seconds(config_.heartbeat_lapse);
    options.history = registry_.history_limits();  // history_changes, history_age
    cluster_ = std::make_unique<PostgresState>(std::move(options), registry_);
    // The members: internal (written only through the shared log), this
    // instance first, until the shared registry replaces the group.
    registry_.add_group(std::string(kMembersGroup), core::Visibility::kInternal,
                        {core::IdentifierSpec{config_.node_name, -1, "starting", 0, 0}});
    registry_.set_expiry_details(kMembersGroup, "unreachable");
    // The configuration's groups as declared, before the shared registry replaces them.
    auto declared = registry_.public_state();
    registry_.set_journal(cluster_.get());
    context_->journal = cluster_.get();
    probes_.state_problem = [cluster = cluster_.get()] {
        auto health = cluster->health();
        if (!health.conflicts.empty()) {
            std::string names;
            for (const auto& name : health.conflicts) names += (names.empty() ? "" : ", ") + name;
            if (!health.problem.empty()) health.problem += "; ";
            health.problem += "group(s) declared differently by another instance: " + names;
        }
        return health.problem;
    };
    cluster_->start(std::move(declared));
    spdlog::info("registry shared in {} as node '{}'", cluster_->where(), config_.node_name);
}

Server::~Server() {
    stop();
    wait();
    workers_.reset();  // its last jobs use the dispatcher and the registry: end them first
    if (cluster_) cluster_->stop();  // its follower applies changes to the registry: end it first
    registry_.set_journal(nullptr);
    hub_.on_subscription(nullptr);
    state_.reset();  // commits what is queued
    cluster_.reset();
    // Sessions still held by the stopped io_context end when it is destroyed,
    // after the rest of the server: their disconnects are no events any more.
    context_->on_disconnect = nullptr;
    if (log_sink_) {
        auto& sinks = spdlog::default_logger()->sinks();
        sinks.erase(std::remove(sinks.begin(), sinks.end(), log_sink_), sinks.end());
    }
}

void Server::start(bool handle_signals) {
    unsigned threads = config_.threads != 0 ? config_.threads : std::thread::hardware_concurrency();
    if (threads == 0) threads = 1;
    // One io_context per thread: a connection's completions stay on its
    // thread (one connection ran at half the rate when two threads shared
    // one io_context and handed its completions back and forth).
    std::vector<net::io_context*> session_contexts{&ioc_};
    for (unsigned i = 1; i < threads; ++i) {
        more_iocs_.push_back(std::make_unique<net::io_context>(1));
        more_work_.emplace_back(more_iocs_.back()->get_executor());
        session_contexts.push_back(more_iocs_.back().get());
    }
    const auto address = net::ip::make_address(config_.listen_host);
    listener_ =
        std::make_shared<Listener>(ioc_, net::ip::tcp::endpoint{address, config_.listen_port},
                                   context_, std::move(session_contexts));
    listener_->run();

    if (handle_signals) {
        signals_.add(SIGINT);
        signals_.add(SIGTERM);
        signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            spdlog::info("signal {} received, shutting down", signal);
            begin_stop();
        });
    }

    schedule_maintenance();

    events_thread_ = std::thread([this] { events_ioc_.run(); });
    threads_.reserve(threads);
    auto run_io = [](net::io_context* io) {
        FanOutQueue::bind_thread(*io);
        io->run();
    };
    threads_.emplace_back(run_io, &ioc_);
    for (auto& ioc : more_iocs_) threads_.emplace_back(run_io, ioc.get());

    core_.running();
    // A config of thousands of groups names the first few only: one line, not a page.
    constexpr std::size_t kGroupsNamed = 20;
    std::string groups = "core";
    for (std::size_t i = 0; i < config_.groups.size() && i < kGroupsNamed; ++i) {
        groups += ", ";
        groups += config_.groups[i].name;
    }
    if (config_.groups.size() > kGroupsNamed) {
        groups += fmt::format(" and {} more", config_.groups.size() - kGroupsNamed);
    }
    const auto endpoint = listener_->local_endpoint();
    const auto address_text = endpoint.address().to_string();
    spdlog::info("{} listening on {}://{}{}{}:{}/mi with {} I/O thread(s); groups: {}",
                 kServerString, context_->tls ? "https" : "http",
                 endpoint.address().is_v6() ? "[" : "", address_text,
                 endpoint.address().is_v6() ? "]" : "", endpoint.port(), threads, groups);
    if (access_.enabled()) {
        spdlog::info("access control: {} credential(s){}", config_.credentials.size(),
                     config_.open_probes ? "; probes open" : "");
    } else if (!endpoint.address().is_loopback()) {
        spdlog::warn(
            "--insecure: no access control on a non-loopback address; anyone who can connect "
            "may change the registry");
    }
}

std::uint16_t Server::port() const { return listener_ ? listener_->local_endpoint().port() : 0; }

void Server::stop() {
    net::post(ioc_, [this] { begin_stop(); });
}

void Server::schedule_maintenance() {
    maintenance_timer_.expires_after(kMaintenancePeriod);
    maintenance_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_) return;
        hub_.purge_expired();
        memory_watch_.sample_process();
        // In a cluster only the leader ends leases; the others keep track.
        registry_.expire_leases(std::chrono::steady_clock::now(), !cluster_ || cluster_->leads());
        schedule_maintenance();
    });
}

void Server::begin_stop() {
    if (stopping_) return;
    stopping_ = true;
    core_.terminating();
    context_->draining = true;
    if (listener_) listener_->close();
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    maintenance_timer_.cancel();
    check_drained(std::chrono::steady_clock::now() + kGrace);
}

void Server::check_drained(std::chrono::steady_clock::time_point deadline) {
    if (context_->in_flight == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (context_->in_flight != 0) {
            spdlog::warn("{} request(s) still in flight after {} s; stopping anyway",
                         context_->in_flight.load(), kGrace.count());
        }
        stop_io();
        return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(10));
    drain_timer_.async_wait([this, deadline](const boost::system::error_code& ec) {
        if (!ec) check_drained(deadline);
    });
}

void Server::stop_io() {
    ioc_.stop();
    for (auto& ioc : more_iocs_) ioc->stop();
}

void Server::wait() {
    std::lock_guard lock(join_mutex_);
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
    // Last: the I/O threads' final changes (core TERMINATING) were handed over,
    // though the wake-ups they deferred to their stopped io_contexts never ran.
    fan_out_.flush();
    events_work_.reset();
    if (events_thread_.joinable()) {
        net::post(events_ioc_, [this] { events_ioc_.stop(); });
        events_thread_.join();
    }
    // Every event is raised: broker subscribers get the grace to have the
    // broker confirm what they hold (the others' sends ended with the events
    // thread); what is left is counted as dropped.
    hub_.drain(std::chrono::steady_clock::now() + kGrace);
}

}  // namespace srmi::server
