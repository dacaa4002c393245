// The shared registry's tables in PostgreSQL, and the check that a database
// is srmi's (or empty, and then made srmi's).
#pragma once

#include <string>

#include "server/state/detail/pg.h"

namespace srmi::server {

/// Checks that the database behind `db` holds srmi's schema of `version`,
/// creating it in one transaction if the database has no tables at all.
/// Returns the database's cluster id (random, made at creation): a changed id
/// after a reconnection means another database. Throws StateError (naming
/// `where`, the redacted URI) for a database that is not srmi's or holds
/// another version, leaving it untouched; PgError if the link fails.
std::string prepare_schema(detail::PgConnection& db, const std::string& where, int version);

}  // namespace srmi::server
