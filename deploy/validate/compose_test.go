package validate

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads deploy/compose.yaml as `docker compose` does: checked
// against the Compose specification's JSON schema (compose-go embeds it),
// interpolated with env, and checked for references to undefined volumes,
// configs and secrets.
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "compose.yaml")}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("ecrd", true) })
}

func TestCompose(t *testing.T) {
	p, err := loadCompose(t, map[string]string{"ECRD_CREDENTIALS_FILE": "./credentials.example.json"})
	if err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	s, ok := p.Services["ecrd"]
	if !ok || len(p.Services) != 1 {
		t.Fatalf("services %v, want the one ecrd", p.ServiceNames())
	}
	if s.Build == nil || s.Build.Dockerfile != "Dockerfile" || s.Build.Context != filepath.Dir(p.WorkingDir) {
		t.Errorf("build %+v, want the repository's Dockerfile", s.Build)
	}
	var published []string
	for _, port := range s.Ports {
		published = append(published, fmt.Sprintf("%s:%d", port.Published, port.Target))
	}
	if !reflect.DeepEqual(published, []string{"5000:5000", "5001:5001"}) {
		t.Errorf("ports %v, want 5000:5000 and 5001:5001", published)
	}

	// The files ecrd reads are where the config file says.
	config := s.Environment["ECRD_CONFIG"]
	if config == nil || len(s.Configs) != 1 || s.Configs[0].Target != *config {
		t.Errorf("want ECRD_CONFIG naming the one config's target, got %v and %+v", config, s.Configs)
	} else if f := p.Configs[s.Configs[0].Source].File; filepath.Base(f) != "ecrd.toml" || filepath.Dir(f) != p.WorkingDir {
		t.Errorf("the config is %s, want deploy/ecrd.toml", f)
	}
	if len(s.Secrets) != 1 || s.Secrets[0].Target != setting(t, "credentials") {
		t.Errorf("secrets %+v, want one at %s (ecrd.toml's credentials)", s.Secrets, setting(t, "credentials"))
	}
	if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Target == setting(t, "data-dir")
	}) {
		t.Errorf("volumes %+v, want a named volume at data-dir %s", s.Volumes, setting(t, "data-dir"))
	}

	// The health check is the image's.
	if s.HealthCheck == nil || !reflect.DeepEqual([]string(s.HealthCheck.Test), []string{"CMD", "/usr/local/bin/ecrd", "health"}) {
		t.Errorf("healthcheck %+v, want the image's: ecrd health", s.HealthCheck)
	}
	if !s.ReadOnly || !slices.ContainsFunc(s.CapDrop, func(c string) bool { return c == "ALL" }) {
		t.Errorf("want read_only and cap_drop ALL: ecrd writes only to its volume")
	}
}

// Without a credentials file compose refuses to start, rather than start
// ecrd with the example keys or none.
func TestComposeNeedsCredentials(t *testing.T) {
	_, err := loadCompose(t, map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "ECRD_CREDENTIALS_FILE") {
		t.Fatalf("err %v, want one naming ECRD_CREDENTIALS_FILE", err)
	}
}
