#!/usr/bin/env bash
# Three ecrd replicas on one PostgreSQL database and one S3 bucket, behind
# nginx configured by deploy/nginx/ecrd.conf, as the README's "Three
# replicas behind a load balancer" sets them up: the aws CLI and crane see
# one registry through it, round robin sends each request of a push to
# another replica, and a replica killed with -9 costs a retry, no data.
#
# Needs the scale-out stores' servers (./test.sh starts them):
# ECRD_TEST_POSTGRES_DSN, ECRD_TEST_S3_ENDPOINT, ECRD_TEST_S3_BUCKET.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
use_tools crane nginx
export DOCKER_CONFIG=$WORK/docker

for v in ECRD_TEST_POSTGRES_DSN ECRD_TEST_S3_ENDPOINT; do
  [ -n "${!v:-}" ] || fail "$v is not set: ./test.sh starts PostgreSQL and versitygw and sets it"
done
command -v psql >/dev/null || fail "psql is needed (PostgreSQL's client)"

# A fresh database and bucket prefix: the replicas share them.
db=ecrd_lb_$$_$RANDOM
psql -q "$ECRD_TEST_POSTGRES_DSN" -c "CREATE DATABASE $db" || fail "creating database $db"
drop_db() { psql -q "$ECRD_TEST_POSTGRES_DSN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
dsn=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(u.urlunparse(p._replace(path="/" + sys.argv[2])))' "$ECRD_TEST_POSTGRES_DSN" "$db")
export ECRD_META=postgres ECRD_POSTGRES_DSN=$dsn
export ECRD_BLOB=s3 ECRD_S3_BUCKET=${ECRD_TEST_S3_BUCKET:-ecrd-test} ECRD_S3_PREFIX=lb-$$-$RANDOM/
export ECRD_S3_ENDPOINT=$ECRD_TEST_S3_ENDPOINT ECRD_S3_PATH_STYLE=true
export ECRD_S3_ACCESS_KEY=${ECRD_TEST_S3_ACCESS_KEY:-test} ECRD_S3_SECRET_KEY=${ECRD_TEST_S3_SECRET_KEY:-testsecret}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
lb=$(free_port) lb_public=$(free_port)
# repositoryUri must name the address clients use: the load balancer's.
export ECRD_HOSTNAME=127.0.0.1:$lb ECRD_PUBLIC_HOSTNAME=127.0.0.1:$lb_public

(cd "$ROOT" && go build -o "$WORK/ecrd" ./cmd/ecrd) || fail "building ecrd"
pids=() ports=() public_ports=()
start_replica() { # N: starts replica N on ports of its own, its own data dir
  local n=$1 port public
  port=$(free_port) public=$(free_port)
  "$WORK/ecrd" serve --listen "127.0.0.1:$port" --public-listen "127.0.0.1:$public" \
    --data-dir "$WORK/data$n" --log-format text 2>"$WORK/replica$n.log" &
  pids[n]=$! ports[n]=$port public_ports[n]=$public
}
stop_all() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  drop_db
  cleanup
}
trap stop_all EXIT
for n in 1 2 3; do start_replica $n; done
for n in 1 2 3; do
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:${ports[n]}/readyz" 2>/dev/null && break
    sleep 0.1
  done
  curl -fsS -o /dev/null "http://127.0.0.1:${ports[n]}/readyz" || { tail -20 "$WORK/replica$n.log" >&2; fail "replica $n is not ready"; }
done

# nginx with deploy/nginx/ecrd.conf as shipped, only its addresses replaced.
mkdir -p "$WORK/nginx/logs"
sed -e "s/10\.0\.0\.\([123]\):5000/127.0.0.1:PORT\1/; s/10\.0\.0\.\([123]\):5001/127.0.0.1:PUBLIC\1/" \
  -e "s/listen 5000;/listen 127.0.0.1:$lb;/; s/listen 5001;/listen 127.0.0.1:$lb_public;/" \
  "$ROOT/deploy/nginx/ecrd.conf" >"$WORK/nginx/ecrd.conf"
for n in 1 2 3; do
  sed -i -e "s/PORT$n\b/${ports[n]}/; s/PUBLIC$n\b/${public_ports[n]}/" "$WORK/nginx/ecrd.conf"
done
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  log_format upstream '\$status \$request_method \$upstream_addr';
  access_log $WORK/nginx/logs/access.log upstream;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  include $WORK/nginx/ecrd.conf;
}
EOF
nginx -t -q -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" || fail "nginx -t refuses deploy/nginx/ecrd.conf"
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" || fail "nginx did not start"
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$lb/v2/" && break; sleep 0.1; done

ecr() { aws ecr --endpoint-url "http://127.0.0.1:$lb" --output json "$@"; }
echo ">> the aws CLI through nginx"
uri=$(ecr create-repository --repository-name lb/app --query repository.repositoryUri --output text) || fail "create-repository"
[ "$uri" = "127.0.0.1:$lb/lb/app" ] || fail "repositoryUri $uri, want the load balancer's address"
for n in 1 2 3; do
  got=$(aws ecr --endpoint-url "http://127.0.0.1:${ports[n]}" describe-repositories --query 'repositories[].repositoryName' --output text)
  [ "$got" = lb/app ] || fail "replica $n lists '$got', want lb/app"
done

echo ">> the ECR layer API, each call to the next replica"
head -c $((11 * 1024 * 1024)) /dev/urandom >"$WORK/layer"
digest=sha256:$(sha256sum "$WORK/layer" | cut -d' ' -f1)
upload=$(ecr initiate-layer-upload --repository-name lb/app --query uploadId --output text) || fail "initiate-layer-upload"
head -c $((6 * 1024 * 1024)) "$WORK/layer" >"$WORK/part1"
tail -c +$((6 * 1024 * 1024 + 1)) "$WORK/layer" >"$WORK/part2"
ecr upload-layer-part --repository-name lb/app --upload-id "$upload" --part-first-byte 0 \
  --part-last-byte $((6 * 1024 * 1024 - 1)) --layer-part-blob "fileb://$WORK/part1" >/dev/null || fail "upload-layer-part 1"
ecr upload-layer-part --repository-name lb/app --upload-id "$upload" --part-first-byte $((6 * 1024 * 1024)) \
  --part-last-byte $((11 * 1024 * 1024 - 1)) --layer-part-blob "fileb://$WORK/part2" >/dev/null || fail "upload-layer-part 2"
ecr complete-layer-upload --repository-name lb/app --upload-id "$upload" --layer-digests "$digest" >/dev/null || fail "complete-layer-upload"
for n in 1 2 3; do
  got=$(aws ecr --endpoint-url "http://127.0.0.1:${ports[n]}" batch-check-layer-availability --repository-name lb/app \
    --layer-digests "$digest" --query 'layers[0].layerAvailability' --output text)
  [ "$got" = AVAILABLE ] || fail "replica $n: the layer is '$got', want AVAILABLE"
done

echo ">> crane push and pull through nginx (chunks and requests spread over the replicas)"
# A token from one replica is good on every other: its key is in PostgreSQL.
token=$(ecr get-login-password) || fail "get-login-password"
for addr in "127.0.0.1:$lb" "127.0.0.1:${ports[1]}" "127.0.0.1:${ports[2]}" "127.0.0.1:${ports[3]}"; do
  echo "$token" | crane auth login "$addr" -u AWS --password-stdin >/dev/null || fail "crane auth login $addr"
done
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/blob.bin"
(cd "$WORK" && tar -cf layer.tar blob.bin)
crane append --oci-empty-base -f "$WORK/layer.tar" -t "$uri:v1" -o "$WORK/image.tar" >/dev/null 2>&1 || fail "crane append"
pushed=$(crane push "$WORK/image.tar" "$uri:v1") || fail "crane push through nginx"
crane validate --remote "$uri:v1" >/dev/null || fail "crane validate: the pulled image does not verify"
[ "$(crane digest "$uri:v1")" = "${pushed#*@}" ] || fail "the tag names another digest than the push"
for n in 1 2 3; do
  [ "$(crane digest "127.0.0.1:${ports[n]}/lb/app:v1")" = "${pushed#*@}" ] \
    || fail "replica $n answers another digest for lb/app:v1"
done
for n in 1 2 3; do
  served=$(awk -v a="127.0.0.1:${ports[n]}" '$1 ~ /^2/ && $3 == a' "$WORK/nginx/logs/access.log" | wc -l)
  [ "$served" -ge 3 ] || fail "nginx sent $served successful requests to replica $n, want the requests spread over all three"
done

echo ">> a replica killed with -9 mid-push: the client's retry goes on through the others"
head -c $((96 * 1024 * 1024)) /dev/urandom >"$WORK/big.bin"
(cd "$WORK" && tar -cf big.tar big.bin)
crane append --oci-empty-base -f "$WORK/big.tar" -t "$uri:v2" -o "$WORK/image2.tar" >/dev/null 2>&1 || fail "crane append"
crane push "$WORK/image2.tar" "$uri:v2" >"$WORK/push2.out" 2>"$WORK/push2.err" &
push=$!
# Once the upload has begun, kill the replica receiving its bytes: the one
# whose reads grow fastest (/proc/PID/io).
for _ in $(seq 1 200); do grep -q ' POST ' "$WORK/nginx/logs/access.log" 2>/dev/null && break; sleep 0.02; done
rchar() { awk '$1 == "rchar:" {print $2}' "/proc/$1/io"; }
declare -A before
for n in 1 2 3; do before[$n]=$(rchar "${pids[n]}"); done
sleep 0.2
victim=1 most=-1
for n in 1 2 3; do
  d=$(($(rchar "${pids[n]}") - before[$n]))
  if [ "$d" -gt "$most" ]; then most=$d victim=$n; fi
done
kill -9 "${pids[victim]}"
echo "killed replica $victim, which read $most bytes in 0.2 s"
if wait "$push"; then
  echo "the push in flight finished, crane retrying on another replica what the dead one failed:"
  grep '^[0-9/: ]*retrying' "$WORK/push2.err" | cut -c1-120 || echo "(no retry: the kill came between its requests)"
else
  echo "the push in flight failed with replica $victim: $(tail -1 "$WORK/push2.err")"
  ok=
  for attempt in 1 2 3; do
    if crane push "$WORK/image2.tar" "$uri:v2" >"$WORK/push2.out" 2>"$WORK/push2.err"; then ok=1; break; fi
    echo "retry $attempt failed: $(tail -1 "$WORK/push2.err")"
  done
  [ -n "$ok" ] || fail "pushing with one replica dead failed three times"
fi
crane validate --remote "$uri:v2" >/dev/null || fail "the image pushed across the kill does not verify"
crane validate --remote "$uri:v1" >/dev/null || fail "the first image does not verify after a replica died"
alive=$((victim % 3 + 1))
[ "$(aws ecr --endpoint-url "http://127.0.0.1:${ports[alive]}" list-images --repository-name lb/app --query 'length(imageIds)')" = 2 ] \
  || fail "replica $alive does not list both images"

echo ">> ECR Public's anonymous pulls through nginx's second listener"
pub() { aws ecr-public --endpoint-url "http://127.0.0.1:$lb" --region us-east-1 --output json "$@"; }
puburi=$(pub create-repository --repository-name hello --query repository.repositoryUri --output text) || fail "ecr-public create-repository"
[ "${puburi%%/*}" = "127.0.0.1:$lb_public" ] || fail "public repositoryUri $puburi, want the load balancer's public address"
pub get-login-password | crane auth login "127.0.0.1:$lb_public" -u AWS --password-stdin >/dev/null
crane push "$WORK/image.tar" "$puburi:v1" >/dev/null || fail "pushing the public image through nginx"
crane auth logout "127.0.0.1:$lb_public" >/dev/null 2>&1 || true
crane validate --remote "$puburi:v1" >/dev/null || fail "an anonymous pull through nginx does not verify"
echo "PASS: three replicas behind nginx"
