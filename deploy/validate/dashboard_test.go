package validate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query any    `json:"query"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Datasource *datasource `json:"datasource"`
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
	} `json:"targets"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// ecrdMetrics are the metrics the dashboard must chart: the ones ecrd's
// metrics package registers (read from its source, so that a new metric
// without a panel fails here), and at least those named when the
// dashboard was made.
func ecrdMetrics(t *testing.T) []string {
	t.Helper()
	names := []string{
		"ecrd_requests_total", "ecrd_request_duration_seconds", "ecrd_received_bytes_total", "ecrd_sent_bytes_total",
		"ecrd_uploads_in_flight", "ecrd_auth_refusals_total", "ecrd_storage_errors_total", "ecrd_gc_runs_total",
		"ecrd_gc_reclaimed_bytes_total", "ecrd_gc_removed_blobs_total", "ecrd_gc_removed_layers_total", "ecrd_build_info",
	}
	files, err := filepath.Glob("../../internal/metrics/*.go")
	if err != nil {
		t.Fatal(err)
	}
	nameRE := regexp.MustCompile(`Name:\s*"(ecrd_[a-z_]+)"`)
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range nameRE.FindAllSubmatch(src, -1) {
			found++
			if n := string(m[1]); !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if found == 0 {
		t.Fatal("found no metric names in internal/metrics: has the package moved?")
	}
	return names
}

func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("../grafana/ecrd-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatal("ecrd-dashboard.json is not valid JSON")
	}
	var d dashboard
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q uid %q", d.Title, d.UID)
	}
	// A datasource variable, so that the dashboard imports into any
	// Grafana whatever its Prometheus is called.
	if !slices.ContainsFunc(d.Templating.List, func(v variable) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	}) {
		t.Errorf("no datasource variable of type prometheus")
	}

	var exprs []string
	ids := map[int]bool{}
	type cell struct{ x, y int }
	used := map[cell]string{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is off the 24-column grid", p.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := used[cell{x, y}]; ok {
					t.Fatalf("panels %q and %q overlap", other, p.Title)
				}
				used[cell{x, y}] = p.Title
			}
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		sources := []*datasource{p.Datasource}
		for _, tg := range p.Targets {
			sources = append(sources, tg.Datasource)
		}
		for _, ds := range sources {
			if ds == nil || ds.UID != "${datasource}" {
				t.Errorf("panel %q: a datasource is %+v, want the ${datasource} variable", p.Title, ds)
			}
		}
		for _, tg := range p.Targets {
			if !balanced(tg.Expr) {
				t.Errorf("panel %q: unbalanced brackets or quotes in %s", p.Title, tg.Expr)
			}
			exprs = append(exprs, tg.Expr)
		}
	}

	// A panel per metric, and no query of a metric that does not exist.
	metrics := ecrdMetrics(t)
	for _, m := range metrics {
		re := regexp.MustCompile(`\b` + m + `(_bucket|_sum|_count)?\b`)
		if !slices.ContainsFunc(exprs, re.MatchString) {
			t.Errorf("no panel charts %s", m)
		}
	}
	for _, e := range exprs {
		for _, name := range regexp.MustCompile(`\becrd_[a-z_]+`).FindAllString(e, -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if !slices.Contains(metrics, name) && !slices.Contains(metrics, base) {
				t.Errorf("%s queries %s, which ecrd does not export", e, name)
			}
		}
	}
	for _, m := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if !slices.ContainsFunc(exprs, func(e string) bool { return strings.Contains(e, m) }) {
			t.Errorf("no panel charts Go's %s", m)
		}
	}
}

// balanced checks the brackets and quotes of a PromQL expression.
func balanced(expr string) bool {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inQuote := false
	for _, r := range expr {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return !inQuote && len(stack) == 0
}
