#!/usr/bin/env bash
# Run every test on SQLite, then on PostgreSQL 15.
# Without TRYTOND_DATABASE_URI, a private PostgreSQL cluster is started in a
# temporary folder on a free loopback port and stopped afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
hash=$($BIN/python tools/source_hash.py)
# Activated databases (Tryton's DB_CACHE), one set per source hash; they
# live outside the checkout so that a fresh clone of the same sources
# reuses them.
cache_root=${OMNI_DB_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/omni-retail}
pytest_args=("$@")
pg_uri=${TRYTOND_DATABASE_URI:-}
unset TRYTOND_DATABASE_URI TRYTOND_CONFIG TRYTOND_DATABASE__PATH TRYTOND_WEB__ROOT DB_NAME

run_pytest() {
    local backend=$1
    echo "=== $backend ==="
    mkdir -p "$cache_root"
    find "$cache_root" -maxdepth 1 -name "$backend-*" ! -name "$backend-$hash" \
        -exec rm -rf {} +
    TRYTOND_DATABASE_URI=$2 DB_CACHE=$cache_root/$backend-$hash \
        $BIN/python tools/build_test_cache.py || return 1
    TRYTOND_DATABASE_URI=$2 DB_CACHE=$cache_root/$backend-$hash \
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
