package pullthrough

import (
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestMatchRule: a repository is the cache of the rule with the longest
// prefix it is under (an implied '/'), ROOT last, and mirrors the
// upstream repository without the prefix, under the upstream prefix
// (ecr-semantics-2.md §2.3's mapping).
func TestMatchRule(t *testing.T) {
	rules := []registry.PullThroughRule{
		{Prefix: "ROOT", UpstreamPrefix: "ROOT"},
		{Prefix: "ecr-public", UpstreamPrefix: "ROOT"},
		{Prefix: "team-a", UpstreamPrefix: "team-a"},
		{Prefix: "my-app", UpstreamPrefix: "upstream-app"},
		{Prefix: "my-app/deep/", UpstreamPrefix: "ROOT"},
	}
	for _, c := range []struct{ name, rule, upstream string }{
		{"ecr-public/my-app/image1", "ecr-public", "my-app/image1"},
		{"my-app/image1", "my-app", "upstream-app/image1"},
		{"team-a/myapp/image1", "team-a", "team-a/myapp/image1"},
		{"my-app/deep/x", "my-app/deep/", "x"},
		{"ecr-publicity/x", "ROOT", "ecr-publicity/x"},
		{"other/image1", "ROOT", "other/image1"},
	} {
		r, ok := matchRule(rules, registry.RepositoryName(c.name))
		if !ok || r.Prefix != c.rule {
			t.Errorf("matchRule(%s) = %q, %v; want %q", c.name, r.Prefix, ok, c.rule)
			continue
		}
		if got := upstreamName(r, registry.RepositoryName(c.name)); got != c.upstream {
			t.Errorf("upstreamName(%s) = %q, want %q", c.name, got, c.upstream)
		}
	}
	if _, ok := matchRule(rules[1:], "other/x"); ok {
		t.Error("a name outside every prefix matched without ROOT")
	}
}

func TestParseChallenge(t *testing.T) {
	scheme, p := parseChallenge(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull"`)
	if scheme != "Bearer" || p["realm"] != "https://auth.docker.io/token" || p["service"] != "registry.docker.io" || p["scope"] != "repository:library/a:pull" {
		t.Errorf("bearer: %q %v", scheme, p)
	}
	if scheme, p := parseChallenge(`Basic realm="upstream"`); scheme != "Basic" || p["realm"] != "upstream" {
		t.Errorf("basic: %q %v", scheme, p)
	}
}

func TestParseUpstreams(t *testing.T) {
	us, err := ParseUpstreams("registry-1.docker.io=http://127.0.0.1:5001, quay.io=https://mirror:8443/")
	if err != nil || us.base("registry-1.docker.io").String() != "http://127.0.0.1:5001" || us.base("quay.io").String() != "https://mirror:8443" ||
		us.base("ghcr.io").String() != "https://ghcr.io" {
		t.Errorf("ParseUpstreams: %v, %v", us, err)
	}
	for _, bad := range []string{"quay.io", "=http://x", "quay.io=ftp://x", "quay.io=http://x/path"} {
		if _, err := ParseUpstreams(bad); err == nil {
			t.Errorf("ParseUpstreams(%q) took it", bad)
		}
	}
}
