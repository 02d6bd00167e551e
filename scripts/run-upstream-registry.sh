#!/usr/bin/env bash
# Starts CNCF distribution v3 in the background on 127.0.0.1:PORT with
# htpasswd authentication for USER:PASSWORD, storing under DATADIR: the
# stand-in for Docker Hub or Quay that the pull through cache tests point a
# rule's upstream at (ecrd --pull-through-upstreams). It waits until GET /v2/
# answers 401, then prints the registry's PID on stdout.
#
#   scripts/run-upstream-registry.sh PORT DATADIR USER PASSWORD
#   kill "$(cat DATADIR/registry.pid)"          # to stop it
#
# Installs distribution first if it is missing (scripts/install-tools.sh).
# The bcrypt hash comes from Python's crypt module (the system's libcrypt).
set -euo pipefail
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 4 ] || die "usage: $me PORT DATADIR USER PASSWORD"
port=$1 dir=$2 user=$3 pass=$4
case $port in '' | *[!0-9]*) die "PORT must be a number, not '$port'" ;; esac
"$ROOT/scripts/install-tools.sh" distribution
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
mkdir -p "$dir/storage"
dir=$(cd "$dir" && pwd)
hash=$(python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$pass") ||
  die "could not make a bcrypt hash with python3's crypt module"
case $hash in '$2'*) ;; *) die "python3's crypt made no bcrypt hash ($hash)" ;; esac
echo "$user:$hash" >"$dir/htpasswd"
cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
auth:
  htpasswd:
    realm: upstream
    path: $dir/htpasswd
http:
  addr: 127.0.0.1:$port
YML
setsid "$ROOT/.tools/bin/distribution" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$dir/registry.pid"
for _ in $(seq 1 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" 2>/dev/null || true)
  if [ "$code" = 401 ]; then
    echo "$pid"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$dir/registry.log" >&2
    die "distribution exited while starting (log above)"
  fi
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
cat "$dir/registry.log" >&2
die "distribution did not answer on 127.0.0.1:$port within 10 s (log above)"
