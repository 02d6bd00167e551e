#!/usr/bin/env bash
# End-to-end: the AWS CLI drives repositories, a layer upload and
# BatchCheckLayerAvailability against a real ecrd, including the worked
# example of the CLI's batch-check-layer-availability man page.
source "$(dirname "$0")/lib.sh"
start_ecrd
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

# Repositories.
ecr create-repository --repository-name cluster-autoscaler >"$WORK/create.json"
python3 - "$WORK/create.json" <<'PY' || fail "create-repository output"
import json, sys
r = json.load(open(sys.argv[1]))["repository"]
assert r["repositoryArn"] == "arn:aws:ecr:us-east-1:000000000000:repository/cluster-autoscaler", r
assert r["registryId"] == "000000000000" and r["repositoryName"] == "cluster-autoscaler", r
assert r["repositoryUri"].endswith("/cluster-autoscaler"), r
assert r["imageTagMutability"] == "MUTABLE", r
assert r["encryptionConfiguration"] == {"encryptionType": "AES256"}, r
assert r["imageScanningConfiguration"] == {"scanOnPush": False}, r
assert isinstance(r["createdAt"], (int, float)), r
PY
ok create-repository

ecr describe-repositories --repository-names cluster-autoscaler --query 'repositories[0].repositoryName' --output text | grep -qx cluster-autoscaler || fail describe-repositories
ok describe-repositories

# A 2777-byte blob (an image config), uploaded in one part.
python3 - "$WORK/config.json" <<'PY'
import json, sys
doc = {"architecture": "amd64", "os": "linux", "config": {"Env": ["PATH=/usr/bin"]}, "rootfs": {"type": "layers", "diff_ids": []}}
s = json.dumps(doc)
s = s[:-1] + ', "comment": "' + "x" * (2777 - len(s) - 15) + '"}'
assert len(s) == 2777, len(s)
open(sys.argv[1], "w").write(s)
PY
size=$(stat -c %s "$WORK/config.json"); [ "$size" = 2777 ] || fail "blob is $size bytes"
digest="sha256:$(sha256sum "$WORK/config.json" | cut -d' ' -f1)"
upload=$(ecr initiate-layer-upload --repository-name cluster-autoscaler --query uploadId --output text)
ecr upload-layer-part --repository-name cluster-autoscaler --upload-id "$upload" \
  --part-first-byte 0 --part-last-byte 2776 --layer-part-blob "fileb://$WORK/config.json" --query lastByteReceived --output text | grep -qx 2776 || fail upload-layer-part
ecr complete-layer-upload --repository-name cluster-autoscaler --upload-id "$upload" --layer-digests "$digest" \
  --query layerDigest --output text | grep -qx "$digest" || fail complete-layer-upload
ok "layer upload of $digest"

# The man page's example: the same command, the same output shape.
ecr batch-check-layer-availability --repository-name cluster-autoscaler --layer-digests "$digest" >"$WORK/check.json"
cat "$WORK/check.json"
python3 - "$WORK/check.json" "$digest" <<'PY' || fail "batch-check-layer-availability output"
import json, sys
out = json.load(open(sys.argv[1]))
assert out == {"layers": [{"layerDigest": sys.argv[2], "layerAvailability": "AVAILABLE", "layerSize": 2777}], "failures": []}, out
PY
ok batch-check-layer-availability

# Absent and malformed digests are per-digest failures, in request order.
ecr batch-check-layer-availability --repository-name cluster-autoscaler \
  --layer-digests "sha256:$(printf '0%.0s' $(seq 64))" not-a-digest >"$WORK/fail.json"
python3 - "$WORK/fail.json" <<'PY' || fail "failures output"
import json, sys
out = json.load(open(sys.argv[1]))
assert out["layers"] == [], out
assert [f["failureCode"] for f in out["failures"]] == ["MissingLayerDigest", "InvalidLayerDigest"], out
assert out["failures"][1]["layerDigest"] == "not-a-digest" and all(f["failureReason"] for f in out["failures"]), out
PY
ok "absent and malformed digests"

# The CLI's error output for a missing repository.
set +e
ecr batch-check-layer-availability --repository-name nope --layer-digests "$digest" >"$WORK/err.out" 2>"$WORK/err.txt"
status=$?
set -e
cat "$WORK/err.txt"
[ "$status" = 254 ] || [ "$status" = 255 ] || fail "exit status $status for a missing repository"
grep -qF "An error occurred (RepositoryNotFoundException) when calling the BatchCheckLayerAvailability operation: The repository with name 'nope' does not exist in the registry with id '000000000000'" "$WORK/err.txt" || fail "error output"
ok "missing repository error"

# An image that refers to the blob as its config: now the check reports the
# media type too, exactly the man page's output.
head -c 4096 /dev/urandom >"$WORK/layer.bin"
ldigest="sha256:$(sha256sum "$WORK/layer.bin" | cut -d' ' -f1)"
upload=$(ecr initiate-layer-upload --repository-name cluster-autoscaler --query uploadId --output text)
ecr upload-layer-part --repository-name cluster-autoscaler --upload-id "$upload" \
  --part-first-byte 0 --part-last-byte 4095 --layer-part-blob "fileb://$WORK/layer.bin" >/dev/null
ecr complete-layer-upload --repository-name cluster-autoscaler --upload-id "$upload" --layer-digests "$ldigest" >/dev/null
printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%s","size":2777},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"%s","size":4096}]}' \
  "$digest" "$ldigest" >"$WORK/manifest.json"
mdigest="sha256:$(sha256sum "$WORK/manifest.json" | cut -d' ' -f1)"
ecr put-image --repository-name cluster-autoscaler --image-tag v1 --image-manifest "file://$WORK/manifest.json" \
  --query image.imageId.imageDigest --output text | grep -qx "$mdigest" || fail put-image
ecr batch-check-layer-availability --repository-name cluster-autoscaler --layer-digests "$digest" >"$WORK/check.json"
cat "$WORK/check.json"
python3 - "$WORK/check.json" "$digest" <<'PY' || fail "batch-check-layer-availability output with an image"
import json, sys
out = json.load(open(sys.argv[1]))
assert out == {"layers": [{"layerDigest": sys.argv[2], "layerAvailability": "AVAILABLE", "layerSize": 2777,
                           "mediaType": "application/vnd.docker.container.image.v1+json"}], "failures": []}, out
PY
ok "put-image, and the man page's output exactly"

ecr describe-images --repository-name cluster-autoscaler >"$WORK/describe.json"
python3 - "$WORK/describe.json" "$mdigest" <<'PY' || fail describe-images
import json, sys
d = json.load(open(sys.argv[1]))["imageDetails"]
assert len(d) == 1 and d[0]["imageDigest"] == sys.argv[2] and d[0]["imageTags"] == ["v1"], d
assert d[0]["imageSizeInBytes"] == 4096 and d[0]["imageStatus"] == "ACTIVE", d
assert d[0]["imageManifestMediaType"] == "application/vnd.docker.distribution.manifest.v2+json", d
assert d[0]["artifactMediaType"] == "application/vnd.docker.container.image.v1+json", d
PY
ecr list-images --repository-name cluster-autoscaler --query 'imageIds[0].imageTag' --output text | grep -qx v1 || fail list-images
ecr batch-get-image --repository-name cluster-autoscaler --image-ids imageTag=v1 --query 'images[0].imageManifest' --output text >"$WORK/pulled.json"
cmp -s <(tr -d '\n' <"$WORK/pulled.json") "$WORK/manifest.json" || fail "batch-get-image returns other bytes"
ok "describe-images, list-images, batch-get-image"

url=$(ecr get-download-url-for-layer --repository-name cluster-autoscaler --layer-digest "$ldigest" --query downloadUrl --output text)
got="sha256:$(curl -fsS "$url" | sha256sum | cut -d' ' -f1)"
[ "$got" = "$ldigest" ] || fail "the download URL served $got, want $ldigest"
ok "get-download-url-for-layer and curl"

ecr update-image-storage-class --repository-name cluster-autoscaler --image-id imageTag=v1 --target-storage-class ARCHIVE \
  --query imageStatus --output text | grep -qx ARCHIVED || fail "update-image-storage-class ARCHIVE"
ecr batch-check-layer-availability --repository-name cluster-autoscaler --layer-digests "$ldigest" \
  --query 'layers[0].layerAvailability' --output text | grep -qx ARCHIVED || fail "archived layer"
ecr update-image-storage-class --repository-name cluster-autoscaler --image-id imageTag=v1 --target-storage-class STANDARD \
  --query imageStatus --output text | grep -qx ACTIVATING || fail "update-image-storage-class STANDARD"
ok "update-image-storage-class"

ecr batch-delete-image --repository-name cluster-autoscaler --image-ids imageTag=v1 >"$WORK/deleted.json"
python3 - "$WORK/deleted.json" "$mdigest" <<'PY' || fail batch-delete-image
import json, sys
out = json.load(open(sys.argv[1]))
assert out == {"imageIds": [{"imageDigest": sys.argv[2], "imageTag": "v1"}], "failures": []}, out
PY
ok batch-delete-image

# Bad credentials get the errors AWS gives, printed the way the CLI prints them.
cli_error() { # expected-class message-part env-assignments...
  local class=$1 part=$2; shift 2
  set +e
  env "$@" aws ecr --endpoint-url "$ECRD_URL" describe-repositories >/dev/null 2>"$WORK/err.txt"
  local status=$?
  set -e
  [ "$status" != 0 ] || fail "$class: the call succeeded"
  { grep -qF "An error occurred ($class) when calling the DescribeRepositories operation: " "$WORK/err.txt" &&
    grep -qF "$part" "$WORK/err.txt"; } || { cat "$WORK/err.txt" >&2; fail "$class output"; }
}
cli_error InvalidSignatureException "The request signature we calculated does not match the signature you provided" AWS_SECRET_ACCESS_KEY=wrong
cli_error UnrecognizedClientException "The security token included in the request is invalid." AWS_ACCESS_KEY_ID=AKIDNOBODY
cli_error InvalidSignatureException "us-east-1" AWS_DEFAULT_REGION=eu-west-1
ok "signature errors"

# Repository settings: tags by ARN, a policy, scan on push.
arn=arn:aws:ecr:us-east-1:000000000000:repository/cluster-autoscaler
ecr tag-resource --resource-arn "$arn" --tags Key=team,Value=core Key=env,Value=ci
ecr untag-resource --resource-arn "$arn" --tag-keys env
ecr list-tags-for-resource --resource-arn "$arn" --query 'tags[].[Key,Value]' --output text | grep -qx "team	core" || fail "tag-resource/untag-resource"
ok "tag-resource, untag-resource"
policy='{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}'
ecr set-repository-policy --repository-name cluster-autoscaler --policy-text "$policy" --query policyText --output text | grep -qxF "$policy" || fail set-repository-policy
ecr get-repository-policy --repository-name cluster-autoscaler --query policyText --output text | grep -qxF "$policy" || fail get-repository-policy
ecr delete-repository-policy --repository-name cluster-autoscaler --query policyText --output text | grep -qxF "$policy" || fail delete-repository-policy
set +e
ecr get-repository-policy --repository-name cluster-autoscaler 2>"$WORK/err.txt" >/dev/null
status=$?
set -e
[ "$status" != 0 ] && grep -q RepositoryPolicyNotFoundException "$WORK/err.txt" || fail "get-repository-policy after delete"
ok "set/get/delete-repository-policy"
ecr put-image-scanning-configuration --repository-name cluster-autoscaler --image-scanning-configuration scanOnPush=true >/dev/null
ecr describe-repositories --repository-names cluster-autoscaler --query 'repositories[0].imageScanningConfiguration.scanOnPush' --output text | grep -qx True || fail put-image-scanning-configuration
ok put-image-scanning-configuration

# The registry itself: its policy, and no replication.
ecr put-registry-policy --policy-text "$policy" --query registryId --output text | grep -qx 000000000000 || fail put-registry-policy
ecr get-registry-policy --query policyText --output text | grep -qxF "$policy" || fail get-registry-policy
ecr delete-registry-policy --query policyText --output text | grep -qxF "$policy" || fail delete-registry-policy
ecr describe-registry >"$WORK/registry.json"
python3 - "$WORK/registry.json" <<'PY' || fail describe-registry
import json, sys
assert json.load(open(sys.argv[1])) == {"registryId": "000000000000", "replicationConfiguration": {"rules": []}}
PY
ok "put/get/delete-registry-policy, describe-registry"

# Deletion: refused while the layer is there, done with --force.
set +e
ecr delete-repository --repository-name cluster-autoscaler 2>"$WORK/err.txt" >/dev/null
status=$?
set -e
[ "$status" != 0 ] && grep -q RepositoryNotEmptyException "$WORK/err.txt" || fail "delete without --force"
ecr delete-repository --repository-name cluster-autoscaler --force --query repository.repositoryName --output text | grep -qx cluster-autoscaler || fail "delete --force"
ok delete-repository

echo "aws-cli: $passed passed, 0 failed"
