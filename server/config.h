// Config: what the server is told by its command line and config file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/status_history.h"
#include "server/http/access_control.h"
#include "server/http/session_context.h"

namespace srmi::server {

/// A bad flag, value or config file; the message names the problem.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A public group the operator declares, with its identifiers.
struct GroupConfig {
    std::string name;
    std::vector<core::IdentifierSpec> identifiers;  // never empty once parsed
};

inline constexpr std::uint16_t kDefaultPort = 8888;
inline constexpr std::size_t kDefaultBodyLimit = 1024 * 1024;

struct Config {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = kDefaultPort;
    unsigned threads = 0;  ///< I/O threads; 0 = one per core
    std::size_t body_limit = kDefaultBodyLimit;
    std::string log_level = "info";  ///< trace, debug, info, warn, error, critical, off
    bool access_log = false;
    std::vector<GroupConfig> groups;  ///< public groups, in registration order

    // Event interface
    std::int64_t exec_threshold_us = 0;   ///< E_CORE_THRESHOLD above this; 0 = off
    bool log_event_enabled = false;       ///< E_CORE_LOG for every log line
    std::size_t event_queue_limit = 1024; ///< per subscriber; beyond it the oldest is dropped
    std::uint64_t registry_memory_limit = 0;  ///< bytes of reports and details; 0 = none
    int event_shm_threshold = 0;          ///< % of registry_memory_limit; 0 = off
    int event_pkg_threshold = 0;          ///< % of pkg_memory_size; 0 = off
    std::uint64_t pkg_memory_size = 0;    ///< bytes the heap is measured against; 0 = physical memory
    /// Request profiling (E_PROFILING_PROC, MI profiling_proc): "" = not loaded,
    /// "off" = loaded and switched off, "on" = loaded and on.
    std::string profiling_proc;

    /// Handlers on an auto-scaling worker pool (E_CORE_PROC_AUTO_SCALE) of
    /// min..max threads; max_workers 0 runs them on the I/O threads.
    unsigned min_workers = 1;
    unsigned max_workers = 0;

    /// Groups that must be ready (aggregated) for GET /readyz, besides core.
    std::vector<std::string> ready_requires;
    /// Where public groups are kept durable (SQLite); empty: in memory only.
    std::string state_dir;
    /// A PostgreSQL connection URI: the registry shared by every instance
    /// given the same database (not with state_dir).
    std::string state_uri;
    /// This instance's name among them; empty: HOST:PORT of listen.
    std::string node_name;
    /// Seconds a member's heartbeat may lapse before it is `unreachable`.
    int heartbeat_lapse = 10;
    /// Status changes kept per identifier (sr_status_history, availability).
    std::int64_t history_changes = static_cast<std::int64_t>(core::HistoryLimits{}.max_changes);
    /// Seconds of status changes kept per identifier (and the change before them).
    std::int64_t history_age = core::HistoryLimits{}.max_age.count();

    // Access control and request bounds
    /// Tokens ("tokens") and client certificate names ("client_certs"); none:
    /// every request is answered, so only loopback may be listened on.
    std::vector<Credential> credentials;
    bool open_probes = false;  ///< /livez, /readyz, /health/... need no credential
    bool insecure = false;     ///< --insecure: listen beyond loopback without credentials
    std::size_t max_batch = 1000;     ///< requests in one JSON-RPC batch
    std::size_t max_json_depth = 64;  ///< nesting of arrays and objects in a request
    /// HTTPS: PEM certificate chain and private key, both or neither; with
    /// them the listener speaks HTTPS only.
    std::string tls_cert;
    std::string tls_key;
    /// PEM CA certificates: when set, clients must present a certificate
    /// they signed (mutual TLS).
    std::string tls_client_ca;
    /// PEM CA certificates that verify https:// event receivers; empty: the
    /// system's store.
    std::string event_tls_ca;
    ConnectionLimits limits;
};

/// The shortest token accepted: guessing one must be hopeless.
inline constexpr std::size_t kMinTokenLength = 16;

enum class Action { kServe, kHelp, kVersion };

struct CommandLine {
    Action action = Action::kServe;
    Config config;
};

/// Parses argv (argv[0] is skipped). A --config file is read first, so flags
/// given beside it win; --group adds to the file's groups. Throws ConfigError.
CommandLine parse_command_line(int argc, const char* const* argv);

/// Reads a JSON config file (comments allowed) into `config`. Unknown keys are
/// errors, so a typo is not silently ignored. Throws ConfigError naming the file.
void load_config_file(const std::string& path, Config& config);

/// Splits "HOST:PORT" or "[V6]:PORT". Throws ConfigError.
void parse_listen(const std::string& text, Config& config);

/// The --help text.
std::string usage();

}  // namespace srmi::server
