package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
	"github.com/jackc/pgx/v5"
)

// planExceptions are the statements allowed to read a whole table, or all
// of a repository's records, each with the reason. Nothing a request runs
// belongs here. Garbage collection does not either: its sweeps visit
// every record, but a page at a time from a cursor, each page an index
// range of its own size.
var planExceptions = map[string]string{
	"DELETE FROM repositories WHERE":                                   "deleting a repository deletes every record of it",
	"SELECT count(*) FROM images WHERE":                                "CountImages is for tests and tools; no request calls it",
	"SELECT count(*) FROM layers WHERE":                                "CountLayers is for tests and tools; no request calls it",
	"SELECT EXISTS (SELECT 1 FROM layers WHERE":                        "RepositoryEmpty's EXISTS reads the first record of the repository only",
	"SELECT id FROM uploads WHERE registry_id = $1 AND repo_name = $2": "RepositoryUploads returns every upload of the repository: what it reads is its answer",
}

// repositoryTables are the tables whose records of one repository grow
// with it: a search that only the repository bounds reads all of them.
var repositoryTables = map[string]bool{
	"images": true, "image_blobs": true, "image_children": true, "tags": true, "layers": true, "uploads": true,
}

// registryTables grow with the whole registry but belong to no
// repository: reading one whole is as bad, and there is no repository to
// bound a search by.
var registryTables = map[string]bool{"blobs": true}

// TestQueryPlans asks PostgreSQL for the plan of every statement the
// store runs and fails on a plan that reads a table that grows with the
// registry whole (Seq Scan), searches one only by the repository (an index
// condition on registry_id and repo_name alone), or sorts (a Sort node):
// each makes the statement's cost grow with the data instead of with its
// answer. The statements are those the shared contract suite makes the
// store run, which calls every Tx method in every form; a new query is
// seen as soon as its contract test exists.
//
// PostgreSQL's planner rightly reads a small table whole, or sorts a few
// rows, when that is cheaper, and a test database is small. So the plans
// are asked with sequential scans and sorts priced out (enable_seqscan and
// enable_sort off), of a database grown as real ones are and analyzed: a
// scan or sort that remains is one no index can spare, which is what the
// schema must rule out. They are generic plans (plan_cache_mode
// force_generic_plan), which hold for any argument: the plans pgx's
// prepared statements run once PostgreSQL settles on one. The cascades of
// the foreign keys run as statements of their own, on the columns the
// keys name: the schema gives each an index.
func TestQueryPlans(t *testing.T) {
	serverDSN(t)
	var (
		mu         sync.Mutex
		statements = map[string]bool{}
	)
	record := func(query string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		statements[query] = true
	}
	t.Run("Contract", func(t *testing.T) {
		registrytest.MetaStore(t, func(t *testing.T) registry.MetaStore {
			s, _ := openFresh(t, Options{})
			s.trace = record
			return s
		})
	})
	if len(statements) < 50 {
		t.Fatalf("the contract suite ran %d distinct statements; is the trace wired?", len(statements))
	}

	s, _ := openFresh(t, Options{})
	key := registry.RepoKey{Registry: "111111111111", Name: "grown/app"}
	registrytest.Grow(t, s, key, 100)
	registrytest.Grow(t, s, registry.RepoKey{Registry: key.Registry, Name: "grown/other"}, 1500)
	conn := planConn(t, s)
	for _, q := range slices.Sorted(maps.Keys(statements)) {
		plan, bad := explain(t, conn, q)
		if bad != "" {
			t.Errorf("statement\n\t%s\nhas a plan that grows with the data (%s):\n%s", oneLine(q), bad, plan)
		} else {
			t.Logf("%s\n%s", oneLine(q), plan)
		}
	}
}

// planConn returns a connection of s, released when the test ends, whose
// plans are generic and avoid sequential scans and sorts wherever an
// index allows, after the statistics are brought up to date.
func planConn(t *testing.T, s *Store) *pgx.Conn {
	t.Helper()
	conn, err := s.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "RESET ALL")
		conn.Release()
	})
	for _, set := range []string{"ANALYZE", "SET plan_cache_mode = force_generic_plan",
		"SET enable_seqscan = off", "SET enable_sort = off"} {
		if _, err := conn.Exec(t.Context(), set); err != nil {
			t.Fatalf("%s: %v", set, err)
		}
	}
	return conn.Conn()
}

// TestExplainCatches proves the plan check fails what it must: a whole
// table read, a search only the repository bounds, and a sort.
func TestExplainCatches(t *testing.T) {
	s, _ := openFresh(t, Options{})
	conn := planConn(t, s)
	for q, want := range map[string]string{
		`SELECT tag FROM tags WHERE created_at = $1`:                                                               "reads tags whole",
		`SELECT tag FROM tags WHERE registry_id = $1 AND repo_name = $2 AND created_at = $3`:                       "searches tags by the repository alone",
		`SELECT tag FROM tags WHERE registry_id = $1 AND repo_name = $2 AND tag > $3 ORDER BY created_at LIMIT 10`: "sorts",
	} {
		if plan, bad := explain(t, conn, q); bad != want {
			t.Errorf("explain(%s) = %q, want %q:\n%s", q, bad, want, plan)
		}
	}
	q := `SELECT digest FROM tags WHERE registry_id = $1 AND repo_name = $2 AND tag = $3`
	if plan, bad := explain(t, conn, q); bad != "" {
		t.Errorf("explain failed a primary-key lookup (%s):\n%s", bad, plan)
	}
}

// planNode is the part of a node of EXPLAIN (FORMAT JSON) the test reads.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	IndexCond    string     `json:"Index Cond"`
	Plans        []planNode `json:"Plans"`
}

// explain returns the generic plan of query, indented, and what is wrong
// with it ("" for nothing, or for a planException).
func explain(t *testing.T, conn *pgx.Conn, query string) (string, string) {
	t.Helper()
	excepted := false
	for prefix := range planExceptions {
		excepted = excepted || strings.HasPrefix(oneLine(query), prefix)
	}
	if _, err := conn.Exec(t.Context(), "PREPARE plan_test AS "+query); err != nil {
		t.Errorf("PREPARE %s: %v", oneLine(query), err)
		return "", ""
	}
	defer conn.Exec(t.Context(), "DEALLOCATE plan_test")
	// A generic plan is the same whatever the arguments: NULL will do.
	nulls := make([]string, maxParam(query))
	for i := range nulls {
		nulls[i] = "NULL"
	}
	var out []byte
	if err := conn.QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) EXECUTE plan_test("+strings.Join(nulls, ", ")+")").Scan(&out); err != nil {
		t.Errorf("EXPLAIN %s: %v", oneLine(query), err)
		return "", ""
	}
	var doc []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc) != 1 {
		t.Fatalf("EXPLAIN %s: %v", oneLine(query), err)
	}
	var (
		plan strings.Builder
		bad  string
		walk func(n planNode, depth int)
	)
	walk = func(n planNode, depth int) {
		fmt.Fprintf(&plan, "\t\t%s%s %s %s %s\n", strings.Repeat("  ", depth), n.NodeType, n.RelationName, n.IndexName, n.IndexCond)
		switch {
		case n.NodeType == "Seq Scan" && (repositoryTables[n.RelationName] || registryTables[n.RelationName]):
			bad = "reads " + n.RelationName + " whole"
		case n.NodeType == "Sort":
			bad = "sorts"
		case repositoryTables[n.RelationName] && n.IndexCond != "" && repositoryWide(n.IndexCond):
			bad = "searches " + n.RelationName + " by the repository alone"
		}
		for _, c := range n.Plans {
			walk(c, depth+1)
		}
	}
	walk(doc[0].Plan, 0)
	if excepted {
		bad = ""
	}
	return plan.String(), bad
}

// repositoryWide reports whether an index condition bounds the search by
// the registry and repository and nothing else.
func repositoryWide(cond string) bool {
	rest := cond
	for _, col := range []string{"registry_id", "repo_name"} {
		rest = strings.ReplaceAll(rest, col, "")
	}
	return strings.Contains(cond, "registry_id") && strings.Contains(cond, "repo_name") &&
		!strings.ContainsAny(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r == '_' {
				return r
			}
			return ' '
		}, stripLiterals(rest)), "abcdefghijklmnopqrstuvwxyz")
}

// stripLiterals removes the '...' literals of an index condition, whose
// words are values, not columns, and the casts PostgreSQL writes.
func stripLiterals(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		if r == '\'' {
			in = !in
			continue
		}
		if !in {
			b.WriteRune(r)
		}
	}
	out := b.String()
	for _, cast := range []string{"::text", "::bpchar", "text", "bpchar"} {
		out = strings.ReplaceAll(out, cast, "")
	}
	return out
}

// maxParam returns the highest $n in query.
func maxParam(query string) int {
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if v, err := strconv.Atoi(query[i+1 : j]); err == nil {
			n = max(n, v)
		}
	}
	return n
}

// oneLine folds a statement's whitespace, for messages and prefixes.
func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }
