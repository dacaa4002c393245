// The schema: a head row (the last change's number, locked by each appending
// transaction so that numbers are given in commit order, without gaps), the
// ordered change log, and the state the log has led to (groups, identifiers,
// reports, status history), kept by srmi_append() in the same transaction.
#include "server/state/postgres_schema.h"

#include <spdlog/spdlog.h>

#include <iterator>
#include <string>

#include "server/state/postgres_state.h"
#include "server/state/state_error.h"

namespace srmi::server {

namespace {

// Taken while the schema is checked or created: instances starting together
// on an empty database create it once.
constexpr const char* kLockSchema = "SELECT pg_advisory_xact_lock(1936878953, 1)";

// Version 1's tables. A new database is made by them and then by every
// upgrade in order, as an older one gets, so that each table is written down
// once. (Version 1's srmi_append() is replaced by the upgrade to 2: its text
// is in tests/server/state/postgres_schema_v1.sql.)
constexpr const char* kVersion1 = R"sql(
CREATE TABLE srmi_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE srmi_head (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                        seq bigint NOT NULL);
INSERT INTO srmi_head (seq) VALUES (0);
CREATE TABLE srmi_log (seq bigint PRIMARY KEY, node text NOT NULL, change jsonb NOT NULL);
CREATE TABLE srmi_groups (gkey text PRIMARY KEY, name text NOT NULL, position bigint NOT NULL,
                          declared jsonb NOT NULL, node text NOT NULL);
CREATE TABLE srmi_identifiers (gkey text NOT NULL, ikey text NOT NULL, name text NOT NULL,
                               position bigint NOT NULL, sub int NOT NULL DEFAULT 0,
                               status int NOT NULL, details text, max_reports int NOT NULL,
                               reports_added bigint NOT NULL DEFAULT 0,
                               lease_ttl int NOT NULL DEFAULT 0, lease bigint NOT NULL DEFAULT 0,
                               PRIMARY KEY (gkey, ikey));
CREATE TABLE srmi_reports (gkey text NOT NULL, ikey text NOT NULL, n bigint NOT NULL,
                           ts bigint NOT NULL, log text NOT NULL, PRIMARY KEY (gkey, ikey, n));
INSERT INTO srmi_meta (key, value) VALUES ('product', 'srmi'), ('schema_version', '1'),
    ('cluster_id', gen_random_uuid()::text);
)sql";

// Version 2 keeps each identifier's status changes: srmi_history, numbered
// per identifier by srmi_identifiers.history_n as reports are by
// reports_added (history_at: the newest one's time), written by
// srmi_append() in the transaction of the change. old_status is the status
// before the identifier's latest write, set by the UPDATE that writes it:
// RETURNING sees only new values, and a SELECT first made every status write
// about 15% dearer. An identifier of an upgraded database is known from the
// upgrade on, as a SQLite file of schema 2 restored.
constexpr const char* kUpgradeFrom1 = R"sql(
CREATE TABLE srmi_history (gkey text NOT NULL, ikey text NOT NULL, n bigint NOT NULL,
                           seq bigint NOT NULL, at_ms bigint NOT NULL, old_status int,
                           status int NOT NULL, details text, node text NOT NULL,
                           PRIMARY KEY (gkey, ikey, n));
ALTER TABLE srmi_identifiers ADD COLUMN history_n bigint NOT NULL DEFAULT 0,
                             ADD COLUMN history_at bigint NOT NULL DEFAULT 0,
                             ADD COLUMN old_status int;
UPDATE srmi_identifiers
   SET history_n = 1, history_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
INSERT INTO srmi_history (gkey, ikey, n, seq, at_ms, old_status, status, details, node)
SELECT gkey, ikey, 1, (SELECT seq FROM srmi_head), history_at, NULL, status, details, ''
  FROM srmi_identifiers;

DROP FUNCTION IF EXISTS srmi_append(text, jsonb);  -- version 1's (a new database has none)
-- Appends p_changes (a JSON array, applied in order) to the log after the
-- head, applies each to the state tables exactly as Registry::apply() does in
-- memory (a change that cannot apply is a no-op in both), keeps the history
-- as the registry does (an identifier's appearance, then each change to
-- another status, dated no earlier than the change before it as
-- StatusHistory::record() does; at most p_keep changes per identifier and an
-- eighth more between trims, none when 0),
-- notifies the followers, and returns the number of the last change.
-- An instance of schema 1 still running calls this with two arguments and
-- undated changes: p_keep's default is history_changes' (HistoryLimits), and
-- such a change is dated here, in the log too, so that every instance
-- keeps the same history of it.
CREATE FUNCTION srmi_append(p_node text, p_changes jsonb, p_keep bigint DEFAULT 10081)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    v_count int := jsonb_array_length(p_changes);
    v_seq bigint;
    v_last bigint;
    c jsonb;
    v_added bigint;
    v_keep int;
    v_sub int;
    v_id jsonb;
    v_status int;
    v_old int;
    v_n bigint;
    v_first bigint := CASE WHEN p_keep > 0 THEN 1 ELSE 0 END;  -- history_n of a new identifier
    v_now bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    v_at bigint;  -- the change's time; then its entry's, no earlier than the one before
BEGIN
    UPDATE srmi_head SET seq = seq + v_count RETURNING seq INTO v_last;
    v_seq := v_last - v_count;
    -- The log in one statement; the state tables change by change, in order.
    INSERT INTO srmi_log (seq, node, change)
    SELECT v_seq + e.ordinality, p_node,
           CASE WHEN e.value ? 'at' OR e.value ->> 'k' IN ('report', 'remove') THEN e.value
                ELSE e.value || jsonb_build_object('at', v_now) END
      FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e;
    FOR i IN 0 .. v_count - 1 LOOP
        c := p_changes -> i;
        v_seq := v_seq + 1;
        v_at := COALESCE((c ->> 'at')::bigint, v_now);
        CASE c ->> 'k'
        WHEN 'status', 'expire' THEN
            -- An expiry: status -1, if lease `lease` is still the identifier's.
            v_status := CASE WHEN c ->> 'k' = 'status' THEN (c ->> 's')::int ELSE -1 END;
            UPDATE srmi_identifiers
               SET status = v_status, old_status = status, details = c ->> 'd',
                   lease_ttl = COALESCE((c ->> 'ttl')::int, 0),
                   lease = CASE WHEN c ? 'ttl' THEN v_seq ELSE 0 END,
                   history_n = history_n + (p_keep > 0 AND status <> v_status)::int,
                   history_at = CASE WHEN p_keep > 0 AND status <> v_status
                                     THEN GREATEST(history_at, v_at) ELSE history_at END
             WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik'
               AND (c ->> 'k' = 'status' OR (lease_ttl > 0 AND lease = (c ->> 'lease')::bigint))
            RETURNING old_status, history_n, history_at INTO v_old, v_n, v_at;
            IF FOUND AND p_keep > 0 AND v_old <> v_status THEN
                INSERT INTO srmi_history (gkey, ikey, n, seq, at_ms, old_status, status, details,
                                          node)
                VALUES (c ->> 'gk', c ->> 'ik', v_n, v_seq, v_at, v_old, v_status, c ->> 'd',
                        p_node);
                -- Trimmed once per p_keep / 8 changes, not on each: every
                -- DELETE walks the dead index entries the ones before left
                -- (until vacuum), which took a flapping identifier's writes
                -- from 32 k/s to 6.6 k/s. At most an eighth more is kept; what
                -- is loaded is cut to history_changes.
                IF v_n > p_keep AND v_n % GREATEST(1, p_keep / 8) = 0 THEN
                    DELETE FROM srmi_history
                     WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik' AND n <= v_n - p_keep;
                END IF;
            END IF;
        WHEN 'report' THEN
            UPDATE srmi_identifiers SET reports_added = reports_added + 1
             WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik' AND max_reports > 0
            RETURNING reports_added, max_reports INTO v_added, v_keep;
            IF FOUND THEN
                INSERT INTO srmi_reports (gkey, ikey, n, ts, log)
                VALUES (c ->> 'gk', c ->> 'ik', v_added, (c ->> 't')::bigint, c ->> 'l');
                DELETE FROM srmi_reports
                 WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik' AND n <= v_added - v_keep;
            END IF;
        WHEN 'add' THEN
            IF EXISTS (SELECT 1 FROM srmi_groups WHERE gkey = c ->> 'gk') THEN
                INSERT INTO srmi_identifiers (gkey, ikey, name, position, status, details,
                                              max_reports, lease_ttl, lease, history_n,
                                              history_at)
                VALUES (c ->> 'gk', c ->> 'ik', c ->> 'i', v_seq, (c ->> 's')::int, c ->> 'd',
                        (c ->> 'm')::int, COALESCE((c ->> 'ttl')::int, 0),
                        CASE WHEN c ? 'ttl' THEN v_seq ELSE 0 END, v_first, v_at)
                ON CONFLICT DO NOTHING;
                IF FOUND AND p_keep > 0 THEN
                    INSERT INTO srmi_history (gkey, ikey, n, seq, at_ms, old_status, status,
                                              details, node)
                    VALUES (c ->> 'gk', c ->> 'ik', 1, v_seq, v_at, NULL, (c ->> 's')::int,
                            c ->> 'd', p_node);
                END IF;
            END IF;
        WHEN 'remove' THEN
            IF (SELECT count(*) FROM srmi_identifiers WHERE gkey = c ->> 'gk') > 1 THEN
                DELETE FROM srmi_identifiers WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik';
                DELETE FROM srmi_reports WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik';
                DELETE FROM srmi_history WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik';
            END IF;
        WHEN 'group' THEN
            INSERT INTO srmi_groups (gkey, name, position, declared, node)
            VALUES (c ->> 'gk', c ->> 'g', v_seq, c -> 'ids', p_node)
            ON CONFLICT DO NOTHING;
            IF FOUND THEN
                v_sub := 0;
                FOR v_id IN SELECT value FROM jsonb_array_elements(c -> 'ids') LOOP
                    INSERT INTO srmi_identifiers (gkey, ikey, name, position, sub, status,
                                                  details, max_reports, history_n, history_at)
                    VALUES (c ->> 'gk', v_id ->> 'ik', v_id ->> 'i', v_seq, v_sub,
                            (v_id ->> 's')::int, v_id ->> 'd', (v_id ->> 'm')::int, v_first,
                            v_at)
                    ON CONFLICT DO NOTHING;
                    IF FOUND AND p_keep > 0 THEN
                        INSERT INTO srmi_history (gkey, ikey, n, seq, at_ms, old_status, status,
                                                  details, node)
                        VALUES (c ->> 'gk', v_id ->> 'ik', 1, v_seq, v_at, NULL,
                                (v_id ->> 's')::int, v_id ->> 'd', p_node);
                    END IF;
                    v_sub := v_sub + 1;
                END LOOP;
            END IF;
        ELSE
            RAISE EXCEPTION 'srmi_append: unknown change kind %', c ->> 'k';
        END CASE;
    END LOOP;
    PERFORM pg_notify('srmi_log', v_last::text);
    RETURN v_last;
END
$fn$;
UPDATE srmi_meta SET value = '2' WHERE key = 'schema_version';
)sql";

// The upgrades in order: kUpgrades[i] takes a database from version i + 1.
constexpr const char* kUpgrades[] = {kUpgradeFrom1};
static_assert(std::size(kUpgrades) + 1 == PostgresState::kSchemaVersion);

std::string scalar(detail::PgConnection& db, const char* sql,
                   const std::vector<std::optional<std::string>>& params = {}) {
    auto result = db.exec(sql, params);
    if (detail::libpq().PQntuples(result.get()) != 1) return {};
    return detail::pg_field(result.get(), 0, 0).value_or("");
}

}  // namespace

std::string prepare_schema(detail::PgConnection& db, const std::string& where) {
    constexpr int kVersion = PostgresState::kSchemaVersion;
    db.exec("BEGIN");
    try {
        db.exec(kLockSchema);
        const bool ours = scalar(db, "SELECT to_regclass('srmi_meta') IS NOT NULL") == "t";
        int found = 1;
        if (ours) {
            const auto product = scalar(db, "SELECT value FROM srmi_meta WHERE key = 'product'");
            const auto text =
                scalar(db, "SELECT value FROM srmi_meta WHERE key = 'schema_version'");
            if (product != "srmi") {
                throw StateError("state database " + where +
                                 ": its srmi_meta table is not srmi's (product '" + product + "')");
            }
            found = 0;
            for (int v = 1; v <= kVersion; ++v) {
                if (text == std::to_string(v)) found = v;
            }
            if (found == 0) {
                throw StateError("state database " + where + ": schema version " + text +
                                 ", this srmi reads and writes version " +
                                 std::to_string(kVersion) + " (and upgrades older ones)");
            }
        } else {
            const auto tables = scalar(db,
                                       "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname "
                                       "NOT IN ('pg_catalog', 'information_schema')");
            if (tables != "0") {
                throw StateError("state database " + where + ": it holds " + tables +
                                 " table(s) and none is srmi's; give srmi an empty database "
                                 "of its own (nothing was changed)");
            }
            db.exec(kVersion1);
        }
        for (int v = found; v < kVersion; ++v) db.exec(kUpgrades[v - 1]);
        if (ours && found < kVersion) {
            spdlog::info("state database {}: schema upgraded from version {} to {}", where, found,
                         kVersion);
        }
        auto id = scalar(db, "SELECT value FROM srmi_meta WHERE key = 'cluster_id'");
        db.exec("COMMIT");
        return id;
    } catch (...) {
        try {
            db.exec("ROLLBACK");
        } catch (const detail::PgError&) {
            // The link is gone: the transaction went with it.
        }
        throw;
    }
}

}  // namespace srmi::server
