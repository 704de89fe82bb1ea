#!/bin/sh
# Backups of the trial database (the `backup` service of docker-compose.yml; README "Backups and restore").
#   backup.sh            a custom-format pg_dump now, then every BACKUP_INTERVAL_SECONDS (86400), forever
#   backup.sh once       one dump, and dumps older than BACKUP_KEEP_DAYS (14) deleted
#   backup.sh restore F  replace the database with dump F (stop web, worker and beat first)
# The connection comes from libpq's variables: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
set -eu

BACKUP_DIR="${BACKUP_DIR:-/backups}"
KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
INTERVAL="${BACKUP_INTERVAL_SECONDS:-86400}"
DATABASE="${PGDATABASE:?set PGDATABASE}"

say() { echo "backup: $*" >&2; }

backup_once() {
  name="${DATABASE}-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # Written under a temporary name and renamed when complete: a listed dump is never a partial one.
  pg_dump --format=custom --file "${BACKUP_DIR}/${name}.partial" "$DATABASE"
  mv "${BACKUP_DIR}/${name}.partial" "${BACKUP_DIR}/${name}"
  say "wrote ${BACKUP_DIR}/${name}"
  find "$BACKUP_DIR" -maxdepth 1 -name "${DATABASE}-*.dump" -mmin "+$((KEEP_DAYS * 24 * 60))" -print -delete \
    | sed 's/^/backup: deleted (older than '"$KEEP_DAYS"' days) /' >&2
}

restore() {
  dump="${1:?restore needs the dump file, e.g. ${BACKUP_DIR}/${DATABASE}-20260101T000000Z.dump}"
  [ -f "$dump" ] || { say "no such dump: $dump"; exit 1; }
  pg_restore --list "$dump" >/dev/null  # a readable dump, before anything is dropped
  say "replacing database ${DATABASE} with ${dump}"
  dropdb --if-exists --force --maintenance-db=postgres "$DATABASE"
  createdb --maintenance-db=postgres "$DATABASE"
  pg_restore --exit-on-error --no-owner --dbname "$DATABASE" "$dump"
  say "restored ${dump}; start web, worker and beat again"
}

case "${1:-loop}" in
  once) backup_once ;;
  restore) shift; restore "$@" ;;
  loop)
    while true; do
      backup_once
      sleep "$INTERVAL"
    done
    ;;
  *) say "usage: backup.sh [once | restore FILE]"; exit 2 ;;
esac
