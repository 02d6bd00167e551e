package registry

import "testing"

// TestScanFilterMatches: ECR's WILDCARD filters (ecr-semantics-2.md §5.3).
func TestScanFilterMatches(t *testing.T) {
	for _, c := range []struct {
		filter, name string
		want         bool
	}{
		{"prod", "repo-prod-repo", true}, {"prod", "prodrepo", true}, {"prod", "dev", false},
		{"prod*", "prod", true}, {"prod*", "prod-repo", true}, {"prod*", "prodrepo", true}, {"prod*", "repo-prod", false},
		{"*prod", "prod", true}, {"*prod", "repo-prod", true}, {"*prod", "prod-repo", false},
		{"prod*repo", "prod-repo", true}, {"prod*repo", "prodrepo", true}, {"prod*repo", "prod-repo-x", false},
		{"*", "a/b", true}, {"team/*/api", "team/x/y/api", true}, {"a*b*c", "abc", true}, {"a*b*c", "acb", false},
	} {
		if got := ScanFilterMatches(c.filter, RepositoryName(c.name)); got != c.want {
			t.Errorf("ScanFilterMatches(%q, %q) = %v, want %v", c.filter, c.name, got, c.want)
		}
	}
}
