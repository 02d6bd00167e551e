#!/usr/bin/env bash
# Builds ecrd's container image without a Docker daemon: the image
# `docker build .` makes from the Dockerfile, written as an OCI image layout
# and, with --push, pushed with crane (scripts/install-tools.sh installs it).
#
#   scripts/build-image.sh -o DIR [--platform linux/amd64,linux/arm64] [--push REF]
#
# It runs the Dockerfile's build stage itself (the same `go build` line; a
# test in deploy/imagebuild keeps the two equal) and hands the result to
# deploy/imagebuild, which reads the final stage from the Dockerfile: the
# layers it copies, ENTRYPOINT, CMD, USER, ENV, EXPOSE, VOLUME, HEALTHCHECK,
# WORKDIR and LABELs. The same commit makes the same digest: every time in
# the image is the commit's ($SOURCE_DATE_EPOCH overrides it).
#
# VERSION (default: git describe) and REVISION (default: the commit) become
# `ecrd version` and ecrd_build_info, and VERSION the image's
# org.opencontainers.image.version label. Several platforms make an index.
# It prints the digest, or REF@digest after a push.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "build-image: $*" >&2; exit 1; }

out='' push='' platforms=linux/$(go env GOARCH)
while [ $# -gt 0 ]; do
  case "$1" in
    -o|--output) out=${2:?}; shift 2 ;;
    --platform) platforms=${2:?}; shift 2 ;;
    --push) push=${2:?}; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$out" ] || die "want -o DIR (see --help)"

VERSION=${VERSION:-$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)}
REVISION=${REVISION:-$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The build stage, once per platform: what it leaves in /out goes to
# $tmp/stage/<os>_<arch>/out.
IFS=, read -ra plats <<<"$platforms"
for p in "${plats[@]}"; do
  [[ $p =~ ^[a-z0-9]+/[a-z0-9]+$ ]] || die "platform $p: want os/arch, such as linux/arm64"
  TARGETOS=${p%/*} TARGETARCH=${p#*/}
  dir=$tmp/stage/${TARGETOS}_${TARGETARCH}/out
  mkdir -p "$dir/data"
  (cd "$ROOT" && CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false -ldflags="-s -w -X github.com/ecrd/ecrd/internal/buildinfo.Version=$VERSION -X github.com/ecrd/ecrd/internal/buildinfo.Revision=$REVISION" -o "$dir/ecrd" ./cmd/ecrd) \
    || die "go build for $p failed"
done

go build -C "$ROOT/deploy/imagebuild" -o "$tmp/imagebuild" . || die "building deploy/imagebuild failed"
digest=$("$tmp/imagebuild" -f "$ROOT/Dockerfile" -stage build="$tmp/stage" -platform "$platforms" \
  -build-arg VERSION="$VERSION" -o "$out") || die "imagebuild failed"

if [ -z "$push" ]; then
  echo "$digest"
  exit 0
fi
"$ROOT/scripts/install-tools.sh" crane || die "installing crane failed"
crane=$ROOT/.tools/bin/crane
index=()
[ "${#plats[@]}" -eq 1 ] || index=(--index)
"$crane" push "${index[@]}" "$out" "$push" >/dev/null 2>"$tmp/push.log" || { cat "$tmp/push.log" >&2; die "crane push to $push failed"; }
echo "${push%%@*}@$digest"
