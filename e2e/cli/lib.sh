# Shared by the CLI end-to-end scripts: install the tools a script uses,
# build ecrd, start it on a free port (or a given one) over a fresh data
# dir, stop it on exit. Source it; it sets ECRD_URL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d)
ECRD_PID=

cleanup() {
  if [ -n "$ECRD_PID" ]; then kill "$ECRD_PID" 2>/dev/null || true; wait "$ECRD_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/ecrd.log" ] && tail -20 "$WORK/ecrd.log" >&2; exit 1; }

# use_tools installs the named tools (scripts/install-tools.sh: crane,
# regctl, skopeo...) and puts the repository's .tools/bin first on PATH.
use_tools() {
  "$ROOT/scripts/install-tools.sh" "$@" || fail "installing $*"
  export PATH=$ROOT/.tools/bin:$PATH
}

# start_ecrd builds and runs ecrd on a free port; extra arguments go to
# `ecrd serve`.
start_ecrd() { start_ecrd_on 127.0.0.1:0 "$@"; }

# start_ecrd_on ADDR [ARG...] is start_ecrd listening on ADDR.
start_ecrd_on() {
  local listen=$1
  shift
  (cd "$ROOT" && go build -o "$WORK/ecrd" ./cmd/ecrd)
  : >"$WORK/ecrd.log" # there before the loop below reads it
  # The address is read from the log, in text format whatever ECRD_LOG_FORMAT says.
  "$WORK/ecrd" serve --listen "$listen" --data-dir "$WORK/data" --log-format text "$@" 2>"$WORK/ecrd.log" &
  ECRD_PID=$!
  local addr=
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/.*msg="ecrd serving" addr=\([^ ]*\).*/\1/p' "$WORK/ecrd.log" | head -1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || fail "ecrd did not start"
  ECRD_URL="http://$addr"
  export ECRD_URL
}

# The dummy credentials and region a quick start uses.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
