#!/usr/bin/env bash
# End-to-end: the pull through cache against a real upstream registry. CNCF
# distribution with htpasswd authentication stands in for Docker Hub
# (scripts/run-upstream-registry.sh); ecrd reaches registry-1.docker.io
# there (--pull-through-upstreams) with credentials from its secrets file
# (--pull-through-secrets). A rule made with the aws CLI validates, then
# crane and skopeo pull through it by tag and by digest, and the ECR API
# sees the cached image; with the upstream stopped, what is cached is still
# served, and what is not is refused. A second ecrd process's ECR Public
# registry stands in for public.ecr.aws, pulled through anonymously.
source "$(dirname "$0")/lib.sh"
use_tools crane skopeo distribution
# ecrd is built after HOME moves: keep the real module and build caches.
export GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

up_port=$(free_port)
up_pid=$("$ROOT/scripts/run-upstream-registry.sh" "$up_port" "$WORK/upstream" hubuser hubpass) || fail "starting the upstream registry"
trap 'kill "$up_pid" 2>/dev/null || true; cleanup' EXIT
up=127.0.0.1:$up_port
crane auth login "$up" -u hubuser -p hubpass >/dev/null 2>&1 || fail "crane auth login to the upstream"
ref=$("$ROOT/scripts/make-image.sh" "$up/library/app:v1" 2 512) || fail "pushing the upstream image"
digest=${ref##*@}
"$ROOT/scripts/make-image.sh" "$up/library/other:v1" 1 64 >/dev/null || fail "pushing the second upstream image"
ok "an image pushed to distribution with htpasswd authentication"

# The second ecrd, whose ECR Public registry is public.ecr.aws here.
(cd "$ROOT" && go build -o "$WORK/up-ecrd" ./cmd/ecrd) || fail "building ecrd"
pub_api=$(free_port) pub_v2=$(free_port)
"$WORK/up-ecrd" serve --listen "127.0.0.1:$pub_api" --public-listen "127.0.0.1:$pub_v2" --data-dir "$WORK/up-ecrd-data" --log-format text 2>"$WORK/up-ecrd.log" &
pub_pid=$!
trap 'kill "$up_pid" "$pub_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$pub_v2/v2/" && break; sleep 0.1; done
pub() { aws ecr-public --endpoint-url "http://127.0.0.1:$pub_api" --region us-east-1 --output json "$@"; }
pub create-repository --repository-name tools/hello >/dev/null || fail "ecr-public create-repository on the second ecrd"
pub get-login-password | crane auth login "127.0.0.1:$pub_v2" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane login to the second ecrd's public registry"
pubref=$("$ROOT/scripts/make-image.sh" "127.0.0.1:$pub_v2/ecrd/tools/hello:1" 1 128) || fail "pushing to the second ecrd's public registry"
ok "an image pushed to a second ecrd's ECR Public registry"

arn="arn:aws:secretsmanager:us-east-1:000000000000:secret:ecr-pullthroughcache/docker-hub"
cat >"$WORK/ptc-secrets.json" <<JSON
{"$arn": {"username": "hubuser", "accessToken": "hubpass"},
 "$arn-wrong": {"username": "hubuser", "accessToken": "nope"}}
JSON
start_ecrd --pull-through-upstreams "registry-1.docker.io=http://$up,public.ecr.aws=http://127.0.0.1:$pub_v2" --pull-through-secrets "$WORK/ptc-secrets.json"
host=${ECRD_URL#http://}
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
ecr create-pull-through-cache-rule --ecr-repository-prefix docker-hub --upstream-registry-url registry-1.docker.io \
  --credential-arn "$arn" >"$WORK/rule.json" || fail "create-pull-through-cache-rule"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["upstreamRegistry"] == "docker-hub" and r["ecrRepositoryPrefix"] == "docker-hub", r' "$WORK/rule.json" || fail "the created rule"
[ "$(ecr validate-pull-through-cache-rule --ecr-repository-prefix docker-hub --query isValid --output text)" = True ] || fail "the rule does not validate"
ecr create-pull-through-cache-rule --ecr-repository-prefix wrong --upstream-registry-url registry-1.docker.io --credential-arn "$arn-wrong" >/dev/null || fail "create the wrong rule"
[ "$(ecr validate-pull-through-cache-rule --ecr-repository-prefix wrong --query isValid --output text)" = False ] || fail "a rule with a wrong token validates"
ok "aws ecr create-pull-through-cache-rule and validate-pull-through-cache-rule against the upstream"

ecr get-login-password | crane auth login "$host" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login to ecrd"
pw=$(ecr get-login-password)
[ "$(crane digest "$host/docker-hub/library/app:v1")" = "$digest" ] || fail "crane digest through the cache"
crane pull --format oci "$host/docker-hub/library/app:v1" "$WORK/pulled" >/dev/null || fail "crane pull through the cache"
for blob in "$WORK"/pulled/blobs/sha256/*; do
  [ "$(sha256sum <"$blob" | cut -d' ' -f1)" = "$(basename "$blob")" ] || fail "pulled blob $(basename "$blob") does not verify"
done
ok "crane pulls docker-hub/library/app:v1 through the cache"
skopeo copy --src-tls-verify=false --src-creds "AWS:$pw" "docker://$host/docker-hub/library/other@$(crane digest "$up/library/other:v1")" "oci:$WORK/layout:other" >/dev/null ||
  fail "skopeo copy by digest through the cache"
ok "skopeo pulls docker-hub/library/other by digest through the cache"

ecr create-pull-through-cache-rule --ecr-repository-prefix ecr-public --upstream-registry-url public.ecr.aws >/dev/null || fail "create the ecr-public rule"
[ "$(crane digest "$host/ecr-public/ecrd/tools/hello:1")" = "${pubref##*@}" ] || fail "crane digest through the ecr-public rule"
skopeo copy --src-tls-verify=false --src-creds "AWS:$pw" "docker://$host/ecr-public/ecrd/tools/hello@${pubref##*@}" "oci:$WORK/layout:hello" >/dev/null ||
  fail "skopeo copy by digest through the ecr-public rule"
ok "crane and skopeo pull the second ecrd's public image through ecr-public/"

ecr describe-images --repository-name docker-hub/library/app --image-ids imageTag=v1 --query 'imageDetails[0].imageDigest' --output text | grep -qx "$digest" ||
  fail "describe-images does not see the cached image"
ecr describe-repositories --repository-names docker-hub/library/app docker-hub/library/other >/dev/null || fail "the cache repositories"
ok "the ECR API sees the cache repositories and images"

kill "$up_pid"
wait "$up_pid" 2>/dev/null || true
for _ in $(seq 1 50); do curl -s -o /dev/null "http://$up/v2/" || break; sleep 0.1; done
[ "$(crane digest "$host/docker-hub/library/app:v1")" = "$digest" ] || fail "the cached image with the upstream stopped"
crane pull "$host/docker-hub/library/app:v1" "$WORK/again.tar" >/dev/null || fail "crane pull of the cached image with the upstream stopped"
if crane digest "$host/docker-hub/library/app:v2" >"$WORK/v2.out" 2>&1; then fail "an uncached tag was served with the upstream stopped"; fi
grep -q "UNAVAILABLE" "$WORK/v2.out" || fail "the uncached tag's error: $(cat "$WORK/v2.out")"
ok "with the upstream stopped, the cached image is served and an uncached tag is refused (UNAVAILABLE)"

echo "pullthrough: $passed passed, 0 failed"
