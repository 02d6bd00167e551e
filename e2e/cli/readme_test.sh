#!/usr/bin/env bash
# End-to-end: the README's quick start, as written. The code blocks of its
# "## Quick start" section (```sh, ```bash or untyped; a block of another
# language is shown, not run) run in order and verbatim, in one
# `bash -euo pipefail`, in an empty directory, against a fresh ecrd on the
# addresses the README names (127.0.0.1:5000, ECR Public on :5001). Then
# this checks what they printed and did: each repository created, the
# uploaded layer AVAILABLE, each crane push seen by describe-images, the
# anonymous pull, and nothing left behind, so that the quick start pastes
# again.
#
# Only the quick start's own settings count: the AWS variables it exports
# are unset before it runs (the AWS config files stay /dev/null, as in
# lib.sh), crane's login goes to a temporary DOCKER_CONFIG, and `go install`
# goes to a temporary GOPATH over the real module and build caches (warm, and
# the user's ~/go/bin is left alone).
#
# It runs in a network namespace of its own where it can (root, or user
# namespaces): there 127.0.0.1:5000 is free even while the user's own
# `ecrd serve` from the README's first command holds it. The namespace has
# no network, so `go install` takes crane from the module cache, which
# scripts/install-tools.sh fills first.
if [ -z "${README_TEST_NETNS:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
  self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
  netns=
  if unshare -n true 2>/dev/null; then netns=(unshare -n); elif unshare -rn true 2>/dev/null; then netns=(unshare -rn); fi
  if [ -n "${netns:-}" ]; then
    "$(dirname "$self")/../../scripts/install-tools.sh" crane || { echo "FAIL: installing crane" >&2; exit 1; }
    export README_TEST_NETNS=1 GOPROXY="file://$(go env GOMODCACHE)/cache/download" GOSUMDB=off
    exec "${netns[@]}" bash -c 'ip link set lo up && exec bash "$0"' "$self"
  fi
fi
source "$(dirname "$0")/lib.sh"
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

for port in 5000 5001; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "127.0.0.1:$port is taken; the README's quick start needs 127.0.0.1:5000 and :5001 free (is an ecrd serve running? stop it, or run this as root or where user namespaces work, so that it runs in a network namespace of its own)"
  fi
done

# The script keeps the README's line numbers: every line that is not in a
# quick-start block is blank, but the first, which reports the README line
# of a command that fails.
script=$WORK/quickstart.sh
awk -v blocks="$WORK/blocks" '
  NR == 1 { print "set -E; trap '\''l_=$LINENO; [ -z \"${FUNCNAME[0]:-}\" ] || l_=${BASH_LINENO[0]}; echo \"readme_test: README.md line $l_ failed: $BASH_COMMAND\" >&2'\'' ERR"; next }
  /^## / && !fence { quick = ($0 == "## Quick start") }
  fence && /^```/ { fence = 0; print ""; next }
  quick && /^```/ {
    lang = substr($0, 4); sub(/[ \t]+$/, "", lang)
    fence = (lang == "" || lang == "sh" || lang == "bash" || lang == "shell") ? 1 : 2
    if (fence == 1) { n++; lines = lines " " NR + 1 }
    print ""; next
  }
  fence == 1 { print; next }
  { print "" }
  END {
    print n + 0, lines > blocks
    if (fence) exit 1
  }' "$ROOT/README.md" >"$script" || fail "README.md: a code block of the quick start is not closed"
read -r nblocks starts <"$WORK/blocks"
[ "$nblocks" -gt 0 ] || fail "README.md has no shell code block under '## Quick start'"
echo "running the $nblocks code blocks of README.md's quick start (at its lines ${starts// /, })"

gomodcache=$(go env GOMODCACHE) gocache=$(go env GOCACHE)
start_ecrd_on 127.0.0.1:5000 --public-listen 127.0.0.1:5001
[ "$ECRD_URL" = http://127.0.0.1:5000 ] || fail "ecrd listens on $ECRD_URL, not http://127.0.0.1:5000"
mkdir -p "$WORK/qs" "$WORK/docker" "$WORK/gopath"
rc=0
(
  cd "$WORK/qs" || exit 1
  for v in $(compgen -e | grep '^AWS_'); do unset "$v"; done
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  unset GOBIN
  export DOCKER_CONFIG=$WORK/docker GOPATH=$WORK/gopath GOMODCACHE=$gomodcache GOCACHE=$gocache
  exec timeout 900 bash -euo pipefail "$script" </dev/null >"$WORK/qs.out" 2>"$WORK/qs.err"
) || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "--- its output ends:" >&2
  tail -30 "$WORK/qs.out" >&2
  echo "--- its errors end:" >&2
  tail -30 "$WORK/qs.err" >&2
  fail "the quick start exited with status $rc$( [ "$rc" -ne 124 ] || echo ' (timed out after 15 minutes)')"
fi
ok "the quick start ran to its end"

# What it printed: the aws CLI's JSON documents, and lines of text (crane
# push's REPOSITORY@DIGEST, ls -l, the file the image holds).
python3 - "$WORK/qs.out" "$WORK/qs" <<'PY' || fail "the quick start's output (above)"
import json, os, re, sys
out, qs = open(sys.argv[1]).read(), sys.argv[2]
docs, lines, i, dec = [], [], 0, json.JSONDecoder()
while i < len(out):
    if out[i] == "{":
        doc, i = dec.raw_decode(out, i)
        docs.append(doc)
        continue
    j = out.find("\n", i)
    j = len(out) if j < 0 else j + 1
    if out[i:j].strip():
        lines.append(out[i:j].strip())
    i = j

def check(cond, msg):
    if not cond:
        print("readme_test: " + msg, file=sys.stderr)
        sys.exit(1)

# Each repository the output shows (create- and delete-repository print it), by URI.
repos = {d["repository"]["repositoryUri"]: d["repository"]["repositoryName"] for d in docs if "repositoryUri" in d.get("repository", {})}
check(any(u.startswith("127.0.0.1:5000/") for u in repos), "no private repository created: %s" % sorted(repos))
check(any(u.startswith("127.0.0.1:5001/") for u in repos), "no public repository created: %s" % sorted(repos))
print("ok: repositories created:", ", ".join(sorted(repos)))

# The layer uploaded with the API, then every batch-check-layer-availability: all AVAILABLE.
uploaded = [d["layerDigest"] for d in docs if "uploadId" in d and "layerDigest" in d]
checks = [d for d in docs if "layers" in d and "failures" in d]
check(uploaded, "no complete-layer-upload output")
check(len(checks) >= 2, "%d batch-check-layer-availability outputs; want one after the upload and one after the public push" % len(checks))
for c in checks:
    check(c["layers"] and not c["failures"] and all(l["layerAvailability"] == "AVAILABLE" for l in c["layers"]),
          "batch-check-layer-availability: %s" % c)
check(set(uploaded) <= {l["layerDigest"] for c in checks for l in c["layers"]}, "the uploaded layer %s was not checked" % uploaded)
print("ok: the uploaded layer %s and the pushed one are AVAILABLE" % uploaded[0])

# Each crane push, and describe-images listing that image in that repository.
pushes = [m.groups() for m in (re.fullmatch(r"(\S+)@(sha256:[0-9a-f]{64})", l) for l in lines) if m]
check(len(pushes) >= 2, "crane pushed %d images; want one to ECR and one to ECR Public: %s" % (len(pushes), lines))
images = {(i["repositoryName"], i["imageDigest"]) for d in docs for i in d.get("imageDetails", [])}
for uri, digest in pushes:
    check(uri in repos, "crane pushed to %s, a repository the output never showed" % uri)
    check((repos[uri], digest) in images, "describe-images does not list %s@%s; it lists %s" % (repos[uri], digest, sorted(images)))
print("ok: describe-images lists what crane pushed:", ", ".join("%s@%s" % p for p in pushes))

# The anonymous pull: the file ls -l shows, and the file the image holds, printed back.
pulled = [l.split()[-1] for l in lines if re.match(r"-[-rwx]{9}", l)]
check(pulled, "no ls -l of a pulled file in the output")
for f in pulled:
    check(os.path.getsize(os.path.join(qs, f)) > 0, "the pulled %s is empty" % f)
hello = open(os.path.join(qs, "hello.txt")).read().strip()
check(hello in lines, "the image's hello.txt (%r) was not printed back" % hello)
print("ok: anonymous pull wrote %s; crane export printed %r" % (", ".join(pulled), hello))
PY
passed=$((passed + 4))

# It deleted what it created, so that it pastes again on the same server.
left=$(aws ecr --endpoint-url "$ECRD_URL" describe-repositories --query 'repositories[].repositoryName' --output text)
[ -z "$left" ] || fail "the quick start leaves private repositories behind: $left"
left=$(aws ecr-public --endpoint-url "$ECRD_URL" --region us-east-1 describe-repositories --query 'repositories[].repositoryName' --output text)
[ -z "$left" ] || fail "the quick start leaves public repositories behind: $left"
ok "the quick start deletes the repositories it creates"

echo "PASS: $passed checks of README.md's quick start"
