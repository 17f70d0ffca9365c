#!/usr/bin/env bash
# Serve Omni Retail as production runs it, without containers: gunicorn's
# web workers (trytond's WSGI application), one trytond-cron and one
# queue worker (tools/queue_worker.py: trytond-worker, which exits when it
# loses the database, the ir.queue tasks) on one PostgreSQL database,
# supervised: a process that dies is started again.  Logs go to stdout,
# one line per event.  SIGTERM or Ctrl-C stops them all.
#
#   TRYTOND_DATABASE_URI=postgresql://user:password@host:5432/ \
#       tools/serve_production.sh
#
# Settings (environment):
#   TRYTOND_DATABASE_URI  the PostgreSQL server (required)
#   DB_NAME               the database (omni)
#   BIND                  gunicorn's address (127.0.0.1:8000)
#   WEB_WORKERS           gunicorn worker processes (2 per core)
#   WEB_THREADS           threads per worker (4)
#   QUEUE_PROCESSES       processes of trytond-worker (1)
#   TRYTOND_CONFIG        the configuration file (trytond.conf); its values
#                         win over TRYTOND_SECTION__OPTION variables
#   TRYTOND_WEB__ROOT     the web client (var/www, made by make deps)
#   TRYTOND_CACHE__CLEAN_TIMEOUT  0: caches cleared at once in every process
#                         (Tryton's default, 300, leaves them stale for minutes)
# The database must have the modules activated:
#   trytond-admin -d omni --all -u omni_insights --activate-dependencies
# Readiness for a load balancer: GET /<DB_NAME>/omni/ops/v1/ready
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/.venv/bin}

case ${TRYTOND_DATABASE_URI:-} in
postgresql://*) ;;
*)
    echo "TRYTOND_DATABASE_URI must name a PostgreSQL server" >&2
    exit 2
    ;;
esac
db=${DB_NAME:-omni}
cores=$(nproc)
export TRYTOND_CONFIG=${TRYTOND_CONFIG:-$root/trytond.conf}
# gunicorn's master loads the database's modules once (--preload) and
# forks the web workers from it: a worker that replaces a dead one starts
# without asking PostgreSQL, which may be away
export TRYTOND_DATABASE_NAMES=$db
export TRYTOND_WEB__ROOT=${TRYTOND_WEB__ROOT:-$root/var/www}
# The web workers queue their tasks (ir.queue) for trytond-worker instead
# of running them after the answer
export TRYTOND_QUEUE__WORKER=True
# A change of cached configuration reaches every process at once through
# PostgreSQL's LISTEN/NOTIFY, instead of within the default 5 minutes
export TRYTOND_CACHE__CLEAN_TIMEOUT=${TRYTOND_CACHE__CLEAN_TIMEOUT:-0}
# The one-line formatter of tools/logging.conf
export PYTHONPATH=$root/tools${PYTHONPATH:+:$PYTHONPATH}
logconf=$root/tools/logging.conf

web=("$bin/gunicorn" --bind "${BIND:-127.0.0.1:8000}"
    --workers "${WEB_WORKERS:-$((2 * cores))}"
    --worker-class gthread --threads "${WEB_THREADS:-4}" --preload
    --timeout 120 --graceful-timeout 30
    --log-config "$logconf" --error-logfile - --access-logfile -
    --access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %(p)s'
    trytond.application:app)
cron=("$bin/trytond-cron" -d "$db" --logconf "$logconf" -n 1)
# trytond-worker that exits when PostgreSQL goes away, to be started again
worker=("$bin/python" "$root/tools/queue_worker.py" -d "$db" --logconf "$logconf"
    -n "${QUEUE_PROCESSES:-1}")

exec "$bin/python" "$root/tools/supervise.py" \
    web "${web[@]}" -- cron "${cron[@]}" -- worker "${worker[@]}"
