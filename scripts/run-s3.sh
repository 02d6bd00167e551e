#!/usr/bin/env bash
# Starts an S3-compatible server for internal/blobstore/s3's tests: versitygw
# (scripts/install-tools.sh versitygw) on 127.0.0.1:PORT with its posix
# backend under DIR/data, a bucket being a directory there. It runs in the
# background; the script prints its PID once it answers HTTP.
#
#   scripts/run-s3.sh 9000 /var/tmp/ecrd-s3
#   ECRD_TEST_S3_ENDPOINT=http://127.0.0.1:9000 ECRD_TEST_S3_BUCKET=ecrd-test \
#     go test ./internal/blobstore/s3
#   kill "$(cat /var/tmp/ecrd-s3/s3.pid)"
#
# Env: S3_ACCESS_KEY (test), S3_SECRET_KEY (testsecret), S3_REGION (us-east-1),
# S3_BUCKETS (ecrd-test: space-separated buckets to create). Clients use
# path-style addressing. DIR needs a file system with user xattrs (ext4, xfs;
# not tmpfs), where versitygw keeps object metadata. The log is DIR/s3.log.
# Run again with the same DIR and PORT, it prints the running server's PID.
set -euo pipefail
# Stdout carries the PID and nothing else; everything else goes to stderr.
exec 3>&1 1>&2
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $me PORT DIR"
PORT=$1 DIR=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ACCESS=${S3_ACCESS_KEY:-test} SECRET=${S3_SECRET_KEY:-testsecret} REGION=${S3_REGION:-us-east-1}
BUCKETS=${S3_BUCKETS:-ecrd-test}
command -v curl >/dev/null || die "curl is needed to tell when the server answers"

mkdir -p "$DIR/data"
DIR=$(cd "$DIR" && pwd)
PIDFILE=$DIR/s3.pid LOG=$DIR/s3.log
answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; }
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  answers || die "a server (pid $(cat "$PIDFILE")) already runs for $DIR, but not on port $PORT"
  cat "$PIDFILE" >&3
  exit 0
fi

"$ROOT/scripts/install-tools.sh" versitygw
# The posix backend serves every directory under data/ as a bucket.
for b in $BUCKETS; do mkdir -p "$DIR/data/$b"; done
# Global flags go before the backend's name.
setsid "$ROOT/.tools/bin/versitygw" --access "$ACCESS" --secret "$SECRET" --region "$REGION" \
  --port "127.0.0.1:$PORT" posix "$DIR/data" >"$LOG" 2>&1 </dev/null 3>&- &
pid=$!
echo "$pid" >"$PIDFILE"
for _ in $(seq 150); do
  answers && { echo "$pid" >&3; exit 0; }
  kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; rm -f "$PIDFILE"; die "versitygw exited during start-up"; }
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
rm -f "$PIDFILE"
cat "$LOG" >&2
die "versitygw did not answer on 127.0.0.1:$PORT within 15 s"
