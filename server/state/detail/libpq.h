// LibPq: libpq's functions, loaded when the first PostgreSQL store opens
// instead of at every start. libpq brings Kerberos, LDAP and GnuTLS, whose
// loading and set-up cost about 5 ms of each process start (measured: an
// empty program linked with -lpq starts in 7.8 ms against 1.4 ms), and most
// starts (no --state postgresql://) never use them.
#pragma once

#include <libpq-fe.h>

namespace srmi::server::detail {

/// libpq's public functions that srmi calls, by their own names and types.
struct LibPq {
    decltype(&::PQclear) PQclear = nullptr;
    decltype(&::PQconnectdbParams) PQconnectdbParams = nullptr;
    decltype(&::PQconninfoFree) PQconninfoFree = nullptr;
    decltype(&::PQconninfoParse) PQconninfoParse = nullptr;
    decltype(&::PQconsumeInput) PQconsumeInput = nullptr;
    decltype(&::PQerrorMessage) PQerrorMessage = nullptr;
    decltype(&::PQexec) PQexec = nullptr;
    decltype(&::PQexecParams) PQexecParams = nullptr;
    decltype(&::PQexecPrepared) PQexecPrepared = nullptr;
    decltype(&::PQfinish) PQfinish = nullptr;
    decltype(&::PQfreemem) PQfreemem = nullptr;
    decltype(&::PQgetisnull) PQgetisnull = nullptr;
    decltype(&::PQgetlength) PQgetlength = nullptr;
    decltype(&::PQgetvalue) PQgetvalue = nullptr;
    decltype(&::PQnotifies) PQnotifies = nullptr;
    decltype(&::PQntuples) PQntuples = nullptr;
    decltype(&::PQprepare) PQprepare = nullptr;
    decltype(&::PQresultErrorMessage) PQresultErrorMessage = nullptr;
    decltype(&::PQresultStatus) PQresultStatus = nullptr;
    decltype(&::PQsetNoticeProcessor) PQsetNoticeProcessor = nullptr;
    decltype(&::PQsocket) PQsocket = nullptr;
    decltype(&::PQstatus) PQstatus = nullptr;
};

/// libpq, loaded (libpq.so.5, Debian's libpq5) on the first call. Throws
/// StateError saying why when it cannot be; thread-safe.
const LibPq& libpq();

}  // namespace srmi::server::detail
