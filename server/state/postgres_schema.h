// The shared registry's tables in PostgreSQL, and the check that a database
// is srmi's (or empty, and then made srmi's).
#pragma once

#include <string>

#include "server/state/detail/pg.h"

namespace srmi::server {

/// Checks that the database behind `db` holds srmi's schema
/// (PostgresState::kSchemaVersion), in one transaction: creating it if the
/// database has no tables at all, upgrading an older version in place.
/// Returns the database's cluster id (random, made at creation): a changed id
/// after a reconnection means another database. Throws StateError (naming
/// `where`, the redacted URI) for a database that is not srmi's or holds
/// a version it does not know, leaving it untouched; PgError if the link fails.
std::string prepare_schema(detail::PgConnection& db, const std::string& where);

}  // namespace srmi::server
