// libpq loaded on demand with dlopen: its public functions, looked up by name.
#include "server/state/detail/libpq.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

#include "server/state/state_error.h"

namespace srmi::server::detail {

namespace {

// Debian's libpq5; its soname has been .5 since PostgreSQL 8.
constexpr const char* kLibrary = "libpq.so.5";

template <class Function>
void bind(void* lib, Function& slot, const char* name) {
    slot = reinterpret_cast<Function>(::dlsym(lib, name));
    if (slot == nullptr) {
        throw StateError(std::string("PostgreSQL's client library ") + kLibrary + " has no " +
                         name);
    }
}

LibPq load() {
    void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char* why = ::dlerror();
        throw StateError(std::string("PostgreSQL's client library cannot be loaded (Debian package "
                                     "libpq5): ") +
                         (why ? why : kLibrary));
    }
    LibPq pq;
    // Never closed: the functions stay in use until the process ends.
    bind(lib, pq.PQclear, "PQclear");
    bind(lib, pq.PQconnectdbParams, "PQconnectdbParams");
    bind(lib, pq.PQconninfoFree, "PQconninfoFree");
    bind(lib, pq.PQconninfoParse, "PQconninfoParse");
    bind(lib, pq.PQconsumeInput, "PQconsumeInput");
    bind(lib, pq.PQerrorMessage, "PQerrorMessage");
    bind(lib, pq.PQexec, "PQexec");
    bind(lib, pq.PQexecParams, "PQexecParams");
    bind(lib, pq.PQexecPrepared, "PQexecPrepared");
    bind(lib, pq.PQfinish, "PQfinish");
    bind(lib, pq.PQfreemem, "PQfreemem");
    bind(lib, pq.PQgetisnull, "PQgetisnull");
    bind(lib, pq.PQgetlength, "PQgetlength");
    bind(lib, pq.PQgetvalue, "PQgetvalue");
    bind(lib, pq.PQnotifies, "PQnotifies");
    bind(lib, pq.PQntuples, "PQntuples");
    bind(lib, pq.PQprepare, "PQprepare");
    bind(lib, pq.PQresultErrorMessage, "PQresultErrorMessage");
    bind(lib, pq.PQresultStatus, "PQresultStatus");
    bind(lib, pq.PQsetNoticeProcessor, "PQsetNoticeProcessor");
    bind(lib, pq.PQsocket, "PQsocket");
    bind(lib, pq.PQstatus, "PQstatus");
    return pq;
}

}  // namespace

const LibPq& libpq() {
    static std::once_flag once;
    static LibPq pq;
    std::call_once(once, [] { pq = load(); });  // a throw leaves it to the next call
    return pq;
}

}  // namespace srmi::server::detail
