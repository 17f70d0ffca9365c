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

cluster=""
if [ -z "$pg_uri" ]; then
    cluster=$(mktemp -d /tmp/omni-pg.XXXXXX)
    trap 'tools/pg_cluster.sh stop "$cluster/pg"; rm -rf "$cluster"' EXIT
    pg_uri=$(tools/pg_cluster.sh start "$cluster/pg") || exit 1
fi

with_backend() {
    local backend=$1 uri=$2
    shift 2
    TRYTOND_DATABASE_URI=$uri DB_CACHE=$cache_root/$backend-$hash "$@"
}

logs=$(mktemp -d /tmp/omni-tests.XXXXXX)
# The mini-program's tests (jest, offline against recorded responses),
# while the cached databases are built
(cd miniprogram && npx jest --ci) > "$logs/jest" 2>&1 &
jest=$!

# Build both backends' cached databases at once: each build uses one core
mkdir -p "$cache_root"
for backend in sqlite postgresql; do
    find "$cache_root" -maxdepth 1 -name "$backend-*" ! -name "$backend-$hash" \
        -exec rm -rf {} +
done
with_backend sqlite sqlite:// $BIN/python tools/build_test_cache.py &
sqlite_build=$!
with_backend postgresql "$pg_uri" $BIN/python tools/build_test_cache.py
pg_build=$?
wait $sqlite_build
sqlite_build=$?

wait $jest
jest_rc=$?
echo "=== mini-program ==="
cat "$logs/jest"

# Both legs at once: each one's workers wait on the database and on their
# last long test file, and the other leg's workers fill those gaps
run_leg() {
    local backend=$1 uri=$2 build_rc=$3
    if [ "$build_rc" != 0 ]; then
        echo "the $backend cached database was not built" > "$logs/$backend"
        return "$build_rc"
    fi
    with_backend "$backend" "$uri" $BIN/pytest "${pytest_args[@]}" \
        > "$logs/$backend" 2>&1
}
run_leg sqlite sqlite:// "$sqlite_build" &
sqlite_leg=$!
run_leg postgresql "$pg_uri" "$pg_build" &
pg_leg=$!
wait $sqlite_leg
sqlite_rc=$?
wait $pg_leg
pg_rc=$?
for backend in sqlite postgresql; do
    echo "=== $backend ==="
    cat "$logs/$backend"
done
rm -rf "$logs"

echo "Mini-program: exit $jest_rc, SQLite: exit $sqlite_rc, PostgreSQL: exit $pg_rc"
[ "$jest_rc" = 0 ] && [ "$sqlite_rc" = 0 ] && [ "$pg_rc" = 0 ]
