#!/usr/bin/env bash
# End-to-end over TLS: ecrd serves HTTPS with a certificate from a
# throwaway certificate authority (go run ./e2e/cli/tlsgen), and the
# clients people use with a private CA talk to it: the aws CLI
# (--ca-bundle, AWS_CA_BUNDLE), boto3 (verify=), crane (SSL_CERT_FILE),
# regctl (registry set --cacert) and skopeo (--cert-dir). Each client is also shown to refuse the server
# without the CA, which proves it verifies the certificate.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/install-tools.sh" crane regctl skopeo || fail "installing crane, regctl and skopeo"
export PATH=$ROOT/.tools/bin:$PATH
(cd "$ROOT" && go run ./e2e/cli/tlsgen "$WORK/tls") || fail "tlsgen"
CA=$WORK/tls/ca.crt
# skopeo's --cert-dir takes every *.crt as a CA, and a *.key as a client
# key wanting its *.cert: give it a directory of the CA alone.
mkdir -p "$WORK/cadir" && cp "$CA" "$WORK/cadir/ca.crt"
start_ecrd --account-id 123456789012 --public-listen 127.0.0.1:0 \
  --tls-cert "$WORK/tls/server.crt" --tls-key "$WORK/tls/server.key"
host=${ECRD_URL#http://}
URL=https://$host
pub=$(sed -n 's/.*msg="ECR Public \/v2\/ serving (anonymous pulls)" addr=\([^ ]*\).*/\1/p' "$WORK/ecrd.log" | head -1)
[ -n "$pub" ] || fail "no public listener in the log"
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
# refused CMD...: CMD must fail, and say why in terms of the certificate.
refused() {
  local what=$1
  shift
  if "$@" >"$WORK/refused.out" 2>&1; then fail "$what trusted the server without the CA"; fi
  grep -qiE 'certificate|x509|ssl' "$WORK/refused.out" || fail "$what failed without the CA, but not over the certificate: $(tail -3 "$WORK/refused.out")"
}

# curl: both listeners speak TLS only, with https URLs in their challenges.
hdr=$(curl -sS --cacert "$CA" -D - -o /dev/null "$URL/v2/" | tr -d '\r' | grep -i '^www-authenticate:') || fail "curl $URL/v2/"
echo "$hdr" | grep -qF "Basic realm=\"$URL/\"" || fail "the /v2/ challenge: $hdr"
hdr=$(curl -sS --cacert "$CA" -D - -o /dev/null "https://$pub/v2/" | tr -d '\r' | grep -i '^www-authenticate:') || fail "curl https://$pub/v2/"
echo "$hdr" | grep -qF "Bearer realm=\"https://$pub/token\"" || fail "the public listener's challenge: $hdr"
[ "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_version}' "$URL/v2/")" = 2 ] || fail "curl did not get HTTP/2"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$ECRD_URL/v2/")" = 400 ] || fail "plain HTTP to the TLS port was not refused"
refused "curl" curl -sS -o /dev/null "$URL/v2/"
ok "curl: HTTPS and HTTP/2 on both listeners, https realms, plain HTTP refused"

# The aws CLI.
ecr() { aws ecr --endpoint-url "$URL" --ca-bundle "$CA" --output json "$@"; }
ecr create-repository --repository-name tls/app >/dev/null || fail "aws ecr create-repository"
uri=$(ecr describe-repositories --repository-names tls/app --query 'repositories[0].repositoryUri' --output text) || fail "aws ecr describe-repositories"
[ "$uri" = "$host/tls/app" ] || fail "repositoryUri $uri"
pw=$(ecr get-login-password) || fail "aws ecr get-login-password"
[ ${#pw} -gt 20 ] || fail "get-login-password printed '$pw'"
proxy=$(ecr get-authorization-token --query 'authorizationData[0].proxyEndpoint' --output text) || fail "aws ecr get-authorization-token"
[ "$proxy" = "$URL" ] || fail "proxyEndpoint $proxy, want $URL"
AWS_CA_BUNDLE=$CA aws ecr --endpoint-url "$URL" describe-repositories >/dev/null || fail "aws ecr with AWS_CA_BUNDLE"
AWS_MAX_ATTEMPTS=1 refused "the aws CLI" aws ecr --endpoint-url "$URL" describe-repositories
ok "aws CLI with --ca-bundle and AWS_CA_BUNDLE: create-repository, describe-repositories, get-login-password"

# boto3.
python3 - "$URL" "$CA" <<'PY' || fail "boto3 over TLS"
import sys
import boto3, botocore.config, botocore.exceptions
url, ca = sys.argv[1], sys.argv[2]
once = botocore.config.Config(retries={"total_max_attempts": 1})
ecr = boto3.client("ecr", endpoint_url=url, verify=ca, region_name="us-east-1", config=once)
ecr.create_repository(repositoryName="tls/boto3")
names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
assert "tls/boto3" in names, names
data = ecr.get_authorization_token()["authorizationData"][0]
assert data["proxyEndpoint"] == url, data
out = ecr.batch_check_layer_availability(repositoryName="tls/boto3", layerDigests=["sha256:" + "0" * 64])
assert out["failures"][0]["failureCode"] == "MissingLayerDigest", out
untrusting = boto3.client("ecr", endpoint_url=url, region_name="us-east-1", config=once)
try:
    untrusting.describe_repositories()
except botocore.exceptions.SSLError:
    pass
else:
    raise AssertionError("boto3 trusted the server without verify=")
PY
ok "boto3 with verify=: create_repository, describe_repositories, get_authorization_token, batch_check_layer_availability"

# crane. For 127.0.0.1 and localhost go-containerregistry tries https first
# and falls back to plain http; ecrd answers plain http with 400, so what
# works here went over verified TLS, and without the CA nothing does.
export SSL_CERT_FILE=$CA
echo "$pw" | crane auth login "$host" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login"
head -c $((3 << 20)) /dev/urandom >"$WORK/layer.bin"
tar -C "$WORK" -cf "$WORK/layer.tar" layer.bin
ref=$(crane append --oci-empty-base -f "$WORK/layer.tar" -t "$host/tls/app:v1" 2>/dev/null) || fail "crane append (push)"
digest=${ref##*@}
[ "$(crane digest "$host/tls/app:v1")" = "$digest" ] || fail "crane digest"
crane pull --format oci "$host/tls/app:v1" "$WORK/pulled" >/dev/null || fail "crane pull"
for blob in "$WORK"/pulled/blobs/sha256/*; do
  [ "$(sha256sum <"$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || fail "pulled blob $(basename "$blob") does not verify"
done
ecr describe-images --repository-name tls/app --image-ids imageTag=v1 --query 'imageDetails[0].imageDigest' --output text | grep -qx "$digest" || fail "describe-images after crane push"
SSL_CERT_FILE= refused "crane" crane digest "$host/tls/app:v1"
ok "crane with SSL_CERT_FILE: login, push, pull"
unset SSL_CERT_FILE

# regctl.
refused "regctl" regctl image digest "$host/tls/app:v1"
regctl registry set --cacert "$(cat "$CA")" "$host" >/dev/null || fail "regctl registry set --cacert"
echo "$pw" | regctl registry login "$host" -u AWS --pass-stdin >/dev/null 2>&1 || fail "regctl registry login"
[ "$(regctl image digest "$host/tls/app:v1")" = "$digest" ] || fail "regctl image digest"
regctl image copy "$host/tls/app:v1" "$host/tls/app:regctl" >/dev/null || fail "regctl image copy"
[ "$(regctl image digest "$host/tls/app:regctl")" = "$digest" ] || fail "regctl's copy has another digest"
ok "regctl with --cacert: login, digest, copy"

# skopeo.
skopeo inspect --cert-dir "$WORK/cadir" --creds "AWS:$pw" "docker://$host/tls/app:v1" >"$WORK/inspect.json" || fail "skopeo inspect"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["Digest"]==sys.argv[2], d' "$WORK/inspect.json" "$digest" || fail "skopeo inspect digest"
skopeo copy --src-cert-dir "$WORK/cadir" --src-creds "AWS:$pw" "docker://$host/tls/app:v1" "oci:$WORK/layout:v1" >/dev/null || fail "skopeo copy to a layout"
skopeo copy --dest-cert-dir "$WORK/cadir" --dest-creds "AWS:$pw" "oci:$WORK/layout:v1" "docker://$host/tls/app:skopeo" >/dev/null || fail "skopeo copy from a layout"
ecr describe-images --repository-name tls/app --image-ids imageTag=skopeo --query 'imageDetails[0].imageDigest' --output text | grep -qx "$digest" || fail "skopeo's copy has another digest"
refused "skopeo" skopeo inspect --creds "AWS:$pw" "docker://$host/tls/app:v1"
ok "skopeo with --cert-dir: inspect, copy both ways"

echo "tls_test.sh: $passed checks passed"
