#!/usr/bin/env bash
# Installs what ecrd's tests and benchmarks run besides Go, git and the AWS
# tools, at pinned versions:
#
#   crane, regctl, oras   registry clients, go install'ed into .tools/bin
#   oci-conformance       the OCI distribution-spec conformance suite, built into .tools/bin
#   versitygw             an S3 gateway (posix backend) for internal/blobstore/s3's tests,
#                         go install'ed into .tools/bin; only when asked by name
#                         (scripts/run-s3.sh asks for it)
#   distribution          CNCF distribution v3.1.2 (its registry command, with the S3 driver),
#                         the peer of go run ./bench; go install'ed into .tools/bin
#   skopeo                Debian's package (apt-get, as root or with sudo -n)
#   docker-registry       CNCF distribution 2.8, Debian's package (apt-get, as root or with
#                         sudo -n); only when asked by name (go run ./bench -peer docker-registry)
#   nginx                 the load balancer in front of three replicas in
#                         e2e/cli/replicas_lb_test.sh, Debian's package; only when asked by name
#
#   scripts/install-tools.sh                  # everything ./test.sh and go run ./bench need
#   scripts/install-tools.sh crane skopeo     # only these
#   scripts/install-tools.sh all              # everything, oras too (no test uses it)
#
# Idempotent: a Go tool is rebuilt only when the binary is not the pinned
# package at the pinned version (go version -m says which it is), a Debian
# tool is installed only when it is not on PATH; with everything in place a
# run takes a fraction of a second. Quiet on success; on failure it prints
# "install-tools.sh: <reason>" after the failing installer's output.
set -euo pipefail
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/.tools/bin

# The Go tools: binary name -> package@version. The conformance suite has no
# tags, so it is pinned by pseudo-version (the proxy refuses @main).
declare -A GO_TOOLS=(
  [crane]=github.com/google/go-containerregistry/cmd/crane@v0.22.1
  [regctl]=github.com/regclient/regclient/cmd/regctl@v0.11.7
  [oras]=oras.land/oras/cmd/oras@v1.3.6
  [oci-conformance]=github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111
  [versitygw]=github.com/versity/versitygw/cmd/versitygw@v1.8.0
  [distribution]=github.com/distribution/distribution/v3/cmd/registry@v3.1.2
)
# The Debian tools: binary name -> package.
declare -A APT_TOOLS=([skopeo]=skopeo [docker-registry]=docker-registry [nginx]=nginx)
NEEDED=(crane regctl skopeo oci-conformance distribution)

want=("$@")
[ ${#want[@]} -gt 0 ] || want=("${NEEDED[@]}")
[ "${want[*]}" != all ] || want=("${NEEDED[@]}" oras)
for t in "${want[@]}"; do
  [ -n "${GO_TOOLS[$t]:-}${APT_TOOLS[$t]:-}" ] || die "unknown tool '$t' (known: ${!GO_TOOLS[*]} ${!APT_TOOLS[*]}, all)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# installed_as prints package@version of a Go binary, or nothing.
installed_as() {
  [ -x "$1" ] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "path" {p = $2} $1 == "mod" {v = $3} END {if (p && v) print p "@" v}'
}

# The Go tools, built side by side: on a cold module cache most of the time
# is downloading, which overlaps well. Each goes to its own GOBIN and is then
# moved into place, so that a test running the old binary never sees half a
# new one, and the suite's binary (conformance) gets a name that says what it is.
pids=() names=()
for t in "${want[@]}"; do
  spec=${GO_TOOLS[$t]:-}
  [ -n "$spec" ] || continue
  [ "$(installed_as "$BIN/$t")" != "$spec" ] || continue
  command -v go >/dev/null || die "go is needed to install $t (https://go.dev/dl/)"
  mkdir -p "$tmp/$t"
  GOBIN=$tmp/$t CGO_ENABLED=0 go install "$spec" >"$tmp/$t.log" 2>&1 &
  pids+=($!) names+=("$t")
done
failed=()
for i in "${!pids[@]}"; do
  t=${names[$i]}
  if ! wait "${pids[$i]}"; then
    cat "$tmp/$t.log" >&2
    failed+=("go install ${GO_TOOLS[$t]}")
    continue
  fi
  built=("$tmp/$t"/*)
  [ ${#built[@]} -eq 1 ] && [ -x "${built[0]}" ] || die "go install ${GO_TOOLS[$t]} made no single binary"
  mkdir -p "$BIN"
  mv -f "${built[0]}" "$BIN/$t"
done
[ ${#failed[@]} -eq 0 ] || die "failed: $(IFS=,; echo "${failed[*]}") (is the Go module proxy reachable? go env GOPROXY: $(go env GOPROXY))"

# The Debian tools, in one apt-get.
pkgs=()
for t in "${want[@]}"; do
  pkg=${APT_TOOLS[$t]:-}
  if [ -n "$pkg" ] && ! command -v "$t" >/dev/null; then pkgs+=("$pkg"); fi
done
if [ ${#pkgs[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "${pkgs[*]} not installed, and there is no apt-get to install them with; install them with your package manager"
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || die "${pkgs[*]} not installed; installing needs root or passwordless sudo: sudo apt-get install ${pkgs[*]}"
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh Debian image has no package lists yet.
  if ! apt-cache show "${pkgs[@]}" >/dev/null 2>&1; then
    "${sudo[@]}" apt-get update -qq >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; die "apt-get update failed"; }
  fi
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >"$tmp/apt.log" 2>&1 \
    || { tail -30 "$tmp/apt.log" >&2; die "apt-get install ${pkgs[*]} failed"; }
  for t in "${want[@]}"; do
    [ -z "${APT_TOOLS[$t]:-}" ] || command -v "$t" >/dev/null || die "$t is not on PATH after apt-get install ${APT_TOOLS[$t]}"
  done
fi
