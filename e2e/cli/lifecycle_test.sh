#!/usr/bin/env bash
# End-to-end: a lifecycle policy through the AWS CLI against a real ecrd:
# put, get, a preview waited for with `aws ecr wait`, `ecrd lifecycle run
# --at` 40 days from now beside the running server, describe-images
# showing what expired and what was archived, delete.
source "$(dirname "$0")/lib.sh"
start_ecrd --lifecycle-interval 0
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
repo=lc/app

ecr create-repository --repository-name "$repo" >/dev/null

# One config blob, and five images made of it: release-1, keep, tmp, and
# two untagged (each push of "tmp" leaves the one before untagged).
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$WORK/config.json"
size=$(stat -c %s "$WORK/config.json")
cfg="sha256:$(sha256sum "$WORK/config.json" | cut -d' ' -f1)"
upload=$(ecr initiate-layer-upload --repository-name "$repo" --query uploadId --output text)
ecr upload-layer-part --repository-name "$repo" --upload-id "$upload" --part-first-byte 0 \
  --part-last-byte $((size - 1)) --layer-part-blob "fileb://$WORK/config.json" >/dev/null
ecr complete-layer-upload --repository-name "$repo" --upload-id "$upload" --layer-digests "$cfg" >/dev/null
manifest() { # a distinct image manifest per argument
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[],"annotations":{"n":"%s"}}' "$cfg" "$size" "$1"
}
push() { # TAG NAME: puts the manifest named NAME with TAG; prints its digest
  ecr put-image --repository-name "$repo" --image-tag "$1" --image-manifest "$(manifest "$2")" --query image.imageId.imageDigest --output text
}
release=$(push release-1 release)
keep=$(push keep keep)
old=$(push tmp old)
older=$old
old=$(push tmp old2)
new=$(push tmp new)
ok "five images pushed"

policy='{
  "rules": [
    {"rulePriority": 2, "description": "one untagged image",
     "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
     "action": {"type": "expire"}},
    {"rulePriority": 1, "description": "releases go to the archive after 30 days",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
     "action": {"type": "transition", "targetStorageClass": "archive"}}
  ]
}'
ecr put-lifecycle-policy --repository-name "$repo" --lifecycle-policy-text "$policy" >"$WORK/put.json"
python3 - "$WORK/put.json" <<'PY' || fail "put-lifecycle-policy output"
import json, sys
out = json.load(open(sys.argv[1]))
text = out["lifecyclePolicyText"]
assert "\n" not in text and " " not in text.replace("one untagged image", "").replace("releases go to the archive after 30 days", ""), text
rules = json.loads(text)["rules"]
assert [r["rulePriority"] for r in rules] == [1, 2], rules
assert out["repositoryName"] == "lc/app" and out["registryId"] == "000000000000", out
PY
ok "put-lifecycle-policy answers the text minified, rules by priority"

ecr get-lifecycle-policy --repository-name "$repo" >"$WORK/get.json"
python3 - "$WORK/put.json" "$WORK/get.json" <<'PY' || fail "get-lifecycle-policy"
import json, sys
put, get = (json.load(open(p)) for p in sys.argv[1:])
assert get["lifecyclePolicyText"] == put["lifecyclePolicyText"], get
assert "lastEvaluatedAt" not in get, get
PY
ok get-lifecycle-policy

ecr start-lifecycle-policy-preview --repository-name "$repo" --query status --output text | grep -qx IN_PROGRESS || fail start-lifecycle-policy-preview
ecr wait lifecycle-policy-preview-complete --repository-name "$repo" || fail "wait lifecycle-policy-preview-complete"
ecr get-lifecycle-policy-preview --repository-name "$repo" >"$WORK/preview.json"
python3 - "$WORK/preview.json" "$older" <<'PY' || fail "get-lifecycle-policy-preview"
import json, sys
out, old = json.load(open(sys.argv[1])), sys.argv[2]
assert out["status"] == "COMPLETE", out
res = out["previewResults"]
assert [(r["imageDigest"], r["action"], r["appliedRulePriority"], r["storageClass"], r["imageTags"]) for r in res] == \
    [(old, {"type": "EXPIRE"}, 2, "STANDARD", [])], res
assert isinstance(res[0]["imagePushedAt"], (int, float)), res
assert out["summary"] == {"expiringImageTotalCount": 1}, out
PY
ok "a preview, waited for: today only the older untagged image would expire"

# 40 days on, beside the running server.
at=$(date -u -d '+40 days' +%Y-%m-%dT%H:%M:%SZ)
"$WORK/ecrd" lifecycle run --data-dir "$WORK/data" --at "$at" --log-level warn >"$WORK/run.txt" || fail "ecrd lifecycle run --at $at"
cat "$WORK/run.txt"
grep -q "1 images expired, 1 archived" "$WORK/run.txt" || fail "the run's summary"
ok "ecrd lifecycle run --at $at"

ecr describe-images --repository-name "$repo" --filter imageStatus=ANY >"$WORK/images.json"
python3 - "$WORK/images.json" "$release" "$keep" "$older" "$old" "$new" <<'PY' || fail "describe-images after the run"
import json, sys
imgs = {d["imageDigest"]: d for d in json.load(open(sys.argv[1]))["imageDetails"]}
release, keep, older, old, new = sys.argv[2:]
assert older not in imgs, "the older untagged image was not expired"
assert imgs[old]["imageStatus"] == "ACTIVE" and "imageTags" not in imgs[old], imgs[old]
assert imgs[release]["imageStatus"] == "ARCHIVED" and "lastArchivedAt" in imgs[release], imgs[release]
assert imgs[keep]["imageStatus"] == "ACTIVE" and imgs[new]["imageStatus"] == "ACTIVE", imgs
assert imgs[new]["imageTags"] == ["tmp"], imgs[new]
PY
ecr describe-images --repository-name "$repo" --filter imageStatus=ARCHIVED --query 'imageDetails[].imageTags[]' --output text | grep -qx release-1 || fail "archived images"
ok "describe-images: the untagged image expired, release-1 archived, the rest active"

ecr get-lifecycle-policy --repository-name "$repo" --query lastEvaluatedAt --output text | grep -Eq '^[0-9]+(\.[0-9]+)?$' || fail "lastEvaluatedAt after the run"
ecr delete-lifecycle-policy --repository-name "$repo" >"$WORK/deleted.json"
python3 - "$WORK/put.json" "$WORK/deleted.json" <<'PY' || fail "delete-lifecycle-policy output"
import json, sys
put, deleted = (json.load(open(p)) for p in sys.argv[1:])
assert deleted["lifecyclePolicyText"] == put["lifecyclePolicyText"] and "lastEvaluatedAt" in deleted, deleted
PY
set +e
ecr get-lifecycle-policy --repository-name "$repo" 2>"$WORK/err.txt" >/dev/null
status=$?
set -e
[ "$status" != 0 ] && grep -q LifecyclePolicyNotFoundException "$WORK/err.txt" || fail "get-lifecycle-policy after delete"
ok "delete-lifecycle-policy, then LifecyclePolicyNotFoundException"

echo "lifecycle: $passed passed, 0 failed"
