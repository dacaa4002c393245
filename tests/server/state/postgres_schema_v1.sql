-- srmi's PostgreSQL schema version 1, as srmi created it up to commit e5e4b9c
-- (server/state/postgres_schema.cpp there, kCreate and the srmi_meta rows):
-- cluster_test.py makes a database of this version to see it upgraded.
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

-- Appends p_changes (a JSON array, applied in order) to the log after the
-- head, applies each to the state tables exactly as Registry::apply() does in
-- memory (a change that cannot apply is a no-op in both), notifies the
-- followers, and returns the number of the last change.
CREATE FUNCTION srmi_append(p_node text, p_changes jsonb) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    v_count int := jsonb_array_length(p_changes);
    v_seq bigint;
    v_last bigint;
    c jsonb;
    v_added bigint;
    v_keep int;
    v_sub int;
    v_id jsonb;
BEGIN
    UPDATE srmi_head SET seq = seq + v_count RETURNING seq INTO v_last;
    v_seq := v_last - v_count;
    -- The log in one statement; the state tables change by change, in order.
    INSERT INTO srmi_log (seq, node, change)
    SELECT v_seq + e.ordinality, p_node, e.value
      FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e;
    FOR i IN 0 .. v_count - 1 LOOP
        c := p_changes -> i;
        v_seq := v_seq + 1;
        CASE c ->> 'k'
        WHEN 'status' THEN
            UPDATE srmi_identifiers
               SET status = (c ->> 's')::int, details = c ->> 'd',
                   lease_ttl = COALESCE((c ->> 'ttl')::int, 0),
                   lease = CASE WHEN c ? 'ttl' THEN v_seq ELSE 0 END
             WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik';
        WHEN 'expire' THEN
            UPDATE srmi_identifiers SET status = -1, details = c ->> 'd', lease_ttl = 0, lease = 0
             WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik' AND lease_ttl > 0
               AND lease = (c ->> 'lease')::bigint;
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
                                              max_reports, lease_ttl, lease)
                VALUES (c ->> 'gk', c ->> 'ik', c ->> 'i', v_seq, (c ->> 's')::int, c ->> 'd',
                        (c ->> 'm')::int, COALESCE((c ->> 'ttl')::int, 0),
                        CASE WHEN c ? 'ttl' THEN v_seq ELSE 0 END)
                ON CONFLICT DO NOTHING;
            END IF;
        WHEN 'remove' THEN
            IF (SELECT count(*) FROM srmi_identifiers WHERE gkey = c ->> 'gk') > 1 THEN
                DELETE FROM srmi_identifiers WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik';
                DELETE FROM srmi_reports WHERE gkey = c ->> 'gk' AND ikey = c ->> 'ik';
            END IF;
        WHEN 'group' THEN
            INSERT INTO srmi_groups (gkey, name, position, declared, node)
            VALUES (c ->> 'gk', c ->> 'g', v_seq, c -> 'ids', p_node)
            ON CONFLICT DO NOTHING;
            IF FOUND THEN
                v_sub := 0;
                FOR v_id IN SELECT value FROM jsonb_array_elements(c -> 'ids') LOOP
                    INSERT INTO srmi_identifiers (gkey, ikey, name, position, sub, status,
                                                  details, max_reports)
                    VALUES (c ->> 'gk', v_id ->> 'ik', v_id ->> 'i', v_seq, v_sub,
                            (v_id ->> 's')::int, v_id ->> 'd', (v_id ->> 'm')::int)
                    ON CONFLICT DO NOTHING;
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

INSERT INTO srmi_meta (key, value) VALUES ('product', 'srmi'), ('schema_version', '1'),
    ('cluster_id', gen_random_uuid()::text);
