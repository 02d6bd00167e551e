#!/usr/bin/env bash
# End-to-end: replication between two ecrd processes, us-east-1 and
# us-west-2, with the aws CLI and crane. The east replicates prod* to the
# west (--replication-regions); a crane push in the east is pulled from
# the west with its tags once describe-image-replication-status says
# COMPLETE; a repository no filter covers stays home; with the west
# stopped a push stays IN_PROGRESS, and completes once the west is back.
source "$(dirname "$0")/lib.sh"
use_tools crane
export GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

west_port=$(free_port)
start_ecrd --region us-east-1 --replication-regions "us-west-2=http://test:test@127.0.0.1:$west_port"
east=${ECRD_URL#http://}
WEST_PID=
start_west() {
  "$WORK/ecrd" serve --listen "127.0.0.1:$west_port" --public-listen off --region us-west-2 --data-dir "$WORK/west" --log-format text 2>>"$WORK/west.log" &
  WEST_PID=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$west_port/healthz" && return 0; sleep 0.1; done
  fail "the west did not start: $(tail -5 "$WORK/west.log")"
}
stop_west() { kill "$WEST_PID"; wait "$WEST_PID" 2>/dev/null || true; }
start_west
trap 'kill "$WEST_PID" 2>/dev/null || true; cleanup' EXIT
west=127.0.0.1:$west_port

export HOME=$WORK/home DOCKER_CONFIG=$WORK/home/.docker
mkdir -p "$DOCKER_CONFIG"
east_ecr() { aws ecr --endpoint-url "http://$east" --region us-east-1 --output json "$@"; }
west_ecr() { aws ecr --endpoint-url "http://$west" --region us-west-2 --output json "$@"; }
east_ecr get-login-password | crane auth login "$east" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane login to the east"
west_ecr get-login-password | crane auth login "$west" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane login to the west"

east_ecr put-replication-configuration --replication-configuration \
  '{"rules":[{"destinations":[{"region":"us-west-2","registryId":"000000000000"}],"repositoryFilters":[{"filter":"prod","filterType":"PREFIX_MATCH"}]}]}' >/dev/null ||
  fail "put-replication-configuration"
[ "$(east_ecr describe-registry --query 'replicationConfiguration.rules[0].destinations[0].region' --output text)" = us-west-2 ] || fail "describe-registry"
ok "aws ecr put-replication-configuration, and describe-registry reports it"

status() { east_ecr describe-image-replication-status --repository-name "$1" --image-id "imageTag=$2" --query 'replicationStatuses[0].[status,failureCode]' --output text; }
wait_status() { # repo tag want
  for _ in $(seq 1 200); do [ "$(status "$1" "$2" | cut -f1)" = "$3" ] && return 0; sleep 0.1; done
  fail "$1:$2 did not become $3: $(status "$1" "$2")"
}
east_ecr create-repository --repository-name prod/api >/dev/null && east_ecr create-repository --repository-name dev/api >/dev/null || fail "create-repository"
ref=$("$ROOT/scripts/make-image.sh" "$east/prod/api:v1" 2 256) || fail "crane push to the east"
crane tag "$east/prod/api:v1" stable || fail "crane tag"
"$ROOT/scripts/make-image.sh" "$east/dev/api:v1" 1 64 >/dev/null || fail "crane push dev/api"
wait_status prod/api v1 COMPLETE
wait_status prod/api stable COMPLETE
[ "$(crane digest "$west/prod/api:v1")" = "${ref##*@}" ] || fail "the west's prod/api:v1"
[ "$(crane digest "$west/prod/api:stable")" = "${ref##*@}" ] || fail "the west's prod/api:stable"
crane pull "$west/prod/api:v1" "$WORK/west.tar" >/dev/null || fail "crane pull from the west"
ok "a crane push in the east is COMPLETE in the west, with its tags, and pulls there"
[ "$(east_ecr describe-image-replication-status --repository-name dev/api --image-id imageTag=v1 --query 'length(replicationStatuses)')" = 0 ] ||
  fail "dev/api has a replication status"
if west_ecr describe-repositories --repository-names dev/api >/dev/null 2>&1; then fail "dev/api reached the west"; fi
ok "a repository no filter covers is not replicated"

stop_west
ref2=$("$ROOT/scripts/make-image.sh" "$east/prod/api:v2" 1 128) || fail "crane push v2"
for _ in $(seq 1 100); do [ "$(status prod/api v2)" = "$(printf 'IN_PROGRESS\tDESTINATION_UNAVAILABLE')" ] && break; sleep 0.1; done
[ "$(status prod/api v2)" = "$(printf 'IN_PROGRESS\tDESTINATION_UNAVAILABLE')" ] || fail "with the west stopped: $(status prod/api v2)"
start_west
wait_status prod/api v2 COMPLETE
[ "$(crane digest "$west/prod/api:v2")" = "${ref2##*@}" ] || fail "the west's prod/api:v2"
ok "with the west stopped a push waits IN_PROGRESS, and completes once the west is back"

echo "replication: $passed passed, 0 failed"
