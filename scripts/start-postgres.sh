#!/usr/bin/env bash
# Starts the Debian PostgreSQL cluster the PostgreSQL metadata store's tests
# run against (PG_VERSION/PG_CLUSTER, 15/main by default) if it is down,
# waits until it accepts connections, makes sure the login role and the
# database exist, and prints their DSN on stdout:
#
#   DSN=$(scripts/start-postgres.sh)
#   ECRD_TEST_POSTGRES_DSN=$DSN go test ./internal/metastore/postgres
#
# prints postgres://ecrd:ecrd@127.0.0.1:5432/ecrd?sslmode=disable. The role
# may create databases: each test runs in a database of its own. Idempotent
# and quiet on success; on failure it prints "start-postgres.sh: <reason>"
# and exits non-zero. Needs root or passwordless sudo; installs
# postgresql-$PG_VERSION with apt-get when it is missing.
# Stop the cluster with: pg_ctlcluster 15 main stop
#
# Env: PG_USER (ecrd) PG_PASSWORD (ecrd) PG_DB (ecrd) PG_VERSION (15) PG_CLUSTER (main)
set -euo pipefail
# Stdout carries the DSN and nothing else: every tool's chatter goes to
# stderr (pg_ctlcluster prints "Removed stale pid file." on stdout when the
# machine booted with a stale pid file, as a fresh CI machine may).
exec 3>&1 1>&2
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
user=${PG_USER:-ecrd} password=${PG_PASSWORD:-ecrd} db=${PG_DB:-ecrd}
version=${PG_VERSION:-15} cluster=${PG_CLUSTER:-main}
# The names go into SQL unquoted and the password inside '...'.
case $user$db in '' | *[!A-Za-z0-9_]*) die "PG_USER and PG_DB must match [A-Za-z0-9_]+" ;; esac
case $password in *"'"* | *\\*) die "PG_PASSWORD must not contain a quote or a backslash" ;; esac

as_root=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: cannot start PostgreSQL"
  as_root=(sudo -n)
fi

if [ ! -x "/usr/lib/postgresql/$version/bin/postgres" ] || ! command -v pg_ctlcluster >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-cache show "postgresql-$version" >/dev/null 2>&1 ||
    "${as_root[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
  "${as_root[@]}" apt-get install -y -qq "postgresql-$version" >/dev/null ||
    die "apt-get install postgresql-$version failed"
fi

# field N prints column N of the cluster's line in pg_lsclusters (3 port, 4 status).
field() { pg_lsclusters -h | awk -v v="$version" -v c="$cluster" -v n="$1" '$1 == v && $2 == c { print $n }'; }
if [ -z "$(field 1)" ]; then
  "${as_root[@]}" pg_createcluster "$version" "$cluster" >/dev/null || die "pg_createcluster $version $cluster failed"
fi
port=$(field 3)
log=/var/log/postgresql/postgresql-$version-$cluster.log
if [ "$(field 4)" != online ]; then
  # 3>&-: the server it leaves running must not hold the caller's $(...) open.
  "${as_root[@]}" pg_ctlcluster "$version" "$cluster" start 3>&- || die "pg_ctlcluster $version $cluster start failed; see $log"
fi
for _ in $(seq 100); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.1
done
pg_isready -q -h 127.0.0.1 -p "$port" || die "PostgreSQL does not accept connections on 127.0.0.1:$port after 10 s; see $log"

# psql as the postgres superuser, over the local socket (peer authentication).
psql_admin() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
  else
    sudo -n -u postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"
  fi
}
psql_admin -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN PASSWORD '$password' CREATEDB;
  ELSE
    ALTER ROLE $user LOGIN PASSWORD '$password' CREATEDB;
  END IF;
END \$\$;" >/dev/null || die "could not create the role $user"
if [ -z "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
  psql_admin -c "CREATE DATABASE $db OWNER $user" >/dev/null || die "could not create the database $db"
fi
dsn="postgres://$user:$password@127.0.0.1:$port/$db?sslmode=disable"
# Prove the DSN works (password authentication over TCP), not only the socket.
PGCONNECT_TIMEOUT=5 psql -X -q -d "$dsn" -tA -c "SELECT 1" >/dev/null 2>&1 ||
  die "PostgreSQL is up but $user cannot log in to $db over 127.0.0.1:$port (check pg_hba.conf)"
echo "$dsn" >&3
