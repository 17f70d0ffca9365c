#!/usr/bin/env bash
# Start or stop a private PostgreSQL 15 cluster for the tests.
#   tools/pg_cluster.sh start DIR   prints the database URI
#   tools/pg_cluster.sh stop DIR
# PG_OPTIONS adds server options, after the defaults that it may override:
# the tests' cluster trades durability for speed (fsync and synchronous
# commit off), which a test that restarts PostgreSQL must not.
set -euo pipefail

action=$1
dir=$2
bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v pg_ctl)")

# PostgreSQL refuses to run as root: run it as the postgres user then.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case $action in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        chmod o+x "$(dirname "$dir")"
        chown postgres: "$dir"
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    user=$(as_owner id -un)
    as_owner "$bindir/initdb" -D "$dir/data" -U "$user" --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${PG_OPTIONS:-}" \
        start >/dev/null
    echo "postgresql://$user@127.0.0.1:$port/"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
