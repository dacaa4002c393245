// A thin RAII layer over libpq's public API: connections, results, errors.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/state/detail/libpq.h"

namespace srmi::server::detail {

/// A failed statement or connection; `lost` when the connection is gone
/// (the caller reconnects) rather than the statement refused.
class PgError : public std::runtime_error {
public:
    PgError(const std::string& message, bool lost) : std::runtime_error(message), lost_(lost) {}
    bool lost() const noexcept { return lost_; }

private:
    bool lost_;
};

struct PgResultFree {
    void operator()(PGresult* r) const noexcept { libpq().PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

/// One connection, used by one thread at a time.
class PgConnection {
public:
    /// Connects to `uri` (its settings win over ours: a 3 s connect timeout,
    /// TCP keep-alives and a 5 s TCP user timeout, so that a vanished server
    /// is noticed within seconds, and application_name), and asks the server
    /// for keep-alives of its own. Throws PgError.
    static std::unique_ptr<PgConnection> open(const std::string& uri,
                                              const std::string& application);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    /// Runs `sql` with text parameters (nullopt: NULL); throws PgError.
    PgResult exec(const char* sql, const std::vector<std::optional<std::string>>& params = {});
    /// Prepares `sql` as `name` once; exec_prepared runs it.
    void prepare(const char* name, const char* sql, int params);
    PgResult exec_prepared(const char* name, const std::vector<std::optional<std::string>>& params);

    /// The socket to poll for notifications, and the channels' payloads that
    /// have arrived (consumes input first; throws PgError if the link broke).
    int socket() const noexcept;
    std::vector<std::string> notifications();

    PGconn* raw() const noexcept { return conn_; }

private:
    explicit PgConnection(PGconn* conn) : conn_(conn) {}
    PgResult checked(PGresult* result);
    PGconn* conn_;
};

/// The text of libpq's last error on `conn`, on one line.
std::string pg_message(const PGconn* conn);

/// Field (row, column) as text; nullopt for NULL.
std::optional<std::string> pg_field(const PGresult* result, int row, int column);

}  // namespace srmi::server::detail
