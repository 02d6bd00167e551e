package config_test

import (
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/config"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"128MiB", 128 << 20, true}, {"1GiB", 1 << 30, true}, {"64KiB", 64 << 10, true},
		{"500MB", 500e6, true}, {"1048576", 1 << 20, true}, {" 2 MiB ", 2 << 20, true}, {"7B", 7, true},
		{"", 0, false}, {"-1MiB", 0, false}, {"1.5GiB", 0, false}, {"12XB", 0, false},
		{"99999999999GiB", 0, false}, {"MiB", 0, false},
	} {
		got, err := config.ParseSize(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (ok %v)", c.in, got, err, c.want, c.ok)
		}
	}
	if got := config.FormatSize(128 << 20); got != "128MiB" {
		t.Errorf("FormatSize(128 MiB) = %q", got)
	}
}

func TestBodiesFlags(t *testing.T) {
	env := map[string]string{"ECRD_PENDING_BODIES": "1GiB", "HOME": t.TempDir()}
	cfg, err := config.Load("serve", []string{"--body-memory", "256MiB", "--body-wait", "3s"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bodies.Memory != 256<<20 || cfg.Bodies.Pending != 1<<30 || cfg.Bodies.Wait.Seconds() != 3 {
		t.Fatalf("bodies %+v", cfg.Bodies)
	}
	_, err = config.Load("serve", []string{"--body-memory", "1MiB", "--pending-bodies", "lots"}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "lots") {
		t.Fatalf("bad sizes: %v", err)
	}
	_, err = config.Load("serve", []string{"--body-memory", "1MiB"}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "--body-memory 1MiB") {
		t.Fatalf("too small a budget: %v", err)
	}
}
