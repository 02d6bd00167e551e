#!/usr/bin/env bash
# Starts the peer registry (Debian's docker-registry, CNCF distribution 2.8)
# in the background on 127.0.0.1:PORT, storing under DATADIR, with no
# authentication and deletes on, as bench compares ecrd against it. It waits
# until GET /v2/ answers 200, then prints the registry's PID on stdout.
#
#   scripts/run-peer-registry.sh PORT DATADIR
#   kill "$(cat DATADIR/registry.pid)"          # to stop it
#
# DATADIR gets config.yml, storage/, registry.log and registry.pid. Run again
# with the same PORT and DATADIR while it runs, it prints the same PID.
# Installs docker-registry first if it is missing (scripts/install-tools.sh).
#
# Env: PEER_REGISTRY=distribution runs CNCF distribution v3 (install-tools.sh
# distribution) instead of docker-registry. PEER_S3_ENDPOINT=URL stores in S3
# instead of DATADIR/storage (what bench -scaleout does): bucket
# PEER_S3_BUCKET (distribution), under PEER_S3_ROOT (/), with the keys
# PEER_S3_ACCESS_KEY/PEER_S3_SECRET_KEY (test/testsecret), region
# PEER_S3_REGION (us-east-1), path-style addressing, blob GETs served by the
# registry (redirects off, as ecrd serves them).
set -euo pipefail
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 2 ] || die "usage: $me PORT DATADIR"
port=$1 dir=$2
case $port in '' | *[!0-9]*) die "PORT must be a number, not '$port'" ;; esac
peer=${PEER_REGISTRY:-docker-registry}
case $peer in
  docker-registry) "$ROOT/scripts/install-tools.sh" docker-registry; registry=docker-registry ;;
  distribution) "$ROOT/scripts/install-tools.sh" distribution; registry=$ROOT/.tools/bin/distribution ;;
  *) die "PEER_REGISTRY must be docker-registry or distribution, not '$peer'" ;;
esac
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
url=http://127.0.0.1:$port/v2/

mkdir -p "$dir/storage"
dir=$(cd "$dir" && pwd)
if [ -f "$dir/registry.pid" ] && kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then
  curl -fsS -o /dev/null "$url" 2>/dev/null || die "the registry of $dir (PID $(cat "$dir/registry.pid")) does not answer on $url"
  cat "$dir/registry.pid"
  exit 0
fi
if curl -s -o /dev/null "$url" 2>/dev/null; then die "something else already listens on 127.0.0.1:$port"; fi

# The package's own /etc/docker/registry/config.yml turns on htpasswd
# authentication; this one is what a benchmark wants: filesystem (or S3)
# storage, nothing logged per request, uploads never purged mid-run.
if [ -n "${PEER_S3_ENDPOINT:-}" ]; then
  storage="  s3:
    regionendpoint: $PEER_S3_ENDPOINT
    forcepathstyle: true
    region: ${PEER_S3_REGION:-us-east-1}
    bucket: ${PEER_S3_BUCKET:-distribution}
    rootdirectory: ${PEER_S3_ROOT:-/}
    accesskey: ${PEER_S3_ACCESS_KEY:-test}
    secretkey: ${PEER_S3_SECRET_KEY:-testsecret}
    secure: $([ "${PEER_S3_ENDPOINT#https:}" != "$PEER_S3_ENDPOINT" ] && echo true || echo false)
  redirect:
    disable: true"
else
  storage="  filesystem:
    rootdirectory: $dir/storage"
fi
cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
$storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF

# setsid: the registry outlives this script, in a session of its own, so
# that the caller's terminal signals do not reach it.
setsid "$registry" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$dir/registry.pid"
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$url" 2>/dev/null; then
    echo "$pid"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$dir/registry.pid"
    cat "$dir/registry.log" >&2
    die "$peer exited while starting (log above)"
  fi
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
rm -f "$dir/registry.pid"
cat "$dir/registry.log" >&2
die "$peer did not answer on $url within 10 s (log above)"
