#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite against a registry.
#
#   scripts/oci-conformance.sh URL REPO [USER PASSWORD]
#   scripts/oci-conformance.sh http://127.0.0.1:5000 conformance/repo1 AWS "$(aws ecr get-login-password ...)"
#
# REPO is the repository most tests push to; REPO-2 (or $OCI_REPO2) is the
# source of the cross-repository mounts. A registry that, like ECR, refuses
# pushes to a repository nobody created needs both created first. Any OCI_*
# setting of the suite passes through (OCI_VERSION, OCI_API_*, OCI_DATA_*,
# OCI_FILTER_TEST, OCI_LOG...). Reports (junit.xml, results.yaml,
# report.html, output.log) go to $OCI_RESULTS_DIR, by default a new
# temporary directory.
#
# It prints the failed tests, if any, and last a line
# "oci-conformance: P passed, F failed, S skipped (reports in DIR)"; it
# exits 0 only if every test the settings enable passed.
set -euo pipefail
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ $# -eq 2 ] || [ $# -eq 4 ] || die "usage: $me URL REPO [USER PASSWORD]"
url=${1%/} repo=$2
"$ROOT/scripts/install-tools.sh" oci-conformance

case $url in
  http://*) export OCI_TLS=${OCI_TLS:-disabled} OCI_REGISTRY=${url#http://} ;;
  https://*) export OCI_TLS=${OCI_TLS:-enabled} OCI_REGISTRY=${url#https://} ;;
  *) die "URL must start with http:// or https://, not '$url'" ;;
esac
export OCI_REPO1=$repo OCI_REPO2=${OCI_REPO2:-$repo-2}
if [ $# -eq 4 ]; then export OCI_USERNAME=$3 OCI_PASSWORD=$4; fi
results=${OCI_RESULTS_DIR:-$(mktemp -d -t oci-conformance.XXXXXX)}
mkdir -p "$results"
results=$(cd "$results" && pwd)
export OCI_RESULTS_DIR=$results
rm -f "$results/junit.xml" "$results/results.yaml" "$results/report.html"

# From the results directory: the suite reads ./oci-conformance.yaml when
# there is one, and a stray one in the caller's directory must not count.
rc=0
(cd "$results" && "$ROOT/.tools/bin/oci-conformance") >"$results/output.log" 2>&1 || rc=$?
# A setting the suite cannot use makes it exit 0 having tested nothing:
# only a report says that it ran.
if [ ! -s "$results/junit.xml" ]; then
  tail -20 "$results/output.log" >&2
  die "the suite wrote no junit.xml, so it ran no test (output above, all of it in $results/output.log)"
fi

# One line per failed test, cut short: some errors quote whole bodies.
failed=$(grep -c 'msg="failed test"' "$results/output.log" || true)
grep 'msg="failed test"' "$results/output.log" | sed 's/^.*msg="failed test" //' | cut -c1-200 | head -30 || true
[ "$failed" -le 30 ] || echo "... and $((failed - 30)) more failed tests in $results/output.log"
suite=$(grep -o -m1 '<testsuite [^>]*' "$results/junit.xml" || true)
count() { # count ATTR: the number in ATTR="N" of the suite's element, 0 if absent
  local n
  n=$(printf '%s\n' "$suite" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")
  echo "${n:-0}"
}
tests=$(count tests) failures=$(count failures) errors=$(count errors) skipped=$(count skipped) disabled=$(count disabled)
[ "$tests" -gt 0 ] || die "junit.xml counts no tests (see $results/output.log)"
echo "oci-conformance: $((tests - failures - errors - skipped - disabled)) passed, $((failures + errors)) failed, $((skipped + disabled)) skipped (reports in $results)"
if [ "$rc" -eq 0 ] && [ $((failures + errors)) -gt 0 ]; then rc=1; fi
exit "$rc"
