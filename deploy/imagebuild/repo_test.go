package main

// Checks that keep the Dockerfile, scripts/build-image.sh and .dockerignore
// in agreement with each other and with the module they build.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	goBuildRE = regexp.MustCompile(`CGO_ENABLED=0 [^\n]*? \./cmd/ecrd`)
	outputRE  = regexp.MustCompile(` -o \S+`)
)

// scripts/build-image.sh runs the Dockerfile's build stage itself: its go
// build must be the Dockerfile's, but for where the binary goes.
func TestGoBuildMatchesScript(t *testing.T) {
	var lines []string
	for _, name := range []string{"Dockerfile", "scripts/build-image.sh"} {
		found := goBuildRE.FindAllString(readRepoFile(t, name), -1)
		if len(found) != 1 {
			t.Fatalf("%s: %d `CGO_ENABLED=0 … ./cmd/ecrd` lines, want 1", name, len(found))
		}
		lines = append(lines, outputRE.ReplaceAllString(found[0], ""))
	}
	if lines[0] != lines[1] {
		t.Errorf("the Dockerfile builds with\n  %s\nscripts/build-image.sh with\n  %s", lines[0], lines[1])
	}
	for _, want := range []string{"-trimpath", "-buildvcs=false", "-X "} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the go build line lacks %s", want)
		}
	}
	// The linker ignores -X for a variable that does not exist: make sure
	// the version lands somewhere.
	for _, m := range linkVarRE.FindAllStringSubmatch(lines[0], -1) {
		if !declaresStringVar(t, m[1], m[2]) {
			t.Errorf("-X %s.%s: package %s declares no string variable %s", m[1], m[2], m[1], m[2])
		}
	}
}

var linkVarRE = regexp.MustCompile(`-X (github\.com/ecrd/ecrd/[a-z/]+)\.([A-Za-z_]+)=`)

func declaresStringVar(t *testing.T, pkg, name string) bool {
	t.Helper()
	dir := "../../" + strings.TrimPrefix(pkg, "github.com/ecrd/ecrd/")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s (%v)", dir, err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "string" {
					continue
				}
				for _, n := range vs.Names {
					if n.Name == name {
						return true
					}
				}
			}
		}
	}
	return false
}

// The build stage's Go must be able to build the module.
func TestDockerfileGoVersion(t *testing.T) {
	tag := regexp.MustCompile(`(?m)^FROM .*golang:([0-9.]+)`).FindStringSubmatch(readRepoFile(t, "Dockerfile"))
	mod := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if tag == nil || mod == nil {
		t.Fatal("no golang:X image in the Dockerfile or no go line in go.mod")
	}
	if compareVersions(tag[1], mod[1]) < 0 {
		t.Errorf("the Dockerfile builds with golang:%s, older than go.mod's go %s", tag[1], mod[1])
	}
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// ignorePattern is one line of .dockerignore.
type ignorePattern struct {
	re     *regexp.Regexp
	negate bool
}

// parseDockerignore reads the .dockerignore forms this repository uses,
// with the meaning BuildKit gives them (moby/patternmatcher): a pattern
// matches a path or any of its parents, the last matching line wins, * and ?
// stay within a path element, ** spans elements.
func parseDockerignore(t *testing.T, text string) []ignorePattern {
	t.Helper()
	var out []ignorePattern
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := ignorePattern{}
		line, p.negate = strings.CutPrefix(line, "!")
		line = path.Clean(strings.TrimPrefix(line, "/"))
		if strings.ContainsAny(line, `[\`) {
			t.Fatalf(".dockerignore: %q uses syntax this test does not interpret", line)
		}
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case line[i] == '*':
				re.WriteString("[^/]*")
			case line[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(line[i : i+1]))
			}
		}
		re.WriteString("$")
		p.re = regexp.MustCompile(re.String())
		out = append(out, p)
	}
	return out
}

func ignored(patterns []ignorePattern, file string) bool {
	excluded := false
	for _, p := range patterns {
		for f := file; f != "."; f = path.Dir(f) {
			if p.re.MatchString(f) {
				excluded = !p.negate
				break
			}
		}
	}
	return excluded
}

// The build context must hold every file `go build ./cmd/ecrd` reads (the
// module files, each package's Go and embedded files) and none of what
// would only make it large or leak: git history, tools, data, test binaries.
func TestDockerignoreKeepsWhatTheBuildNeeds(t *testing.T) {
	patterns := parseDockerignore(t, readRepoFile(t, ".dockerignore"))
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "github.com/ecrd/ecrd"}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}{{end}}`,
		"./cmd/ecrd")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root = path.Dir(path.Dir(root))
	need := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		dir := strings.TrimPrefix(strings.TrimPrefix(fields[0], root), "/")
		for _, f := range fields[1:] {
			need = append(need, path.Join(dir, f))
		}
	}
	if len(need) < 10 {
		t.Fatalf("go list found only %q", need)
	}
	for _, f := range need {
		if ignored(patterns, f) {
			t.Errorf(".dockerignore leaves out %s, which the build reads", f)
		}
	}
	for _, f := range []string{".git/HEAD", ".tools/bin/crane", "ecrd-data/metadata.db", "registry.test",
		"internal/registry/digest_test.go", "internal/api/oci/testdata/x", "e2e/cli/lib.sh", "deploy/ecrd.toml", "README.md"} {
		if !ignored(patterns, f) {
			t.Errorf(".dockerignore lets %s into the build context", f)
		}
	}
}
