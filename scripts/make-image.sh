#!/usr/bin/env bash
# Makes a test image without pulling anything and pushes it to REF: LAYERS
# layers (default 1), each a tar of one file of SIZE_KIB KiB (default 1024)
# of random bytes, so that no two layers share a digest, on crane's empty
# base with OCI media types. It prints what crane pushed, REPOSITORY@sha256:DIGEST.
#
#   scripts/make-image.sh REF [LAYERS [SIZE_KIB]]
#   scripts/make-image.sh 127.0.0.1:5000/app:v1 3 2048
#
# crane logs in as its config says (crane auth login, $DOCKER_CONFIG) and
# speaks plain HTTP to 127.0.0.1 and localhost by itself; CRANE_FLAGS adds
# flags (e.g. --insecure for another host). Installs crane first if it is
# missing (scripts/install-tools.sh).
set -euo pipefail
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -ge 1 ] && [ $# -le 3 ] || die "usage: $me REF [LAYERS [SIZE_KIB]]"
ref=$1 layers=${2:-1} kib=${3:-1024}
case $layers in '' | *[!0-9]* | 0) die "LAYERS must be a number above 0, not '$layers'" ;; esac
case $kib in '' | *[!0-9]*) die "SIZE_KIB must be a number, not '$kib'" ;; esac
"$ROOT/scripts/install-tools.sh" crane

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=()
for i in $(seq 1 "$layers"); do
  mkdir -p "$tmp/$i"
  head -c "$((kib * 1024))" /dev/urandom >"$tmp/$i/layer-$i.bin"
  tar -C "$tmp/$i" -cf "$tmp/layer-$i.tar" "layer-$i.bin"
  args+=(-f "$tmp/layer-$i.tar")
done
# shellcheck disable=SC2086 # CRANE_FLAGS is a list of flags
if ! "$ROOT/.tools/bin/crane" append ${CRANE_FLAGS:-} --oci-empty-base "${args[@]}" -t "$ref" >"$tmp/out" 2>"$tmp/err"; then
  cat "$tmp/err" >&2
  die "crane append to $ref failed"
fi
cat "$tmp/out"
