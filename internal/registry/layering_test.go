package registry_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering keeps the layers honest (STYLE.md): the core, and the
// capabilities beside it, import no store, protocol, HTTP, SQL or SDK
// package, and the front ends import no store.
func TestLayering(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string
	}{
		{"github.com/ecrd/ecrd/internal/registry", []string{
			"net/http", "database/sql", "github.com/aws/", "modernc.org/",
			"github.com/ecrd/ecrd/internal/api", "github.com/ecrd/ecrd/internal/metastore",
			"github.com/ecrd/ecrd/internal/blobstore", "github.com/ecrd/ecrd/internal/app",
		}},
		{"github.com/ecrd/ecrd/internal/api/...", []string{
			"database/sql", "modernc.org/",
			"github.com/ecrd/ecrd/internal/metastore", "github.com/ecrd/ecrd/internal/blobstore",
			"github.com/ecrd/ecrd/internal/app",
		}},
		{"github.com/ecrd/ecrd/internal/lifecycle", []string{
			"net/http", "database/sql", "github.com/aws/", "modernc.org/",
			"github.com/ecrd/ecrd/internal/api", "github.com/ecrd/ecrd/internal/metastore",
			"github.com/ecrd/ecrd/internal/blobstore", "github.com/ecrd/ecrd/internal/app",
		}},
		// The policy language depends on nothing of ecrd's.
		{"github.com/ecrd/ecrd/internal/iam", []string{
			"github.com/ecrd/ecrd/internal/registry", "github.com/ecrd/ecrd/internal/api", "github.com/ecrd/ecrd/internal/app",
			"github.com/ecrd/ecrd/internal/metastore", "github.com/ecrd/ecrd/internal/blobstore", "github.com/ecrd/ecrd/internal/lifecycle",
		}},
		{"github.com/ecrd/ecrd/internal/metastore/...", []string{"net/http", "github.com/ecrd/ecrd/internal/api"}},
		{"github.com/ecrd/ecrd/internal/blobstore/...", []string{"github.com/ecrd/ecrd/internal/api", "github.com/ecrd/ecrd/internal/metastore"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range r.forbidden {
				if dep == bad || strings.HasPrefix(dep, strings.TrimSuffix(bad, "/")+"/") || strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad) {
					t.Errorf("%s depends on %s", r.pkg, dep)
				}
			}
		}
	}
}
