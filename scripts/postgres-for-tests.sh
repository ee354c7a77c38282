#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on a free localhost port:
#
#   eval "$(bash scripts/postgres-for-tests.sh)"       # start (or reuse), sets QA_TEST_POSTGRES_URL
#   bash scripts/postgres-for-tests.sh stop            # stop it and delete its files
#
# Installs Debian's postgresql when no server binaries are found. Only the `export` lines go
# to standard output; everything else goes to standard error. Running it again while the server
# is up prints the same lines. The cluster lives in $QA_TEST_POSTGRES_DIR (default
# ${TMPDIR:-/tmp}/qa-test-postgres), or in the folder given after start/stop. Postgres refuses
# to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

action="${1:-start}"
dir="${2:-${QA_TEST_POSTGRES_DIR:-${TMPDIR:-/tmp}/qa-test-postgres}}"
case "$action" in start | stop) ;; *)
  echo "usage: $0 [start|stop] [DIR]" >&2
  exit 2
  ;;
esac
mkdir -p "$(dirname "$dir")"
dir="$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")"
cd /  # the server's user may not be allowed into the caller's working directory

log() { echo "postgres-for-tests: $*" >&2; }

find_bindir() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; return; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bindir="$(find_bindir)"

if [ "$action" = stop ]; then
  if [ -n "$bindir" ] && [ -f "$dir/data/postmaster.pid" ]; then
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$dir"
  exit 0
fi

if [ -z "$bindir" ]; then
  [ "$(id -u)" = 0 ] || { log "no PostgreSQL found; install it (apt-get install postgresql) or run as root"; exit 1; }
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bindir="$(find_bindir)"
  [ -n "$bindir" ] || { log "postgresql installed but initdb not found"; exit 1; }
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

user=qa
database=qa_test

# A half-made cluster (an earlier run interrupted) is started again from nothing.
if [ ! -f "$dir/ready" ]; then
  [ ! -f "$dir/data/postmaster.pid" ] || as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >&2 || true
  rm -rf "$dir"
  mkdir -m 700 "$dir"
  [ "$(id -u)" != 0 ] || chown postgres: "$dir"
  # Hex, so it needs no escaping in a URL.
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/password"
  as_server_user "$bindir/initdb" -D "$dir/data" -U postgres --no-locale -E UTF8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # A throwaway server: durability is not wanted, speed is.
  cat <<EOF | as_server_user tee -a "$dir/data/postgresql.conf" >/dev/null
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
fi

port_of_running() {
  [ -f "$dir/port" ] && as_server_user "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 \
    && cat "$dir/port"
}

port="$(port_of_running || true)"
if [ -z "$port" ]; then
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  echo "$port" >"$dir/port"
  as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -o "-p $port" -w -t 60 start >/dev/null \
    || { cat "$dir/data/server.log" >&2; exit 1; }
fi

password="$(cat "$dir/password")"
if [ ! -f "$dir/ready" ]; then
  psql() { as_server_user "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"; }
  psql -d postgres -c "CREATE ROLE $user LOGIN PASSWORD '$password'" >&2
  psql -d postgres -c "CREATE DATABASE $database OWNER $user" >&2
  touch "$dir/ready"
fi

echo "export QA_TEST_POSTGRES_URL=postgresql://$user:$password@127.0.0.1:$port/$database"
echo "export QA_TEST_POSTGRES_DIR=$dir"
echo "# stop and delete: bash scripts/postgres-for-tests.sh stop $dir"
