#!/usr/bin/env bash
# End-to-end: ecrd's container image. scripts/build-image.sh builds it
# without a Docker daemon and pushes it into a fresh ecrd, logged in as
# docker logs in to ECR; ecrd serves back the image the Dockerfile
# describes, byte for byte what was built; its binary is static and runs.
# Then, as root, the image's file system runs as a container would run it
# (its own network namespace, chroot, the image's user and environment,
# deploy/ecrd.toml and a credentials file mounted): it serves, writes its
# data volume, and passes the image's health check.
source "$(dirname "$0")/lib.sh"
use_tools crane
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

(cd "$ROOT/deploy/imagebuild" && go test -count=1 ./...) >"$WORK/imagebuild-test.log" 2>&1 \
  || { cat "$WORK/imagebuild-test.log" >&2; fail "deploy/imagebuild's tests"; }
ok "deploy/imagebuild's tests (the Dockerfile's final stage, layers, reproducibility, build context)"

start_ecrd
export DOCKER_CONFIG=$WORK/docker
mkdir -p "$DOCKER_CONFIG"
host=${ECRD_URL#http://}
ecr() { aws ecr --endpoint-url "$ECRD_URL" --output json "$@"; }
ecr create-repository --repository-name ecrd/ecrd >/dev/null || fail "create-repository"
ecr get-login-password | crane auth login "$host" -u AWS --password-stdin >/dev/null 2>&1 || fail "crane auth login"
repo=$host/ecrd/ecrd

# Build and push; the printed reference is what the layout holds.
export VERSION=v0.0.0-image-test
ref=$("$ROOT/scripts/build-image.sh" -o "$WORK/image" --push "$repo:test" 2>"$WORK/build.log" | tail -1) \
  || { cat "$WORK/build.log" >&2; fail "scripts/build-image.sh --push"; }
built=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$WORK/image/index.json")
[ "$ref" = "$repo:test@$built" ] || fail "build-image.sh printed $ref; the layout holds $built"
ok "scripts/build-image.sh builds the image and pushes it ($built)"

again=$("$ROOT/scripts/build-image.sh" -o "$WORK/image2" 2>"$WORK/build2.log" | tail -1) \
  || { cat "$WORK/build2.log" >&2; fail "scripts/build-image.sh"; }
[ "$again" = "$built" ] || fail "building the same commit again made $again, not $built"
ok "building the same commit again makes the same digest"

# What ecrd serves is what was built.
[ "$(crane digest "$repo:test")" = "$built" ] || fail "ecrd serves digest $(crane digest "$repo:test") for the tag"
crane manifest "$repo:test" >"$WORK/manifest.json" || fail "crane manifest"
cmp -s "$WORK/manifest.json" "$WORK/image/blobs/sha256/${built#sha256:}" || fail "the served manifest's bytes differ from the built one's"
crane pull --format oci "$repo:test" "$WORK/pulled" >/dev/null || fail "crane pull"
(cd "$WORK/image/blobs/sha256" && printf "%s\n" * | sort) >"$WORK/built.list"
(cd "$WORK/pulled/blobs/sha256" && printf "%s\n" * | sort) >"$WORK/pulled.list"
cmp -s "$WORK/built.list" "$WORK/pulled.list" || fail "pulled blobs $(tr '\n' ' ' <"$WORK/pulled.list"), built $(tr '\n' ' ' <"$WORK/built.list")"
while read -r blob; do
  cmp -s "$WORK/image/blobs/sha256/$blob" "$WORK/pulled/blobs/sha256/$blob" || fail "pulled blob $blob differs from the built one"
done <"$WORK/built.list"
ok "pulled back byte-identical: manifest, config and $(($(wc -l <"$WORK/built.list") - 2)) layers"

# The configuration ecrd serves is the one the Dockerfile describes.
crane config "$repo:test" >"$WORK/config.json" || fail "crane config"
python3 - "$WORK/config.json" "$VERSION" "$(go env GOARCH)" <<'PY' || fail "the image's configuration"
import json, sys
cf = json.load(open(sys.argv[1]))
c = cf["config"]
want = {
    "Entrypoint": ["/usr/local/bin/ecrd"],
    "Cmd": ["serve"],
    "User": "65532:65532",
    "WorkingDir": "/var/lib/ecrd",
    "ExposedPorts": {"5000/tcp": {}, "5001/tcp": {}},
    "Volumes": {"/var/lib/ecrd": {}},
    "Healthcheck": {"Test": ["CMD", "/usr/local/bin/ecrd", "health"],
                    "Interval": 30 * 10**9, "Timeout": 5 * 10**9, "StartPeriod": 10 * 10**9, "Retries": 3},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ECRD_DATA_DIR=/var/lib/ecrd", "ECRD_LISTEN=0.0.0.0:5000"],
}
for k, v in want.items():
    assert c.get(k) == v, f"{k}: {c.get(k)!r}, want {v!r}"
assert c["Labels"]["org.opencontainers.image.version"] == sys.argv[2], c["Labels"]
assert (cf["os"], cf["architecture"]) == ("linux", sys.argv[3]), (cf["os"], cf["architecture"])
PY
ok "crane config: entrypoint, cmd, user, working dir, ports, volume, health check, environment, labels"

# The layers hold the binary and the data dir, and nothing else.
python3 - "$WORK/manifest.json" "$WORK/image/blobs/sha256" "$WORK/rootfs" <<'PY' || fail "the image's layers"
import json, os, sys, tarfile
manifest, blobs, rootfs = sys.argv[1:]
entries = []
for layer in json.load(open(manifest))["layers"]:
    assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip", layer
    with tarfile.open(os.path.join(blobs, layer["digest"].split(":")[1]), "r:gz") as tf:
        for m in tf.getmembers():
            entries.append((m.name, "dir" if m.isdir() else "file" if m.isfile() else "other", oct(m.mode), m.uid, m.gid))
        tf.extractall(rootfs, numeric_owner=True, **({"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}))
root = ("dir", "0o755", 0, 0)
want = {
    "usr": root, "usr/local": root, "usr/local/bin": root,
    "usr/local/bin/ecrd": ("file", "0o755", 0, 0),
    "var": root, "var/lib": root,
    "var/lib/ecrd": ("dir", "0o750", 65532, 65532),
}
got = {name.rstrip("/"): rest for name, *rest in entries}
assert len(got) == len(entries), f"an entry is in two layers: {entries}"
assert got == {k: list(v) for k, v in want.items()}, f"layers hold {got}"
PY
bin=$WORK/rootfs/usr/local/bin/ecrd
python3 - "$bin" <<'PY' || fail "the binary is not statically linked"
import struct, sys
with open(sys.argv[1], "rb") as f:
    elf = f.read(64)
    assert elf[:4] == b"\x7fELF" and elf[4] == 2, "not a 64-bit ELF file"
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        ptype, = struct.unpack("<I", f.read(4))
        assert ptype not in (2, 3), "it has a PT_DYNAMIC or PT_INTERP segment: dynamically linked"
PY
go version -m "$bin" | grep -q 'CGO_ENABLED=0' || fail "the binary was not built with CGO_ENABLED=0"
"$bin" version | grep -q "^ecrd $VERSION " || fail "ecrd version says $("$bin" version), want $VERSION"
ok "the layers hold a static binary (mode 0755) and the data dir (65532, 0750); it runs: $("$bin" version)"

# As a container runtime would run it: as root, in a network namespace of
# its own, chrooted into the image's file system as UID 65532, with the
# image's environment and the deploy files mounted where compose and the
# Kubernetes manifests put them.
if [ "$(id -u)" != 0 ]; then
  echo "skipped: running the image's file system needs root (chroot, unshare)"
else
  mkdir -p "$WORK/rootfs/etc/ecrd"
  install -m 0644 "$ROOT/deploy/ecrd.toml" "$WORK/rootfs/etc/ecrd/ecrd.toml"
  install -m 0644 "$ROOT/deploy/credentials.example.json" "$WORK/rootfs/etc/ecrd/credentials.json"
  python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["config"]["Env"]))' "$WORK/config.json" >"$WORK/image.env"
  echo ECRD_CONFIG=/etc/ecrd/ecrd.toml >>"$WORK/image.env"
  cat >"$WORK/container.sh" <<'SH'
set -euo pipefail
work=$1
ip link set lo up
mapfile -t env <"$work/image.env"
run() { env -i "${env[@]}" chroot --userspec=65532:65532 "$work/rootfs" "$@"; }
# env and chroot exec, so $! is ecrd itself.
env -i "${env[@]}" chroot --userspec=65532:65532 "$work/rootfs" /usr/local/bin/ecrd serve >/dev/null 2>"$work/container.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  run /usr/local/bin/ecrd health >/dev/null 2>&1 && break
  sleep 0.1
done
run /usr/local/bin/ecrd health >"$work/health.out" 2>&1 || { echo "ecrd health failed: $(cat "$work/health.out")"; exit 1; }
python3 - <<'PY'
import urllib.request, urllib.error
m = urllib.request.urlopen("http://127.0.0.1:5000/metrics", timeout=5).read().decode()
assert "ecrd_build_info{" in m, "no ecrd_build_info on /metrics (metrics = true in ecrd.toml)"
try:
    urllib.request.urlopen("http://127.0.0.1:5001/v2/", timeout=5)
    raise AssertionError("the public listener's /v2/ answered without asking for a token")
except urllib.error.HTTPError as e:
    assert e.code == 401, e
PY
SH
  # In its own PID namespace too, so that nothing it started outlives it.
  unshare --net --pid --fork bash "$WORK/container.sh" "$WORK" || { cat "$WORK/container.log" >&2; fail "the image's file system, run as a container"; }
  grep -q '"msg":"ecrd serving"' "$WORK/container.log" || { cat "$WORK/container.log" >&2; fail "no JSON 'ecrd serving' line: was deploy/ecrd.toml read?"; }
  [ "$(stat -c %u "$WORK/rootfs/var/lib/ecrd/metadata.db")" = 65532 ] || fail "ecrd did not write its data dir as 65532"
  ok "run as a container (UID 65532, deploy/ecrd.toml, credentials): serves on 5000 and 5001, /metrics, ecrd health passes"
fi

echo "image_test: all $passed passed"
