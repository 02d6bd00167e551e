#!/usr/bin/env bash
# End-to-end: docker-style clients (crane, regctl, skopeo) push and pull
# through /v2/ with the password from `aws ecr get-login-password`, and the
# ECR API sees what they pushed; then the OCI distribution-spec conformance
# suite runs against the same server.
source "$(dirname "$0")/lib.sh"
use_tools crane regctl skopeo oci-conformance
start_ecrd # before HOME moves: the build uses the real module cache
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
host=${ECRD_URL#http://}
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
for r in crane/app regctl/app skopeo/app multi/app conformance/repo1 conformance/repo1-2; do
  ecr create-repository --repository-name "$r" >/dev/null || fail "create-repository $r"
done

# Log in as docker does: the password comes from the ECR API.
ecr get-login-password | crane auth login "$host" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login"
regctl registry set --tls disabled "$host" >/dev/null || fail "regctl registry set"
ecr get-login-password | regctl registry login "$host" -u AWS --pass-stdin >/dev/null 2>&1 || fail "regctl registry login"
pw=$(ecr get-login-password) || fail get-login-password
ok "crane and regctl log in with aws ecr get-login-password"

# crane: a 3-layer image, pushed and pulled back byte-identical.
ref=$("$ROOT/scripts/make-image.sh" "$host/crane/app:v1" 3 2048) || fail "crane push"
digest=${ref##*@}
crane manifest "$host/crane/app:v1" >"$WORK/m1.json" || fail "crane manifest"
[ "sha256:$(sha256sum <"$WORK/m1.json" | cut -d' ' -f1)" = "$digest" ] || fail "manifest bytes differ from the pushed digest"
crane pull --format oci "$host/crane/app:v1" "$WORK/pulled" >/dev/null || fail "crane pull"
for blob in "$WORK"/pulled/blobs/sha256/*; do
  [ "$(sha256sum <"$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || fail "pulled blob $(basename "$blob") does not verify"
done
ok "crane push and pull of a 3-layer image"

# The ECR API sees what crane pushed.
ecr describe-images --repository-name crane/app --image-ids imageTag=v1 --query 'imageDetails[0].imageDigest' --output text | grep -qx "$digest" || fail "describe-images after crane push"
layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["layers"][0]["digest"], m["layers"][0]["size"], m["layers"][0]["mediaType"])' "$WORK/m1.json")
set -- $layer
ecr batch-check-layer-availability --repository-name crane/app --layer-digests "$1" >"$WORK/bcla.json"
python3 - "$WORK/bcla.json" "$1" "$2" "$3" <<'PY' || fail "batch-check-layer-availability after crane push"
import json, sys
out = json.load(open(sys.argv[1]))
assert out["failures"] == [] and out["layers"] == [{"layerDigest": sys.argv[2], "layerAvailability": "AVAILABLE",
    "layerSize": int(sys.argv[3]), "mediaType": sys.argv[4]}], out
PY
ok "describe-images and batch-check-layer-availability see the crane push"

# A multi-arch index of two images.
"$ROOT/scripts/make-image.sh" "$host/multi/app:amd64" >/dev/null || fail "push amd64"
"$ROOT/scripts/make-image.sh" "$host/multi/app:arm64" >/dev/null || fail "push arm64"
crane index append -m "$host/multi/app:amd64" -m "$host/multi/app:arm64" -t "$host/multi/app:multi" >/dev/null 2>&1 || fail "crane index append"
crane manifest "$host/multi/app:multi" | python3 -c 'import json,sys; m=json.load(sys.stdin); assert len(m["manifests"]) == 2, m' || fail "the index does not list both images"
regctl image copy "$host/multi/app:multi" "$host/regctl/app:multi" >/dev/null || fail "regctl copies the index"
[ "$(regctl image digest "$host/regctl/app:multi")" = "$(regctl image digest "$host/multi/app:multi")" ] || fail "regctl copy changed the index digest"
ok "a multi-arch index, pushed with crane and copied with regctl"

# skopeo: registry -> OCI layout -> registry.
skopeo copy --src-tls-verify=false --src-creds "AWS:$pw" "docker://$host/crane/app:v1" "oci:$WORK/layout:v1" >/dev/null || fail "skopeo copy to a layout"
skopeo copy --dest-tls-verify=false --dest-creds "AWS:$pw" "oci:$WORK/layout:v1" "docker://$host/skopeo/app:v1" >/dev/null || fail "skopeo copy from a layout"
[ "$(crane digest "$host/skopeo/app:v1")" = "$digest" ] || fail "skopeo's copy has another digest"
ok "skopeo copy between an OCI layout and ecrd"

# An image put with the ECR API pulls with crane.
crane manifest "$host/crane/app:v1" >"$WORK/put.json"
ecr put-image --repository-name crane/app --image-tag via-api --image-manifest "file://$WORK/put.json" >/dev/null || fail "aws ecr put-image"
[ "$(crane digest "$host/crane/app:via-api")" = "$digest" ] || fail "crane does not see the tag put with aws ecr put-image"
crane pull "$host/crane/app:via-api" "$WORK/via-api.tar" >/dev/null || fail "crane pull of the tag put with aws ecr put-image"
ok "aws ecr put-image, then crane pull"

# Repository creation templates: aws ecr creates one for pushes under
# tpl/, and crane's and skopeo's pushes create their repositories from
# it; a push outside every prefix is refused, creating nothing.
cat >"$WORK/tpl-lifecycle.json" <<'JSON'
{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}
JSON
ecr create-repository-creation-template --prefix tpl --applied-for CREATE_ON_PUSH --image-tag-mutability IMMUTABLE \
  --lifecycle-policy "file://$WORK/tpl-lifecycle.json" >"$WORK/tpl.json" || fail "create-repository-creation-template"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["repositoryCreationTemplate"]; assert t["prefix"] == "tpl" and t["appliedFor"] == ["CREATE_ON_PUSH"] and t["imageTagMutability"] == "IMMUTABLE", t' "$WORK/tpl.json" || fail "the created template"
crane copy "$host/crane/app:v1" "$host/tpl/by-crane:v1" >/dev/null 2>&1 || fail "crane push under a CREATE_ON_PUSH template"
skopeo copy --dest-tls-verify=false --dest-creds "AWS:$pw" "oci:$WORK/layout:v1" "docker://$host/tpl/by-skopeo:v1" >/dev/null || fail "skopeo push under a CREATE_ON_PUSH template"
for r in tpl/by-crane tpl/by-skopeo; do
  [ "$(ecr describe-repositories --repository-names "$r" --query 'repositories[0].imageTagMutability' --output text)" = IMMUTABLE ] || fail "$r is not the template's"
  ecr get-lifecycle-policy --repository-name "$r" >/dev/null || fail "$r has no lifecycle policy from the template"
done
[ "$(crane digest "$host/tpl/by-skopeo:v1")" = "$digest" ] || fail "the image pushed under the template"
if crane copy "$host/crane/app:v1" "$host/untemplated/app:v1" >/dev/null 2>&1; then fail "a push outside every template prefix succeeded"; fi
if ecr describe-repositories --repository-names untemplated/app >/dev/null 2>&1; then fail "untemplated/app was created"; fi
ecr describe-repository-creation-templates --prefixes tpl --query 'repositoryCreationTemplates[0].prefix' --output text | grep -qx tpl || fail "describe-repository-creation-templates"
ok "a CREATE_ON_PUSH template made with aws ecr; crane and skopeo pushes create repositories from it"

# Without credentials: ECR's Basic challenge.
code=$(curl -s -o /dev/null -w '%{http_code}' "$ECRD_URL/v2/")
hdr=$(curl -s -D - -o /dev/null "$ECRD_URL/v2/" | tr -d '\r' | grep -i '^www-authenticate:')
[ "$code" = 401 ] && echo "$hdr" | grep -q 'Basic realm=' && echo "$hdr" | grep -q 'service="ecr.amazonaws.com"' || fail "challenge: $code $hdr"
ok "the /v2/ Basic challenge"

# The OCI distribution-spec conformance suite, as the same user, with every
# API group on. ecrd verifies sha256 only, as ECR does, so the suite's sha512
# data is off (README lists this and the two optional features it skips).
# Mounts are an account setting, off by default as in ECR: on, so that the
# suite's mount tests mount.
ecr put-account-setting --name BLOB_MOUNTING --value ENABLED >/dev/null || fail "put-account-setting BLOB_MOUNTING"
export OCI_RESULTS_DIR=$WORK/conformance OCI_DATA_SHA512=false
export OCI_API_BLOBS_UPLOAD_CANCEL=true OCI_API_MANIFESTS_TAG_PARAM=true OCI_API_BLOBS_MOUNT_ANONYMOUS=true
"$ROOT/scripts/oci-conformance.sh" "$ECRD_URL" conformance/repo1 AWS "$pw" || fail "OCI conformance"
ok "OCI distribution-spec conformance"

echo "oci-clients: $passed passed, 0 failed"
