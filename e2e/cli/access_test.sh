#!/usr/bin/env bash
# End-to-end: policies evaluated for the aws CLI and crane. Account B pulls
# account A's image with crane at A's registry host (--registry-domain)
# once A's repository policy allows it, and is refused word for word
# before; an explicit deny on ecr:PutImage stops A's own crane push.
source "$(dirname "$0")/lib.sh"
use_tools crane
A=111111111111 B=222222222222 DOMAIN=dkr.ecr.localhost
cat >"$WORK/credentials.json" <<JSON
{"credentials": [
  {"accountId": "$A", "accessKeyId": "AKIDA", "secretAccessKey": "secretA"},
  {"accountId": "$B", "accessKeyId": "AKIDB", "secretAccessKey": "secretB"}]}
JSON
start_ecrd --credentials "$WORK/credentials.json" --registry-domain "$DOMAIN"
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
port=${ECRD_URL##*:}
hostA="$A.$DOMAIN:$port"
# *.dkr.ecr.localhost resolves nowhere here: ecrd itself is the HTTP proxy
# (Go's server takes the absolute-form request line's host as the Host),
# as wildcard DNS would be in front of a real deployment.
export HTTP_PROXY=$ECRD_URL NO_PROXY=127.0.0.1
as() { local k=$1 s=$2; shift 2; AWS_ACCESS_KEY_ID=$k AWS_SECRET_ACCESS_KEY=$s aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
ecrA() { as AKIDA secretA "$@"; }
ecrB() { as AKIDB secretB "$@"; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
arn="arn:aws:ecr:us-east-1:$A:repository/shared/app"

ecrA create-repository --repository-name shared/app --query repository.repositoryUri --output text >"$WORK/uri" || fail "create-repository"
[ "$(cat "$WORK/uri")" = "$hostA/shared/app" ] || fail "repositoryUri $(cat "$WORK/uri"), want $hostA/shared/app"
ecrB get-authorization-token --query 'authorizationData[0].proxyEndpoint' --output text | grep -qx "http://$B.$DOMAIN:$port" || fail "B's proxyEndpoint"
ok "repositoryUri and proxyEndpoint name each account's registry host"

# A pushes at its own host, B logs in (with its own password) to A's.
ecrA get-login-password | crane auth login "$hostA" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login as A"
ref=$(CRANE_FLAGS=--insecure "$ROOT/scripts/make-image.sh" "$hostA/shared/app:v1" 2 512) || fail "A's crane push"
ok "A pushes $ref with crane at $hostA"
ecrB get-login-password | crane auth login "$hostA" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login as B"

want="User: arn:aws:iam::$B:user/AKIDB is not authorized to perform: ecr:BatchGetImage on resource: $arn because no resource-based policy allows the ecr:BatchGetImage action"
if crane --insecure manifest "$hostA/shared/app:v1" >/dev/null 2>"$WORK/err"; then fail "B pulled before A allowed it"; fi
grep -qF "$want" "$WORK/err" || fail "B's refused pull: $(cat "$WORK/err"), want $want"
ecrB batch-get-image --registry-id "$A" --repository-name shared/app --image-ids imageTag=v1 >/dev/null 2>"$WORK/err" && fail "B's API pull before the policy"
grep -qF "AccessDeniedException" "$WORK/err" && grep -qF "$want" "$WORK/err" || fail "B's refused API pull: $(cat "$WORK/err")"
ok "without A's policy, B's crane and aws CLI pulls are refused with AWS's message"

cat >"$WORK/allow.json" <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Sid": "PullFromB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::$B:root"},
   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]}]}
JSON
ecrA set-repository-policy --repository-name shared/app --policy-text "file://$WORK/allow.json" >/dev/null || fail "set-repository-policy"
crane --insecure pull --format oci "$hostA/shared/app:v1" "$WORK/pulled" >/dev/null 2>"$WORK/err" || fail "B's crane pull once allowed: $(cat "$WORK/err")"
for blob in "$WORK"/pulled/blobs/sha256/*; do
  [ "$(sha256sum <"$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || fail "pulled blob $(basename "$blob") does not verify"
done
ecrB batch-get-image --registry-id "$A" --repository-name shared/app --image-ids imageTag=v1 --query 'length(images)' --output text | grep -qx 1 || fail "B's API pull once allowed"
want="User: arn:aws:iam::$B:user/AKIDB is not authorized to perform: ecr:InitiateLayerUpload on resource: $arn because no resource-based policy allows the ecr:InitiateLayerUpload action"
if CRANE_FLAGS=--insecure "$ROOT/scripts/make-image.sh" "$hostA/shared/app:b" 1 16 >/dev/null 2>"$WORK/err"; then fail "B pushed into A's repository"; fi
grep -qF "$want" "$WORK/err" || fail "B's refused push: $(cat "$WORK/err")"
ok "with A's policy, B pulls with crane and the aws CLI, and still may not push"

cat >"$WORK/deny.json" <<JSON
{"Version": "2012-10-17", "Statement": [
  {"Sid": "NoPush", "Effect": "Deny", "Principal": "*", "Action": "ecr:PutImage"}]}
JSON
ecrA set-repository-policy --repository-name shared/app --policy-text "file://$WORK/deny.json" >/dev/null || fail "set-repository-policy deny"
ecrA get-login-password | crane auth login "$hostA" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login as A again"
want="User: arn:aws:iam::$A:user/AKIDA is not authorized to perform: ecr:PutImage on resource: $arn with an explicit deny in a resource-based policy"
if CRANE_FLAGS=--insecure "$ROOT/scripts/make-image.sh" "$hostA/shared/app:v2" 1 16 >/dev/null 2>"$WORK/err"; then fail "A pushed past an explicit deny"; fi
grep -qF "$want" "$WORK/err" || fail "A's refused crane push: $(cat "$WORK/err")"
ecrA describe-images --repository-name shared/app --query 'length(imageDetails)' --output text | grep -qx 1 || fail "the refused push left an image"
ok "an explicit deny on ecr:PutImage stops A's own crane push, and nothing is left of it"

echo "access: $passed passed, 0 failed"
