#!/bin/sh
# The image's entrypoint: wait for the database, then run one role of the deployment (docker-compose.yml).
#   web | worker | beat | migrate       the long-running roles, and the one-shot migrate + seed (idempotent)
#   healthcheck web|worker|beat         the compose health checks (no database wait)
#   anything else                       run as given once the database answers, e.g. `django-admin createsuperuser`
# CTIT_DB_WAIT_SECONDS (60) bounds the wait; CTIT_WAIT_FOR_DB=0 skips it.
set -eu

VAR_DIR="${CTIT_VAR_DIR:-/app/var}"
BEAT_SCHEDULE="${VAR_DIR}/celerybeat-schedule"
# Beat rewrites its schedule file at least every ~3.5 minutes (it syncs every 3 minutes when it sends a task, and the
# worker heartbeat task is due every 30 s): older than this, beat is stuck.
BEAT_STALE_MINUTES="${CTIT_BEAT_STALE_MINUTES:-10}"

say() { echo "entrypoint: $*" >&2; }

database_ready() {
  python -c 'import django; django.setup(); from django.db import connection; connection.ensure_connection()'
}

wait_for_database() {
  [ "${CTIT_WAIT_FOR_DB:-1}" = 0 ] && return 0
  limit="${CTIT_DB_WAIT_SECONDS:-60}" waited=0
  until error="$(database_ready 2>&1)"; do
    if [ "$waited" -ge "$limit" ]; then
      say "the database did not answer within ${limit} s; last error:"
      echo "$error" | tail -n 3 >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  say "database ready after ${waited} s"
}

healthcheck() {
  case "${1:-}" in
    web)
      # /livez answers without touching the database; the Host header is one ALLOWED_HOSTS accepts.
      python - "${CTIT_HEALTH_URL:-http://127.0.0.1:8000/livez}" "${SITE_DOMAIN:-localhost}" <<'PY'
import sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Host": sys.argv[2]})
with urllib.request.urlopen(request, timeout=5) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
      ;;
    worker)
      exec celery -A ctit_trial inspect ping --destination "worker@${HOSTNAME:-$(uname -n)}" --timeout 10
      ;;
    beat)
      fresh="$(find "$(dirname "$BEAT_SCHEDULE")" -maxdepth 1 -name "$(basename "$BEAT_SCHEDULE")*" \
        -mmin "-${BEAT_STALE_MINUTES}" 2>/dev/null)"
      [ -n "$fresh" ] || { say "beat has not written ${BEAT_SCHEDULE} for ${BEAT_STALE_MINUTES} minutes"; exit 1; }
      ;;
    *)
      say "healthcheck needs web, worker or beat (got '${1:-}')"
      exit 2
      ;;
  esac
}

fresh_metrics_dir() {
  # prometheus-client's multiprocess files of a previous run would count again: start from an empty folder.
  if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "$PROMETHEUS_MULTIPROC_DIR"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  fi
}

role="${1:-web}"
[ "$#" -gt 0 ] && shift
case "$role" in
  healthcheck)
    healthcheck "$@"
    ;;
  web)
    wait_for_database
    fresh_metrics_dir
    exec gunicorn ctit_trial.wsgi:application --bind 0.0.0.0:8000 --workers "${WEB_CONCURRENCY:-3}" \
      --access-logfile - "$@"
    ;;
  worker)
    wait_for_database
    fresh_metrics_dir
    exec celery -A ctit_trial worker --loglevel INFO --hostname "worker@%h" \
      --concurrency "${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    # Exactly one beat per deployment (README): two would send every scheduled task twice.
    wait_for_database
    exec celery -A ctit_trial beat --loglevel INFO --schedule "$BEAT_SCHEDULE" "$@"
    ;;
  migrate)
    wait_for_database
    django-admin migrate --no-input
    exec django-admin seed "$@"
    ;;
  *)
    wait_for_database
    exec "$role" "$@"
    ;;
esac
