#!/bin/sh
# Entry point with edoburu/pgbouncer's contract: unless a pgbouncer.ini is
# mounted, write one from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME,
# AUTH_TYPE, POOL_MODE, LISTEN_PORT, MAX_CLIENT_CONN, DEFAULT_POOL_SIZE,
# RESERVE_POOL_SIZE, MAX_DB_CONNECTIONS, ADMIN_USERS; the password goes to
# userlist.txt, never to the ini.
set -e
ini=/etc/pgbouncer/pgbouncer.ini
userlist=/etc/pgbouncer/userlist.txt
if [ ! -f "$ini" ]; then
  if [ -n "${DB_USER:-}" ] && [ -n "${DB_PASSWORD:-}" ] && [ ! -f "$userlist" ]; then
    umask 077
    printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > "$userlist"
  fi
  cat > "$ini" <<INI
[databases]
${DB_NAME:-*} = host=${DB_HOST:?DB_HOST is required} port=${DB_PORT:-5432}${DB_USER:+ user=$DB_USER}

[pgbouncer]
listen_addr = ${LISTEN_ADDR:-0.0.0.0}
listen_port = ${LISTEN_PORT:-5432}
unix_socket_dir = /var/run/pgbouncer
auth_type = ${AUTH_TYPE:-scram-sha-256}
auth_file = $userlist
pool_mode = ${POOL_MODE:-session}
max_client_conn = ${MAX_CLIENT_CONN:-100}
default_pool_size = ${DEFAULT_POOL_SIZE:-20}
reserve_pool_size = ${RESERVE_POOL_SIZE:-0}
max_db_connections = ${MAX_DB_CONNECTIONS:-0}
admin_users = ${ADMIN_USERS:-postgres}
ignore_startup_parameters = extra_float_digits
INI
fi
exec "$@"
