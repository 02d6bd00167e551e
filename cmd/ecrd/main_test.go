package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
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
		{"VersionFlag", []string{"--version"}, nil, 0, runtime.Version(), ""},
		{"NoCommand", nil, nil, 2, "", "Usage:"},
		{"UnknownCommand", []string{"frobnicate"}, nil, 2, "", `unknown command "frobnicate"`},
		{"ServeHelp", []string{"serve", "--help"}, nil, 0, "Usage: ecrd serve [flags]", ""},
		{"GCHelp", []string{"gc", "--help"}, nil, 0, "Usage: ecrd gc [flags]", ""},
		{"HealthHelp", []string{"health", "-h"}, nil, 0, "Usage: ecrd health [flags]", ""},
		{"BadFlag", []string{"serve", "--no-such-flag"}, nil, 2, "", "flag provided but not defined: -no-such-flag\nRun 'ecrd serve --help' for its flags.\n"},
		{"GCTakesNoListen", []string{"gc", "--listen", "x"}, nil, 2, "", "Run 'ecrd gc --help'"},
		{"BadAccount", []string{"serve", "--account-id", "12"}, nil, 2, "", `--account-id "12": want 12 digits`},
		{"BadRegionFromEnv", []string{"serve"}, map[string]string{"ECRD_REGION": "Mars"}, 2, "", `ECRD_REGION "Mars"`},
		{"BadListen", []string{"serve", "--listen", "nonsense"}, nil, 2, "", `--listen "nonsense"`},
		{"BadListenFromEnv", []string{"serve"}, map[string]string{"ECRD_LISTEN": "nonsense"}, 2, "", `ECRD_LISTEN "nonsense": want host:port`},
		{"EveryProblemAtOnce", []string{"serve", "--account-id", "x", "--region", "y"}, nil, 2, "", "--region"},
		{"UnusableDataDir", []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(file, "sub")}, nil, 2, "", "--data-dir " + filepath.Join(file, "sub")},
		{"BadDuration", []string{"serve"}, map[string]string{"ECRD_UPLOAD_EXPIRY": "soon"}, 2, "", "ECRD_UPLOAD_EXPIRY"},
		{"PublicListenNeedsCredentials", []string{"serve", "--listen", "0.0.0.0:0", "--data-dir", t.TempDir()}, nil, 2, "", "without --credentials anyone could use the well-known key"},
		{"BadAuthMode", []string{"serve", "--auth", "maybe"}, nil, 2, "", `--auth "maybe"`},
		{"MissingCredentialsFile", []string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--credentials", filepath.Join(t.TempDir(), "none.json")}, nil, 2, "", "--credentials"},
		{"GC", []string{"gc", "--data-dir", t.TempDir()}, nil, 0, "removed 0 unused layer records and 0 blobs", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string {
				if k == "HOME" {
					return home
				}
				return tc.env[k]
			}
			status := run(tc.args, getenv, &stdout, &stderr)
			if status != tc.status {
				t.Fatalf("status %d, want %d; stderr: %s", status, tc.status, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.out) || !strings.Contains(stderr.String(), tc.errOut) {
				t.Fatalf("stdout %q, stderr %q; want %q and %q in them", stdout.String(), stderr.String(), tc.out, tc.errOut)
			}
			switch tc.name {
			case "EveryProblemAtOnce":
				if !strings.Contains(stderr.String(), "--account-id") {
					t.Fatalf("stderr %q names only some problems", stderr.String())
				}
			case "BadFlag":
				// Reported once: no usage dump, no second copy.
				if n := strings.Count(stderr.String(), "no-such-flag"); n != 1 || strings.Contains(stderr.String(), "Usage") {
					t.Fatalf("stderr %q: want the error once and no usage", stderr.String())
				}
			case "GC":
				// ecrd gc serves nothing: no warning about who could get in.
				if strings.Contains(stderr.String(), "well-known") || strings.Contains(stderr.String(), "WARN") {
					t.Fatalf("ecrd gc warns: %s", stderr.String())
				}
			}
		})
	}
}

// TestHealth: ecrd health asks --listen for /healthz, reading the same
// settings as serve (here from the environment), and fails when it is
// not ok or nobody answers.
func TestHealth(t *testing.T) {
	healthy := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || !healthy {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	env := func(k string) string { return map[string]string{"ECRD_LISTEN": addr}[k] }
	var out, errOut bytes.Buffer
	if s := run([]string{"health"}, env, &out, &errOut); s != 0 || !strings.Contains(out.String(), "ok") {
		t.Fatalf("healthy: status %d, %q %q", s, out.String(), errOut.String())
	}
	healthy = false
	if s := run([]string{"health"}, env, &out, &errOut); s != 1 || !strings.Contains(errOut.String(), "503") {
		t.Fatalf("unhealthy: status %d, %q", s, errOut.String())
	}
	srv.Close()
	if s := run([]string{"health", "--listen", addr}, func(string) string { return "" }, &out, &errOut); s != 1 {
		t.Fatalf("nobody listening: status %d", s)
	}
}
