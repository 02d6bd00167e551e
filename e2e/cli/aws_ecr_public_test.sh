#!/usr/bin/env bash
# End-to-end: `aws ecr-public` walks seed 001's operation
# (BatchCheckLayerAvailability) with the layer path around it, then crane
# pushes an image to the public listener with the password from
# `aws ecr-public get-login-password` and pulls it back with no credentials
# at all, by the repositoryUri the API reports.
source "$(dirname "$0")/lib.sh"
use_tools crane skopeo
start_ecrd # before HOME moves: the build uses the real module cache
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
public=$(sed -n 's/.*msg="ECR Public \/v2\/ serving (anonymous pulls)" addr=\([^ ]*\).*/\1/p' "$WORK/ecrd.log" | head -1)
[ -n "$public" ] || fail "ecrd did not report its public listener"
pub() { aws ecr-public --endpoint-url "$ECRD_URL" --region us-east-1 --output json "$@"; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

# The public registry and a repository with catalog data.
pub describe-registries >"$WORK/registries.json"
python3 - "$WORK/registries.json" "$public" <<'PY' || fail "describe-registries output"
import json, sys
r = json.load(open(sys.argv[1]))["registries"]
assert len(r) == 1, r
r = r[0]
assert r["registryId"] == "000000000000", r
assert r["registryArn"] == "arn:aws:ecr-public::000000000000:registry/000000000000", r
assert r["registryUri"] == sys.argv[2] + "/ecrd", r
assert r["aliases"] == [{"name": "ecrd", "status": "ACTIVE", "primaryRegistryAlias": True, "defaultRegistryAlias": True}], r
PY
ok describe-registries

pub create-repository --repository-name project-a/nginx-web-app \
  --catalog-data 'description=A web app,architectures=x86-64,ARM 64,operatingSystems=Linux,usageText=docker pull it' >"$WORK/create.json"
python3 - "$WORK/create.json" "$public" <<'PY' || fail "create-repository output"
import json, sys
out = json.load(open(sys.argv[1]))
r = out["repository"]
assert r["repositoryArn"] == "arn:aws:ecr-public::000000000000:repository/project-a/nginx-web-app", r
assert r["registryId"] == "000000000000" and r["repositoryName"] == "project-a/nginx-web-app", r
assert r["repositoryUri"] == sys.argv[2] + "/ecrd/project-a/nginx-web-app", r
c = out["catalogData"]
assert c["description"] == "A web app" and c["architectures"] == ["x86-64", "ARM 64"], c
assert c["operatingSystems"] == ["Linux"] and c["usageText"] == "docker pull it", c
PY
uri=$(pub describe-repositories --repository-names project-a/nginx-web-app --query 'repositories[0].repositoryUri' --output text)
ok "create-repository with catalog data; repositoryUri $uri"

# Seed 001: a layer uploaded with the API is AVAILABLE; an absent digest is
# MissingLayerDigest, a malformed one InvalidLayerDigest, in request order.
head -c 3000 /dev/urandom >"$WORK/layer.bin"
digest="sha256:$(sha256sum "$WORK/layer.bin" | cut -d' ' -f1)"
upload=$(pub initiate-layer-upload --repository-name project-a/nginx-web-app --query uploadId --output text)
pub upload-layer-part --repository-name project-a/nginx-web-app --upload-id "$upload" \
  --part-first-byte 0 --part-last-byte 2999 --layer-part-blob "fileb://$WORK/layer.bin" --query lastByteReceived --output text | grep -qx 2999 || fail upload-layer-part
pub complete-layer-upload --repository-name project-a/nginx-web-app --upload-id "$upload" --layer-digests "$digest" \
  --query layerDigest --output text | grep -qx "$digest" || fail complete-layer-upload
absent="sha256:$(printf '0%.0s' $(seq 64))"
for registry in 000000000000 ecrd; do
  pub batch-check-layer-availability --registry-id "$registry" --repository-name project-a/nginx-web-app \
    --layer-digests "$digest" "$absent" not-a-digest >"$WORK/check.json"
  python3 - "$WORK/check.json" "$digest" "$absent" <<'PY' || fail "batch-check-layer-availability output (registry $registry)"
import json, sys
out = json.load(open(sys.argv[1]))
assert out["layers"] == [{"layerDigest": sys.argv[2], "layerAvailability": "AVAILABLE", "layerSize": 3000}], out
assert [(f["layerDigest"], f["failureCode"]) for f in out["failures"]] == [(sys.argv[3], "MissingLayerDigest"), ("not-a-digest", "InvalidLayerDigest")], out
PY
done
ok "batch-check-layer-availability by account ID and by alias"

expect_error() { # expect_error EXCEPTION command...
  local want=$1; shift
  if "$@" >"$WORK/err.out" 2>"$WORK/err.txt"; then fail "$* succeeded; want $want"; fi
  grep -q "($want)" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; fail "$*: want $want"; }
}
expect_error RegistryNotFoundException pub batch-check-layer-availability --registry-id no-such-alias \
  --repository-name project-a/nginx-web-app --layer-digests "$digest"
expect_error RepositoryNotFoundException pub batch-check-layer-availability --repository-name absent/repo --layer-digests "$digest"
expect_error UnsupportedCommandException aws ecr-public --endpoint-url "$ECRD_URL" --region eu-west-1 \
  batch-check-layer-availability --repository-name project-a/nginx-web-app --layer-digests "$digest"
grep -q "BatchCheckLayerAvailability command is only supported in us-east-1." "$WORK/err.txt" || fail "UnsupportedCommandException message"
ok "RegistryNotFoundException, RepositoryNotFoundException, UnsupportedCommandException"

# The private registry of the same account does not see the public one.
expect_error RepositoryNotFoundException aws ecr --endpoint-url "$ECRD_URL" batch-check-layer-availability \
  --repository-name project-a/nginx-web-app --layer-digests "$digest"
ok "the private namespace does not see the public repository"

# crane: push with ECR Public's password, then pull with none.
pub get-login-password | crane auth login "$public" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login"
ref=$("$ROOT/scripts/make-image.sh" "$uri:v1" 3 1024) || fail "crane push to $uri:v1"
pushed=${ref##*@}
crane auth logout "$public" >/dev/null 2>&1 || fail "crane auth logout"
ok "crane pushes $uri:v1 with the get-login-password token"

export DOCKER_CONFIG=$WORK/anonymous
mkdir -p "$DOCKER_CONFIG"
crane manifest "$uri:v1" >"$WORK/m.json" || fail "anonymous crane manifest"
[ "sha256:$(sha256sum <"$WORK/m.json" | cut -d' ' -f1)" = "$pushed" ] || fail "anonymous manifest differs from the pushed one"
crane pull --format oci "$uri:v1" "$WORK/pulled" >/dev/null || fail "anonymous crane pull"
n=0
for blob in "$WORK"/pulled/blobs/sha256/*; do
  [ "$(sha256sum <"$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || fail "pulled blob $(basename "$blob") does not verify"
  n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "pulled $n blobs; want manifest, config and 3 layers"
crane ls "$uri" | grep -qx v1 || fail "anonymous crane ls"
if crane copy "$uri:v1" "$uri:stolen" >/dev/null 2>&1; then fail "an anonymous push succeeded"; fi
ok "crane pulls $uri:v1 with no credentials; an anonymous push is refused"

# skopeo (as podman and buildah) pulls anonymously through the Bearer token
# flow of public.ecr.aws.
export REGISTRY_AUTH_FILE=$WORK/anonymous/auth.json
skopeo inspect --tls-verify=false --raw "docker://$uri:v1" >"$WORK/sm.json" || fail "anonymous skopeo inspect"
cmp -s "$WORK/sm.json" "$WORK/m.json" || fail "skopeo's manifest differs from crane's"
skopeo copy --src-tls-verify=false "docker://$uri:v1" "oci:$WORK/skopeo:v1" >/dev/null || fail "anonymous skopeo copy"
ok "skopeo pulls $uri:v1 with no credentials"

# The API sees what crane pushed: the tag, the image, its layers AVAILABLE.
pub describe-image-tags --repository-name project-a/nginx-web-app >"$WORK/tags.json"
python3 - "$WORK/tags.json" "$pushed" <<'PY' || fail "describe-image-tags output"
import json, sys
d = json.load(open(sys.argv[1]))["imageTagDetails"]
assert [(t["imageTag"], t["imageDetail"]["imageDigest"]) for t in d] == [("v1", sys.argv[2])], d
assert d[0]["imageDetail"]["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", d
PY
python3 - "$WORK/m.json" >"$WORK/layers.txt" <<'PY'
import json, sys
print(" ".join(l["digest"] for l in json.load(open(sys.argv[1]))["layers"]))
PY
# shellcheck disable=SC2046
pub batch-check-layer-availability --repository-name project-a/nginx-web-app --layer-digests $(cat "$WORK/layers.txt") >"$WORK/check2.json"
python3 - "$WORK/check2.json" <<'PY' || fail "batch-check-layer-availability of the pushed layers"
import json, sys
out = json.load(open(sys.argv[1]))
assert len(out["layers"]) == 3 and not out["failures"], out
assert all(l["layerAvailability"] == "AVAILABLE" and l["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip" for l in out["layers"]), out
PY
ok "describe-image-tags and batch-check-layer-availability see the crane push"

echo "PASS: $passed aws ecr-public, crane and skopeo checks"
