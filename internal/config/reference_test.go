package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// readme returns the repository's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConfigReference: the README's config file block lists every setting
// with its default, and its flags table names every flag and variable, so
// that the documentation cannot fall behind the table of settings.
func TestConfigReference(t *testing.T) {
	doc := readme(t)
	m := regexp.MustCompile("(?s)### Config file\n.*?```toml\n(.*?)```").FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("README has no ```toml block under ### Config file")
	}
	var keys map[string]any
	if _, err := toml.Decode(m[1], &keys); err != nil {
		t.Fatalf("README's config block: %v", err)
	}
	d := Default()
	for _, s := range settings {
		if s.name == configSetting {
			continue
		}
		v, ok := keys[s.name]
		if !ok {
			t.Errorf("README's config block lacks %s", s.name)
			continue
		}
		delete(keys, s.name)
		text, err := fileValue(s, v)
		if err != nil {
			t.Errorf("README's config block: %s: %v", s.name, err)
			continue
		}
		got := Default()
		if err := s.set(&got, text); err != nil {
			t.Errorf("README's config block: %s: %v", s.name, err)
		} else if s.name != "data-dir" && s.format(&got) != s.format(&d) {
			t.Errorf("README's config block: %s = %q, but the default is %q", s.name, text, s.format(&d))
		}
		if s.cmds&cmdServe != 0 && !strings.Contains(doc, "  --"+s.name+" ") && !strings.Contains(doc, "  --"+s.name+"\n") {
			t.Errorf("README's flags do not list --%s", s.name)
		}
		if s.cmds&cmdServe != 0 && !strings.Contains(doc, s.env) {
			t.Errorf("README does not name %s", s.env)
		}
	}
	for k := range keys {
		t.Errorf("README's config block has %s, which is no setting", k)
	}
}

// TestDeployConfig: the config file deploy/ uses loads as it stands.
func TestDeployConfig(t *testing.T) {
	file, err := filepath.Abs("../../deploy/ecrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := toml.DecodeFile(file, &m); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.origins = map[string]string{}
	if errs := c.applyFile(file, "--config", cmdAll); len(errs) > 0 {
		t.Fatalf("deploy/ecrd.toml: %v", errs)
	}
	if err := c.Validate(); err != nil && !strings.Contains(err.Error(), "tls") {
		t.Fatalf("deploy/ecrd.toml: %v", err)
	}
}
