#!/usr/bin/env bash
# Runs ecrd's tests. CI runs exactly `./test.sh` (.ci/run).
#
#   ./test.sh          everything, about 12 minutes on 2 cores: static checks, the Go
#                      tests (unit, contract and end-to-end with the AWS SDK for Go v2)
#                      under the race detector, fuzzing, the end-to-end scripts with the
#                      AWS CLI, boto3, crane, regctl, skopeo and the OCI conformance
#                      suite, the README's quick start, and the benchmarks once each
#   ./test.sh quick    the everyday subset, a few minutes: gofmt, go vet and
#                      go test -short ./... without the race detector
#
# It checks its prerequisites first and names every one that is missing with
# how to get it, then installs the tools the end-to-end scripts and the
# benchmarks use (scripts/install-tools.sh), so that a network problem shows
# in the first minutes. Each stage prints "== <stage>" when it starts and
# "-- <stage>: <duration>" when it ends; the run stops at the first stage
# that fails and ends with a summary of the stages and their durations.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-full}
case $mode in
  full | quick) ;;
  *) echo "usage: ./test.sh [quick]" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "usage: ./test.sh [quick]" >&2; exit 2; }

tmp=$(mktemp -d)
stop_backends() {
  if [ -f "$tmp/s3.pid" ]; then kill "$(cat "$tmp/s3.pid")" 2>/dev/null || true; fi
  if [ -f "$tmp/s3.dir" ]; then rm -rf "$(cat "$tmp/s3.dir")"; fi
  rm -rf "$tmp"
}
trap stop_backends EXIT

duration() { # duration SECONDS: 14s, 3m05s
  if [ "$1" -lt 60 ]; then echo "$1s"; else printf '%dm%02ds\n' $(($1 / 60)) $(($1 % 60)); fi
}

summary=()
print_summary() {
  echo
  echo "test.sh $mode: $1 in $(duration "$SECONDS")"
  printf '  %s\n' "${summary[@]}"
}

# stage NAME COMMAND...: runs COMMAND as one stage. COMMAND runs in a
# subshell with errexit on, so that a function's first failing command
# fails the stage (a function called from `if` or `||` would ignore it).
stage() {
  local name=$1 start=$SECONDS rc took
  shift
  echo "== $name"
  set +e
  (set -e; "$@")
  rc=$?
  set -e
  took=$(duration $((SECONDS - start)))
  if [ "$rc" -ne 0 ]; then
    echo "-- $name: FAILED after $took" >&2
    summary+=("$(printf '%-7s %-6s %s' FAILED "$took" "$name")")
    print_summary "FAILED at $name" >&2
    exit 1
  fi
  echo "-- $name: $took"
  summary+=("$(printf '%-7s %-6s %s' ok "$took" "$name")")
}

# prerequisites names everything missing at once, with how to get it, and
# fails if anything is.
prerequisites() {
  local missing=() have want
  command -v git >/dev/null || missing+=("git: apt-get install git")
  if ! command -v go >/dev/null; then
    missing+=("go $(awk '$1 == "go" {print $2}' go.mod) or newer: https://go.dev/dl/")
  else
    want=$(awk '$1 == "go" {print $2}' go.mod)
    have=$(go env GOVERSION 2>&1) || have="? ($have)"
    have=${have#go}
    case $have in
      devel*) ;;
      *) if [ "$(printf '%s\n' "$want" "${have%% *}" | sort -V | head -1)" != "$want" ]; then
        missing+=("go $want or newer (go.mod's go line), not go $have: https://go.dev/dl/")
      fi ;;
    esac
  fi
  if ! command -v python3 >/dev/null; then
    missing+=("python3 with boto3: apt-get install python3 python3-boto3")
  elif ! python3 -c 'import boto3' 2>/dev/null; then
    missing+=("boto3 for $(command -v python3): apt-get install python3-boto3, or pip install boto3")
  fi
  if [ "$mode" = full ]; then
    command -v aws >/dev/null || missing+=("the aws CLI: apt-get install awscli, or pip install awscli")
    command -v curl >/dev/null || missing+=("curl: apt-get install curl")
    command -v tar >/dev/null || missing+=("tar: apt-get install tar")
    command -v sha256sum >/dev/null || missing+=("sha256sum: apt-get install coreutils")
    # scripts/install-tools.sh installs it with apt-get.
    local pkgs=()
    command -v skopeo >/dev/null || pkgs+=(skopeo)
    if [ ${#pkgs[@]} -gt 0 ]; then
      if ! command -v apt-get >/dev/null; then
        missing+=("${pkgs[*]}: not installed, and there is no apt-get to install them; install them with the system's package manager")
      elif [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
        missing+=("${pkgs[*]}: not installed, and apt-get needs root or passwordless sudo; run: sudo apt-get install ${pkgs[*]}")
      fi
    fi
  fi
  [ ${#missing[@]} -eq 0 ] && return
  echo "test.sh: missing prerequisites:" >&2
  printf '  - %s\n' "${missing[@]}" >&2
  return 1
}

# gofmt_check lists the Go files gofmt would change: all of the clone's but
# the ignored ones, untracked files too (or every file, outside git).
gofmt_check() {
  local bad
  bad=$({ git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'; } |
    while read -r f; do if [ -f "$f" ]; then echo "$f"; fi; done | xargs -r gofmt -l)
  [ -z "$bad" ] || { echo "gofmt would change: $bad" >&2; return 1; }
}

# fuzz BUDGET PACKAGE TARGET... fuzzes each target for BUDGET inputs (Nx):
# a count, never a duration, because Go before 1.27 can fail a duration's
# end under CPU contention with a bare "context deadline exceeded" and no
# failing input (golang/go#75804).
fuzz() {
  local t=$1 pkg=$2 target
  shift 2
  for target in "$@"; do
    go test -run '^$' -fuzz "^$target\$" -fuzztime "$t" "$pkg"
  done
}

fuzz_parsers() {
  fuzz 40000x ./internal/registry/ FuzzParseDigest FuzzParseManifest
  fuzz 40000x ./internal/api/oci/ FuzzParseRoute FuzzParseContentRange FuzzAcceptedTypes FuzzCredentialsOf
  fuzz 40000x ./internal/iam/ FuzzParse FuzzEvaluate FuzzMatch
}

# backends starts the servers the scale-out stores' tests run against and
# writes their addresses to $tmp/backends.env; the S3 server stops when the
# run ends (PostgreSQL is the machine's cluster, left running).
backends() {
  local dsn pid s3dir
  dsn=$(scripts/start-postgres.sh)
  # One line, a URL: anything else means a tool wrote to the script's stdout.
  case $dsn in
    postgres://*) [ "$(printf '%s\n' "$dsn" | wc -l)" = 1 ] || { echo "start-postgres.sh printed more than a DSN: $(printf '%q' "$dsn")" >&2; return 1; } ;;
    *) echo "start-postgres.sh printed no DSN: $(printf '%q' "$dsn")" >&2; return 1 ;;
  esac
  scripts/install-tools.sh versitygw
  # versitygw keeps object metadata in xattrs, which tmpfs (often /tmp)
  # lacks: its data goes under /var/tmp.
  s3dir=$(mktemp -d /var/tmp/ecrd-test-s3.XXXXXX)
  echo "$s3dir" >"$tmp/s3.dir"
  pid=$(S3_BUCKETS=ecrd-test scripts/run-s3.sh "$S3_PORT" "$s3dir")
  echo "$pid" >"$tmp/s3.pid"
  {
    echo "export ECRD_TEST_POSTGRES_DSN='$dsn'"
    echo "export ECRD_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT ECRD_TEST_S3_BUCKET=ecrd-test"
  } >"$tmp/backends.env"
}
S3_PORT=${S3_PORT:-19000}

go_benchmarks() {
  go test -run '^$' -bench . -benchtime 1x ./internal/registry/ ./internal/api/awsjson/ ./internal/blobstore/fs/ ./internal/app/
  go test -run '^$' -bench . -benchtime 1x ./internal/lifecycle/ -args -bench.images 100,1000
  go test -run '^$' -bench . -benchtime 1x ./e2e/ -args -bench.layer=16
}

# The scale-out comparison starts its own versitygw (and reuses the
# PostgreSQL cluster of backends, by scripts/start-postgres.sh).
bench_short() {
  go run ./bench -short -out "$tmp/bench"
  go run ./bench -scaleout -short -out "$tmp/bench"
}

stage prerequisites prerequisites
if [ "$mode" = quick ]; then
  stage gofmt gofmt_check
  stage "go vet" go vet ./...
  stage "go test -short (no race detector)" go test -short -count=1 -timeout 20m ./...
  print_summary "all passed"
  exit 0
fi

stage "install tools (scripts/install-tools.sh)" scripts/install-tools.sh
stage "start the scale-out stores' servers: PostgreSQL 15 and versitygw (S3)" backends
# The contract suites of the PostgreSQL and S3 stores find their servers by
# these; with CI=true a suite without its server fails, never skips.
# shellcheck disable=SC1091
source "$tmp/backends.env"
stage gofmt gofmt_check
stage "go vet" go vet ./...
stage "go test -race" go test -race -count=1 -timeout 40m ./...
stage "fuzz: the Authorization header parser and the SigV4 verifier (60,000 inputs each)" fuzz 60000x ./internal/auth/ FuzzParseAuthorization FuzzVerify
stage "fuzz: the digest, manifest, /v2/ route, Content-Range, Accept and Authorization parsers, and the policy parser, matcher and evaluator (40,000 inputs each)" fuzz_parsers
stage "e2e: the aws CLI" bash e2e/cli/aws_cli_test.sh
stage "e2e: lifecycle policies with the aws CLI and ecrd lifecycle run --at" bash e2e/cli/lifecycle_test.sh
stage "e2e: access control with the aws CLI and crane: cross-account pulls by registry host, explicit deny" bash e2e/cli/access_test.sh
stage "e2e: boto3" bash e2e/cli/boto3_test.sh
stage "e2e: aws ecr-public, and crane's and skopeo's anonymous pulls" bash e2e/cli/aws_ecr_public_test.sh
stage "e2e: /v2/ with crane, regctl, skopeo and the OCI conformance suite" bash e2e/cli/oci_clients_test.sh
stage "e2e: the pull through cache against distribution with htpasswd as Docker Hub, pulled through with crane and skopeo" bash e2e/cli/pullthrough_test.sh
stage "e2e: replication between two ecrd processes (us-east-1, us-west-2) with the aws CLI and crane" bash e2e/cli/replication_test.sh
stage "e2e: image scanning (scan on push, the waiter, findings) with the aws CLI and crane" bash e2e/cli/scanning_test.sh
stage "e2e: managed signing with the aws CLI and crane, verified by notation-go" bash e2e/cli/signing_test.sh
stage "e2e: the README's quick start, as written" bash e2e/cli/readme_test.sh
stage "e2e: TLS (a CA made in the test) with curl, the aws CLI, boto3, crane, regctl and skopeo" bash e2e/cli/tls_test.sh
stage "e2e: three replicas on PostgreSQL and S3 behind nginx (deploy/nginx/ecrd.conf), one killed mid-push" bash e2e/cli/replicas_lb_test.sh
stage "the container image: built without a daemon from the Dockerfile, pushed into ecrd, pulled back, run" bash e2e/cli/image_test.sh
stage "deploy/: Kubernetes manifests, the compose file, the systemd unit and the dashboard, checked offline" \
  go -C deploy/validate test -count=1 ./...
stage "go test -bench, once each at small sizes so that they cannot rot (no timings asserted)" go_benchmarks
stage "go run ./bench -short and -scaleout -short: ecrd beside distribution v3.1.2 and the HTTP floor, and on PostgreSQL + S3 beside distribution v3, at small sizes" \
  bench_short
stage "go run ./bench -growth -short: the growth benchmark at tiny sizes (without -short, 1k to 100k images)" \
  go run ./bench -growth -short -out "$tmp/growth"
print_summary "all passed"
