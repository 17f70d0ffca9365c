#!/usr/bin/env bash
# Run every test on SQLite, then on PostgreSQL 15.
# Without TRYTOND_DATABASE_URI, a private PostgreSQL cluster is started in a
# temporary folder on a free loopback port and stopped afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
hash=$($BIN/python tools/source_hash.py)
pytest_args=("$@")
pg_uri=${TRYTOND_DATABASE_URI:-}
unset TRYTOND_DATABASE_URI TRYTOND_CONFIG TRYTOND_DATABASE__PATH TRYTOND_WEB__ROOT DB_NAME

run_pytest() {
    local backend=$1
    echo "=== $backend ==="
    TRYTOND_DATABASE_URI=$2 DB_CACHE=$PWD/var/cache/$backend-$hash \
        $BIN/pytest "${pytest_args[@]}"
}

run_pytest sqlite sqlite://
sqlite_rc=$?

cluster=""
if [ -z "$pg_uri" ]; then
    cluster=$(mktemp -d /tmp/omni-pg.XXXXXX)
    trap 'tools/pg_cluster.sh stop "$cluster/pg"; rm -rf "$cluster"' EXIT
    pg_uri=$(tools/pg_cluster.sh start "$cluster/pg") || exit 1
fi
run_pytest postgresql "$pg_uri"
pg_rc=$?

echo "SQLite: exit $sqlite_rc, PostgreSQL: exit $pg_rc"
[ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
