// Package s3test finds the S3-compatible server that tests of the
// scale-out stores run against: ECRD_TEST_S3_ENDPOINT, with
// ECRD_TEST_S3_BUCKET, _REGION, _ACCESS_KEY and _SECRET_KEY (test.sh
// starts versitygw and sets them; scripts/run-s3.sh starts one by hand).
// Without the endpoint a test is skipped, unless CI=true: there a missing
// server fails, loudly. Its twin for PostgreSQL is pgtest.
package s3test

import (
	"os"
	"testing"
)

// Server is the test S3 server and the bucket tests share; each test
// works under a prefix of its own.
type Server struct {
	Endpoint, Bucket, Region, AccessKey, SecretKey string
}

// Find returns the test server, or ends the test when there is none.
func Find(t testing.TB) Server {
	t.Helper()
	endpoint := os.Getenv("ECRD_TEST_S3_ENDPOINT")
	if endpoint == "" {
		const hint = "ECRD_TEST_S3_ENDPOINT is not set: scripts/run-s3.sh 9000 DIR starts an S3 server (./test.sh does)"
		if os.Getenv("CI") == "true" {
			t.Fatal(hint + ", and CI=true")
		}
		t.Skip(hint)
	}
	return Server{
		Endpoint:  endpoint,
		Bucket:    envOr("ECRD_TEST_S3_BUCKET", "ecrd-test"),
		Region:    envOr("ECRD_TEST_S3_REGION", "us-east-1"),
		AccessKey: envOr("ECRD_TEST_S3_ACCESS_KEY", "test"),
		SecretKey: envOr("ECRD_TEST_S3_SECRET_KEY", "testsecret"),
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
