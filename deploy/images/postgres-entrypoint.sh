#!/bin/sh
# First start: initdb, the optional database and init scripts; then postgres as PID 1.
set -eu
user="${POSTGRES_USER:-postgres}"
port="${PGPORT:-5432}"
if [ ! -s "${PGDATA}/PG_VERSION" ]; then
  if [ -n "${POSTGRES_PASSWORD:-}" ]; then
    pwfile=$(mktemp); printf '%s\n' "${POSTGRES_PASSWORD}" > "${pwfile}"
    initdb -D "${PGDATA}" -U "${user}" -E UTF8 --locale=C.UTF-8 --no-sync -A scram-sha-256 --pwfile="${pwfile}" >/dev/null
    rm -f "${pwfile}"
  else
    initdb -D "${PGDATA}" -U "${user}" -E UTF8 --locale=C.UTF-8 --no-sync -A trust >/dev/null
  fi
  auth=$([ -n "${POSTGRES_PASSWORD:-}" ] && echo scram-sha-256 || echo trust)
  echo "host all all 0.0.0.0/0 ${auth}" >> "${PGDATA}/pg_hba.conf"
  echo "host all all ::/0 ${auth}" >> "${PGDATA}/pg_hba.conf"
  pg_ctl -D "${PGDATA}" -o "-c listen_addresses=127.0.0.1 -p ${port}" -w start >/dev/null
  export PGPASSWORD="${POSTGRES_PASSWORD:-}"
  if [ -n "${POSTGRES_DB:-}" ] && [ "${POSTGRES_DB}" != postgres ]; then
    psql -h 127.0.0.1 -p "${port}" -U "${user}" -d postgres -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"${POSTGRES_DB}\""
  fi
  for script in /docker-entrypoint-initdb.d/*.sql; do
    [ -f "${script}" ] || continue
    psql -h 127.0.0.1 -p "${port}" -U "${user}" -d postgres -v ON_ERROR_STOP=1 -q -f "${script}"
  done
  pg_ctl -D "${PGDATA}" -m fast -w stop >/dev/null
fi
exec postgres -D "${PGDATA}" -c listen_addresses='*' -p "${port}" -c fsync=off -c full_page_writes=off \
  -c max_connections="${POSTGRES_MAX_CONNECTIONS:-300}"
