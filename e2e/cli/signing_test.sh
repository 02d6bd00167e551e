#!/usr/bin/env bash
# End-to-end: managed signing with the aws CLI and crane, verified by the
# Notary Project's own library (tools/notaryverify, built on notation-go,
# since the notation CLI itself does not install with go install here).
# A signing rule covers app/*; a crane push there is signed with the
# profile's key (--signing-keys) as describe-image-signing-status reports,
# and the signature verifies against the profile's certificate and not
# against another; a push elsewhere is not signed.
source "$(dirname "$0")/lib.sh"
use_tools crane
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

(cd "$ROOT/tools/notaryverify" && go build -o "$WORK/notaryverify" .) || fail "building tools/notaryverify"
mkdir -p "$WORK/keys" "$WORK/other"
"$WORK/notaryverify" -make-key "$WORK/keys" && "$WORK/notaryverify" -make-key "$WORK/other" || fail "making keys"
profile="arn:aws:signer:us-east-1:000000000000:/signing-profiles/release"
printf '{"%s": {"key": "signer.key", "certificates": "signer.crt"}}\n' "$profile" >"$WORK/keys/keys.json"

start_ecrd --signing-keys "$WORK/keys/keys.json"
host=${ECRD_URL#http://}
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
password=$(ecr get-login-password) || fail "get-login-password"
echo "$password" | crane auth login "$host" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane login"

if ecr get-signing-configuration >/dev/null 2>"$WORK/none.err"; then fail "a configuration before any"; fi
grep -q SigningConfigurationNotFoundException "$WORK/none.err" || fail "get-signing-configuration: $(cat "$WORK/none.err")"
ecr put-signing-configuration --signing-configuration \
  "{\"rules\":[{\"signingProfileArn\":\"$profile\",\"repositoryFilters\":[{\"filter\":\"app/*\",\"filterType\":\"WILDCARD_MATCH\"}]}]}" >/dev/null ||
  fail "put-signing-configuration"
[ "$(ecr get-signing-configuration --query 'signingConfiguration.rules[0].repositoryFilters[0].filter' --output text)" = 'app/*' ] ||
  fail "get-signing-configuration"
ok "aws ecr put-signing-configuration and get-signing-configuration"

ecr create-repository --repository-name app/web >/dev/null && ecr create-repository --repository-name lib/util >/dev/null || fail "create-repository"
ref=$("$ROOT/scripts/make-image.sh" "$host/app/web:v1" 1 64) || fail "crane push app/web"
"$ROOT/scripts/make-image.sh" "$host/lib/util:v1" 1 64 >/dev/null || fail "crane push lib/util"
status() { ecr describe-image-signing-status --repository-name "$1" --image-id imageTag=v1 --query 'signingStatuses[0].status' --output text; }
for _ in $(seq 1 100); do [ "$(status app/web)" = COMPLETE ] && break; sleep 0.1; done
[ "$(status app/web)" = COMPLETE ] || fail "app/web:v1 was not signed: $(ecr describe-image-signing-status --repository-name app/web --image-id imageTag=v1)"
[ "$(ecr describe-image-signing-status --repository-name lib/util --image-id imageTag=v1 --query 'length(signingStatuses)')" = 0 ] ||
  fail "lib/util:v1 has a signing status"
ok "a crane push under the rule is signed (COMPLETE), one elsewhere is not"

out=$("$WORK/notaryverify" -ref "$host/app/web@${ref##*@}" -cert "$WORK/keys/signer.crt" -user AWS -password "$password" -plain-http 2>&1) ||
  fail "notation-go does not verify the signature: $out"
echo "$out"
if "$WORK/notaryverify" -ref "$host/app/web@${ref##*@}" -cert "$WORK/other/signer.crt" -user AWS -password "$password" -plain-http >/dev/null 2>&1; then
  fail "the signature verifies against another certificate"
fi
ok "notation-go verifies the signature with the profile's certificate, and not with another"

[ "$(ecr delete-signing-configuration --query 'signingConfiguration.rules[0].signingProfileArn' --output text)" = "$profile" ] ||
  fail "delete-signing-configuration"
"$WORK/notaryverify" -ref "$host/app/web@${ref##*@}" -cert "$WORK/keys/signer.crt" -user AWS -password "$password" -plain-http >/dev/null 2>&1 ||
  fail "the signature went with the configuration"
ok "aws ecr delete-signing-configuration keeps the signatures made"
echo "signing CLI: $passed checks passed"
