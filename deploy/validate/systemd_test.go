package validate

import (
	"bufio"
	"bytes"
	"path"
	"strings"
	"testing"
)

// unit is a systemd unit file: section -> key -> values, in order.
type unit map[string]map[string][]string

// parseUnit reads the unit file syntax (sections, Key=Value, comments,
// backslash continuations); it refuses anything else.
func parseUnit(t *testing.T, name string, data []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	var cont string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cont != "" {
			line, cont = cont+" "+line, ""
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			cont = body
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: %q is neither a [Section] nor a Key=Value in one", name, n, line)
		}
		k = strings.TrimSpace(k)
		u[section][k] = append(u[section][k], strings.TrimSpace(v))
	}
	return u
}

// one returns the value of a key given once.
func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	vs := u[section][key]
	if len(vs) != 1 {
		t.Errorf("[%s] %s is given %d times, want once", section, key, len(vs))
		return ""
	}
	return vs[0]
}

func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "ecrd.service", readFile(t, "deploy/systemd/ecrd.service"))
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Errorf("no [%s] section", s)
		}
	}
	for key, want := range map[string]string{
		"ExecStart":       "/usr/local/bin/ecrd serve --config /etc/ecrd/ecrd.toml",
		"ExecReload":      "/bin/kill -HUP $MAINPID", // ecrd reloads its TLS certificate on SIGHUP
		"Restart":         "on-failure",
		"ProtectSystem":   "strict",
		"NoNewPrivileges": "yes",
	} {
		if got := u.one(t, "Service", key); got != want {
			t.Errorf("[Service] %s=%s, want %s", key, got, want)
		}
	}
	// The state directory is the config file's data dir: with
	// ProtectSystem=strict it is the one place ecrd may write.
	if got, want := "/var/lib/"+u.one(t, "Service", "StateDirectory"), setting(t, "data-dir"); got != want {
		t.Errorf("StateDirectory makes %s, but ecrd.toml's data-dir is %s", got, want)
	}
	// The credentials file is beside the config, readable by the service's
	// group, as the unit's install steps put it.
	if dir := path.Dir(setting(t, "credentials")); dir != "/etc/ecrd" {
		t.Errorf("ecrd.toml's credentials are in %s, not /etc/ecrd where the unit's instructions install them", dir)
	}
	user := u.one(t, "Service", "User")
	if user == "" || user == "root" {
		t.Errorf("User=%q: want a dedicated user", user)
	}
	var created []string
	for _, line := range strings.Split(string(readFile(t, "deploy/systemd/ecrd.sysusers")), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "u" {
			created = append(created, f[1])
		}
	}
	if len(created) != 1 || created[0] != user {
		t.Errorf("ecrd.sysusers creates users %q, want the unit's User %s", created, user)
	}
	if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%s", got)
	}
}
