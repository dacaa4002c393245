// libpq's public API behind PgConnection: every call checked, every result freed.
#include "server/state/detail/pg.h"

#include <spdlog/spdlog.h>

#include <string>

namespace srmi::server::detail {

namespace {

std::vector<const char*> c_params(const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> out;
    out.reserve(params.size());
    for (const auto& p : params) out.push_back(p ? p->c_str() : nullptr);
    return out;
}

}  // namespace

namespace {

// libpq's multi-line message on one line, its runs of blanks as one space.
std::string one_line(const std::string& message) {
    std::string out;
    for (char c : message) {
        const bool blank = c == '\n' || c == '\t' || c == ' ' || c == '\r';
        if (blank && (out.empty() || out.back() == ' ')) continue;
        out += blank ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

std::string pg_message(const PGconn* conn) {
    auto text = one_line(conn != nullptr ? libpq().PQerrorMessage(conn) : "out of memory");
    return text.empty() ? std::string("unknown error") : text;
}

std::optional<std::string> pg_field(const PGresult* result, int row, int column) {
    if (libpq().PQgetisnull(result, row, column) != 0) return std::nullopt;
    return std::string(libpq().PQgetvalue(result, row, column),
                       static_cast<std::size_t>(libpq().PQgetlength(result, row, column)));
}

std::unique_ptr<PgConnection> PgConnection::open(const std::string& uri,
                                                 const std::string& application) {
    // Keywords are read in order and the last one wins: ours first, then the
    // URI (dbname, expanded), so that a setting in the URI overrides ours.
    const char* keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                          "application_name",    "dbname",           nullptr};
    const char* values[] = {"3", "1", "2", "1", "3", "5000", application.c_str(), uri.c_str(),
                            nullptr};
    PGconn* conn = libpq().PQconnectdbParams(keys, values, 1);
    if (conn == nullptr || libpq().PQstatus(conn) != CONNECTION_OK) {
        const auto message = pg_message(conn);
        libpq().PQfinish(conn);
        throw PgError(message, true);
    }
    // The server's notices (such as the FATAL of a shutdown) go to our log,
    // not to stderr.
    libpq().PQsetNoticeProcessor(
        conn,
        [](void*, const char* message) {
            std::string text(message);
            while (!text.empty() && text.back() == '\n') text.pop_back();
            spdlog::debug("PostgreSQL: {}", text);
        },
        nullptr);
    std::unique_ptr<PgConnection> db(new PgConnection(conn));
    // The server's side of the same watch: a connection of ours that vanished
    // (and the locks it held, such as the node's name) is let go within
    // seconds, not after the system's two hours of TCP keep-alive.
    db->exec("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; "
             "SET tcp_keepalives_count = 3");
    return db;
}

PgConnection::~PgConnection() { libpq().PQfinish(conn_); }

PgResult PgConnection::checked(PGresult* raw) {
    PgResult result(raw);
    const auto status = result ? libpq().PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    const bool lost = libpq().PQstatus(conn_) == CONNECTION_BAD;
    std::string message = result ? one_line(libpq().PQresultErrorMessage(result.get())) : "";
    if (message.empty()) message = pg_message(conn_);
    throw PgError(message, lost);
}

PgResult PgConnection::exec(const char* sql, const std::vector<std::optional<std::string>>& params) {
    if (params.empty()) return checked(libpq().PQexec(conn_, sql));
    const auto values = c_params(params);
    return checked(libpq().PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                                        values.data(), nullptr, nullptr, 0));
}

void PgConnection::prepare(const char* name, const char* sql, int params) {
    checked(libpq().PQprepare(conn_, name, sql, params, nullptr));
}

PgResult PgConnection::exec_prepared(const char* name,
                                     const std::vector<std::optional<std::string>>& params) {
    const auto values = c_params(params);
    return checked(libpq().PQexecPrepared(conn_, name, static_cast<int>(values.size()),
                                          values.data(), nullptr, nullptr, 0));
}

int PgConnection::socket() const noexcept { return libpq().PQsocket(conn_); }

std::vector<std::string> PgConnection::notifications() {
    if (libpq().PQconsumeInput(conn_) == 0) throw PgError(pg_message(conn_), true);
    std::vector<std::string> out;
    while (PGnotify* n = libpq().PQnotifies(conn_)) {
        out.emplace_back(n->extra != nullptr ? n->extra : "");
        libpq().PQfreemem(n);
    }
    return out;
}

}  // namespace srmi::server::detail
