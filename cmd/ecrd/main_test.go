package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		status int
		out    string // in stdout
		errOut string // in stderr
	}{
		{"Help", []string{"--help"}, nil, 0, "ecrd serve", ""},
		{"Version", []string{"version"}, nil, 0, "ecrd ", ""},
		{"NoCommand", nil, nil, 2, "", "Usage:"},
		{"UnknownCommand", []string{"frobnicate"}, nil, 2, "", `unknown command "frobnicate"`},
		{"ServeHelp", []string{"serve", "--help"}, nil, 0, "-data-dir", ""},
		{"BadFlag", []string{"serve", "--no-such-flag"}, nil, 2, "", "no-such-flag"},
		{"BadAccount", []string{"serve", "--account-id", "12"}, nil, 2, "", `--account-id "12": want 12 digits`},
		{"BadRegionFromEnv", []string{"serve"}, map[string]string{"ECRD_REGION": "Mars"}, 2, "", `--region "Mars"`},
		{"BadListen", []string{"serve", "--listen", "nonsense"}, nil, 2, "", `--listen "nonsense"`},
		{"EveryProblemAtOnce", []string{"serve", "--account-id", "x", "--region", "y"}, nil, 2, "", "--region"},
		{"UnusableDataDir", []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(file, "sub")}, nil, 2, "", "--data-dir " + filepath.Join(file, "sub")},
		{"BadDuration", []string{"serve"}, map[string]string{"ECRD_UPLOAD_EXPIRY": "soon"}, 2, "", "ECRD_UPLOAD_EXPIRY"},
		{"PublicListenNeedsCredentials", []string{"serve", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir()}, nil, 2, "", "without --credentials anyone could use the well-known key"},
		{"BadAuthMode", []string{"serve", "--auth", "maybe"}, nil, 2, "", `--auth "maybe"`},
		{"MissingCredentialsFile", []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--credentials", filepath.Join(t.TempDir(), "none.json")}, nil, 2, "", "--credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tc.env[k] }
			status := run(tc.args, getenv, &stdout, &stderr)
			if status != tc.status {
				t.Fatalf("status %d, want %d; stderr: %s", status, tc.status, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.out) || !strings.Contains(stderr.String(), tc.errOut) {
				t.Fatalf("stdout %q, stderr %q; want %q and %q in them", stdout.String(), stderr.String(), tc.out, tc.errOut)
			}
			if tc.name == "EveryProblemAtOnce" && !strings.Contains(stderr.String(), "--account-id") {
				t.Fatalf("stderr %q names only some problems", stderr.String())
			}
		})
	}
}
