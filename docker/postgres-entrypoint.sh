#!/bin/sh
# First start: a cluster in $PGDATA with user $SRMI_DB_USER (password from
# $SRMI_DB_PASSWORD) owning database $SRMI_DB, password logins over TCP.
# Every start: the server in the foreground, listening on every address (its
# socket in /tmp: the image runs no init system to make /var/run/postgresql).
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
: "${PGDATA:=/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pw=$(mktemp)
    printf '%s\n' "$SRMI_DB_PASSWORD" > "$pw"
    "$bin/initdb" -D "$PGDATA" -U "$SRMI_DB_USER" --pwfile="$pw" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256
    rm -f "$pw"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w start
    "$bin/psql" -h /tmp -U "$SRMI_DB_USER" -d postgres -c "CREATE DATABASE \"$SRMI_DB\""
    "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp
