#!/usr/bin/env bash
# Runs every ecrd test: static checks, the Go tests (unit, contract and
# end-to-end with the AWS SDK for Go v2) under the race detector, and the
# end-to-end scripts with the AWS CLI and boto3. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")"

need() { command -v "$1" >/dev/null || { echo "test.sh: $1 is required but not installed" >&2; exit 1; }; }
need go
need python3
need aws
python3 -c 'import boto3' 2>/dev/null || { echo "test.sh: boto3 is required but not installed" >&2; exit 1; }

echo "== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
[ -z "$bad" ] || { echo "gofmt would change: $bad" >&2; exit 1; }
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 -timeout 20m ./...
echo "== fuzz: the Authorization header parser and the SigV4 verifier (10 s each)"
go test -run '^$' -fuzz '^FuzzParseAuthorization$' -fuzztime 10s ./internal/auth/
go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 10s ./internal/auth/
echo "== fuzz: the digest and manifest parsers, the /v2/ router, and its Content-Range, Accept and Authorization parsers (5 s each)"
go test -run '^$' -fuzz '^FuzzParseDigest$' -fuzztime 5s ./internal/registry/
go test -run '^$' -fuzz '^FuzzParseManifest$' -fuzztime 5s ./internal/registry/
go test -run '^$' -fuzz '^FuzzParseRoute$' -fuzztime 5s ./internal/api/oci/
go test -run '^$' -fuzz '^FuzzParseContentRange$' -fuzztime 5s ./internal/api/oci/
go test -run '^$' -fuzz '^FuzzAcceptedTypes$' -fuzztime 5s ./internal/api/oci/
go test -run '^$' -fuzz '^FuzzCredentialsOf$' -fuzztime 5s ./internal/api/oci/
echo "== aws CLI end-to-end"
bash e2e/cli/aws_cli_test.sh
echo "== boto3 end-to-end"
bash e2e/cli/boto3_test.sh
echo "== ECR Public: aws ecr-public, and crane's anonymous pull"
bash e2e/cli/aws_ecr_public_test.sh
echo "== /v2/: crane, regctl, skopeo and the OCI conformance suite"
bash e2e/cli/oci_clients_test.sh
echo "== benchmarks, once each at small sizes, so that they cannot rot (no timings asserted)"
go test -run '^$' -bench . -benchtime 1x ./internal/registry/ ./internal/api/awsjson/ ./internal/blobstore/fs/
go test -run '^$' -bench . -benchtime 1x ./e2e/ -args -bench.layer=16
go run ./bench -short -out "$(mktemp -d)"
echo "== the growth benchmark, at tiny sizes (go run ./bench -growth measures 1k to 100k images)"
go run ./bench -growth -short -out "$(mktemp -d)"
echo "test.sh: all passed"
