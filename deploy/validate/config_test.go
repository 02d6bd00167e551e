package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// readFile reads a file of the repository, by its path from the root.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// configKeys are the settings deploy/ecrd.toml may use, with the kind of
// value each takes. They are `ecrd serve` flags; the example keeps to the
// ones a deployment sets, so that what it shows is what a server needs.
var configKeys = map[string]string{
	"listen": "address", "public-listen": "address", "data-dir": "path", "credentials": "path",
	"region": "string", "account-id": "account", "hostname": "string", "public-hostname": "string",
	"tls-cert": "path", "tls-key": "path", "metrics": "bool", "log-format": "string", "log-level": "string",
	"gc-interval": "duration", "max-connections": "int",
}

// settings reads deploy/ecrd.toml.
func settings(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	md, err := toml.Decode(string(readFile(t, "deploy/ecrd.toml")), &m)
	if err != nil {
		t.Fatalf("deploy/ecrd.toml: %v", err)
	}
	if len(md.Undecoded()) > 0 {
		t.Fatalf("deploy/ecrd.toml: undecoded keys %v", md.Undecoded())
	}
	return m
}

// setting is a string setting of deploy/ecrd.toml that must be there.
func setting(t *testing.T, key string) string {
	t.Helper()
	v, ok := settings(t)[key].(string)
	if !ok || v == "" {
		t.Fatalf("deploy/ecrd.toml: no %s", key)
	}
	return v
}

var (
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	accessKeyRE = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
)

func TestConfigFile(t *testing.T) {
	for key, v := range settings(t) {
		kind, ok := configKeys[key]
		if !ok {
			t.Errorf("deploy/ecrd.toml: %s is not one of the settings a deployment example uses (%v)", key, sortedKeys(configKeys))
			continue
		}
		var problem string
		switch kind {
		case "bool":
			_, ok = v.(bool)
		case "int":
			_, ok = v.(int64)
		case "duration":
			var s string
			if s, ok = v.(string); ok {
				if _, err := time.ParseDuration(s); err != nil {
					problem = err.Error()
				}
			}
		case "account":
			var s string
			if s, ok = v.(string); ok && !accountRE.MatchString(s) {
				problem = "want 12 digits"
			}
		case "path":
			var s string
			if s, ok = v.(string); ok && !strings.HasPrefix(s, "/") {
				problem = "want an absolute path: the example is installed where relative paths would mean something else"
			}
		default:
			_, ok = v.(string)
		}
		if !ok {
			problem = fmt.Sprintf("%v is a %T, want a %s", v, v, kind)
		}
		if problem != "" {
			t.Errorf("deploy/ecrd.toml: %s: %s", key, problem)
		}
	}
	// A server listens beyond loopback, where ecrd refuses the default key.
	setting(t, "credentials")
	if !strings.HasPrefix(setting(t, "listen"), "0.0.0.0:") {
		t.Errorf("deploy/ecrd.toml: want listen on 0.0.0.0 (with credentials)")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// credentialsFile is the --credentials format (internal/auth), decoded as
// strictly as ecrd decodes it.
type credentialsFile struct {
	Credentials []struct {
		AccountID       string `json:"accountId"`
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		ReadOnly        bool   `json:"readOnly"`
	} `json:"credentials"`
}

// checkCredentials applies the rules ecrd applies to a credentials file.
func checkCredentials(t *testing.T, name string, data []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f credentialsFile
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: not a credentials file: %v", name, err)
	}
	if len(f.Credentials) == 0 {
		t.Errorf("%s: lists no credentials", name)
	}
	seen := map[string]bool{}
	for i, c := range f.Credentials {
		if !accountRE.MatchString(c.AccountID) || !accessKeyRE.MatchString(c.AccessKeyID) || c.SecretAccessKey == "" || seen[c.AccessKeyID] {
			t.Errorf("%s: credentials[%d] (%s): want a 12-digit accountId, a unique alphanumeric accessKeyId and a secret", name, i, c.AccessKeyID)
		}
		seen[c.AccessKeyID] = true
	}
}

func TestCredentialsExample(t *testing.T) {
	checkCredentials(t, "deploy/credentials.example.json", readFile(t, "deploy/credentials.example.json"))
}
