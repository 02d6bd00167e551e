#!/usr/bin/env bash
# End-to-end: image scanning with the aws CLI and crane. ecrd vuln-db check
# reads the OSV fixture; a BASIC SCAN_ON_PUSH rule scans a Debian image
# crane pushes; `aws ecr wait image-scan-complete` waits for it;
# describe-image-scan-findings and describe-images report what the
# fixture says; a second scan the same day is refused.
source "$(dirname "$0")/lib.sh"
use_tools crane
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

(cd "$ROOT" && go build -o "$WORK/ecrd" ./cmd/ecrd)
out=$("$WORK/ecrd" vuln-db check --vuln-db "$ROOT/e2e/testdata/osv") || fail "ecrd vuln-db check: $out"
case "$out" in "13 entries,"*"debian:12"*"rocky linux:9"*) ;; *) fail "ecrd vuln-db check said: $out" ;; esac
mkdir -p "$WORK/bad" && echo '{"not": "osv"' >"$WORK/bad/x.json"
if "$WORK/ecrd" vuln-db check --vuln-db "$WORK/bad" >/dev/null 2>"$WORK/bad.err"; then fail "a broken database checked"; fi
grep -q "x.json" "$WORK/bad.err" || fail "the broken entry is not named: $(cat "$WORK/bad.err")"
ok "ecrd vuln-db check reads the fixture and names a broken entry"

start_ecrd --vuln-db "$ROOT/e2e/testdata/osv"
host=${ECRD_URL#http://}
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
ecr get-login-password | crane auth login "$host" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane login"

[ "$(ecr get-registry-scanning-configuration --query scanningConfiguration.scanType --output text)" = BASIC ] || fail "the default scan type"
ecr put-registry-scanning-configuration --scan-type BASIC \
  --rules '[{"scanFrequency":"SCAN_ON_PUSH","repositoryFilters":[{"filter":"debian","filterType":"WILDCARD"}]}]' >/dev/null ||
  fail "put-registry-scanning-configuration"
[ "$(ecr batch-get-repository-scanning-configuration --repository-names nope --query 'failures[0].failureCode' --output text)" = REPOSITORY_NOT_FOUND ] ||
  fail "batch-get-repository-scanning-configuration of a missing repository"
ecr create-repository --repository-name os/debian >/dev/null || fail "create-repository"
[ "$(ecr batch-get-repository-scanning-configuration --repository-names os/debian --query 'scanningConfigurations[0].scanFrequency' --output text)" = SCAN_ON_PUSH ] ||
  fail "batch-get-repository-scanning-configuration"
ok "aws ecr put-registry-scanning-configuration, and the repository is scanned on push"

# A Debian image: os-release and dpkg's status in one layer.
mkdir -p "$WORK/rootfs/etc" "$WORK/rootfs/var/lib/dpkg"
printf 'ID=debian\nVERSION_ID="12"\n' >"$WORK/rootfs/etc/os-release"
printf 'Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u1\n\nPackage: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n' \
  >"$WORK/rootfs/var/lib/dpkg/status"
tar -C "$WORK/rootfs" -czf "$WORK/layer.tar.gz" etc var
crane append -f "$WORK/layer.tar.gz" -t "$host/os/debian:12" >/dev/null 2>&1 || fail "crane append"
timeout 120 aws ecr --endpoint-url "$ECRD_URL" wait image-scan-complete --repository-name os/debian --image-id imageTag=12 ||
  fail "aws ecr wait image-scan-complete"
ok "aws ecr wait image-scan-complete returns once the scan on push completes"

findings=$(ecr describe-image-scan-findings --repository-name os/debian --image-id imageTag=12)
echo "$findings" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["imageScanStatus"] == {"status": "COMPLETE", "description": "The scan was completed successfully."}, d["imageScanStatus"]
f = d["imageScanFindings"]
assert f["findingSeverityCounts"] == {"CRITICAL": 1, "MEDIUM": 1}, f["findingSeverityCounts"]
names = [(x["name"], x["severity"]) for x in f["findings"]]
assert names == [("CVE-2023-0001", "CRITICAL"), ("CVE-2023-0004", "MEDIUM")], names
attrs = {a["key"]: a.get("value") for a in f["findings"][0]["attributes"]}
assert attrs["package_name"] == "openssl" and attrs["package_version"] == "3.0.11-1~deb12u1" and attrs["CVSS3_SCORE"] == "9.8", attrs
assert f["vulnerabilitySourceUpdatedAt"] and f["imageScanCompletedAt"]
' || fail "describe-image-scan-findings: $findings"
ok "aws ecr describe-image-scan-findings reports the fixture's findings and counts"

[ "$(ecr describe-images --repository-name os/debian --image-ids imageTag=12 \
  --query 'imageDetails[0].[imageScanStatus.status,imageScanFindingsSummary.findingSeverityCounts.CRITICAL]' --output text)" = "COMPLETE	1" ] ||
  fail "describe-images' scan summary"
ok "aws ecr describe-images reports imageScanStatus and imageScanFindingsSummary"

if ecr start-image-scan --repository-name os/debian --image-id imageTag=12 >/dev/null 2>"$WORK/limit.err"; then fail "a second scan the same day"; fi
grep -q LimitExceededException "$WORK/limit.err" || fail "start-image-scan: $(cat "$WORK/limit.err")"
ok "aws ecr start-image-scan the same day: LimitExceededException"
echo "scanning CLI: $passed checks passed"
