package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// planExceptions are the statements allowed to read a whole table, each
// with the reason. Nothing a request runs belongs here. Garbage
// collection does not either: its sweeps visit every record, but a page
// at a time from a cursor, each page an index range of its own size.
var planExceptions = map[string]string{
	"DELETE FROM repositories WHERE":                                                           "deleting a repository deletes every record of it",
	"DELETE FROM tags WHERE registry_id = ?1 AND repo_name = ?2":                               "deleting a repository deletes every tag of it",
	"SELECT count(*) FROM images WHERE":                                                        "CountImages is for tests and tools; no request calls it",
	"SELECT count(*) FROM layers WHERE":                                                        "CountLayers is for tests and tools; no request calls it",
	"SELECT EXISTS (SELECT 1 FROM layers WHERE registry_id = ?1 AND repo_name = ?2) OR EXISTS": "RepositoryEmpty's EXISTS reads the first record of the repository only",
}

// repositoryTables are the tables (and the aliases the store's statements
// give them) whose records of one repository grow with it: a search that
// only the repository bounds reads all of them.
var repositoryTables = map[string]bool{
	"images": true, "i": true, "image_blobs": true, "b": true, "image_children": true,
	"tags": true, "t": true, "layers": true, "l": true,
}

// TestQueryPlans asks SQLite for the plan of every statement the store
// runs and fails on a plan that reads a table whole (SCAN), reads all of a
// repository's records of a table that grows with it (a search bounded by
// the repository alone), or sorts what a query selects (a temporary
// b-tree): each makes the statement's cost grow with the data instead of
// with its answer. Foreign-key cascades are part of a statement's plan. The statements are
// those the shared contract suite makes the store run, which calls every
// Tx method in every form (each ImageQuery combination among them); a new
// query is seen as soon as its contract test exists. The plans are asked
// of a repository grown as real ones are, under three states of the
// planner's statistics: none, stale (taken when the repository was small)
// and current; the planner must choose well under each.
func TestQueryPlans(t *testing.T) {
	var (
		mu         sync.Mutex
		statements = map[string][]any{}
	)
	record := func(query string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := statements[query]; !ok {
			statements[query] = slices.Clone(args)
		}
	}
	t.Run("Contract", func(t *testing.T) {
		registrytest.MetaStore(t, func(t *testing.T) registry.MetaStore {
			s := openTemp(t, filepath.Join(t.TempDir(), "meta.db"))
			s.trace = record
			return s
		})
	})
	if len(statements) < 50 {
		t.Fatalf("the contract suite ran %d distinct statements; is the trace wired?", len(statements))
	}

	path := filepath.Join(t.TempDir(), "grown.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	key := registry.RepoKey{Registry: "111111111111", Name: "grown/app"}
	registrytest.Grow(t, s, key, 100)
	raw := rawDB(t, path)
	if _, err := raw.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	registrytest.Grow(t, s, registry.RepoKey{Registry: key.Registry, Name: "grown/other"}, 1500)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	queries := slices.Sorted(func(yield func(string) bool) {
		for q := range statements {
			if !yield(q) {
				return
			}
		}
	})
	for _, stats := range []struct {
		name, prepare string
	}{
		{"StaleStatistics", ""},
		{"CurrentStatistics", "ANALYZE"},
		{"NoStatistics", "DELETE FROM sqlite_stat1"},
	} {
		t.Run(stats.name, func(t *testing.T) {
			if stats.prepare != "" {
				if _, err := rawDB(t, path).Exec(stats.prepare); err != nil {
					t.Fatal(err)
				}
			}
			// A connection opened now reads the statistics as they are.
			db := rawDB(t, path)
			for _, q := range queries {
				plan, bad := explain(t, db, q, statements[q])
				if bad {
					t.Errorf("statement\n\t%s\nhas a plan that grows with the data:\n%s", oneLine(q), plan)
				} else {
					t.Logf("%s\n%s", oneLine(q), plan)
				}
			}
		})
	}
}

// rawDB opens the database file without the store, so that nothing
// analyzes it behind the test's back.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	fullScan       = regexp.MustCompile(`^SCAN (\S+)`)
	sorting        = regexp.MustCompile(`USE TEMP B-TREE`)
	repositoryWide = regexp.MustCompile(`^SEARCH (\S+) USING .*\(registry_id=\? AND repo_name=\?\)$`)
)

// explain returns the plan of query, indented, and whether a step of it
// reads a table whole or sorts while the statement is not a
// planException.
func explain(t *testing.T, db *sql.DB, query string, args []any) (string, bool) {
	t.Helper()
	excepted := false
	for prefix := range planExceptions {
		excepted = excepted || strings.HasPrefix(oneLine(query), prefix)
	}
	rows, err := db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Errorf("EXPLAIN QUERY PLAN %s: %v", oneLine(query), err)
		return "", false
	}
	defer rows.Close()
	var (
		plan strings.Builder
		bad  bool
	)
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&plan, "\t\t%s\n", detail)
		if m := fullScan.FindStringSubmatch(detail); m != nil && !strings.Contains(detail, "VIRTUAL TABLE") && m[1] != "CONSTANT" {
			bad = true
		}
		if sorting.MatchString(detail) {
			bad = true
		}
		if m := repositoryWide.FindStringSubmatch(detail); m != nil && repositoryTables[m[1]] {
			bad = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String(), bad && !excepted
}

// oneLine folds a statement's whitespace, for messages and prefixes.
func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }

// TestExplainCatches proves the plan check fails what it must: a whole
// table read, a search only the repository bounds (what deleting an image
// did to its tags under the old key without statistics), and a sort.
func TestExplainCatches(t *testing.T) {
	db := rawDB(t, filepath.Join(t.TempDir(), "scratch.db"))
	for _, q := range []string{
		`CREATE TABLE tags (registry_id TEXT, repo_name TEXT, tag TEXT, digest TEXT,
			PRIMARY KEY (registry_id, repo_name, tag)) WITHOUT ROWID`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`SELECT tag FROM tags WHERE digest = ?`,
		`SELECT tag FROM tags WHERE registry_id = ? AND repo_name = ? AND digest = ?`,
		`SELECT tag FROM tags WHERE registry_id = ? AND repo_name = ? AND tag > ? ORDER BY digest LIMIT 10`,
	} {
		if plan, bad := explain(t, db, q, []any{"a", "b", "c"}[:strings.Count(q, "?")]); !bad {
			t.Errorf("explain passed %s:\n%s", q, plan)
		}
	}
	if plan, bad := explain(t, db, `SELECT digest FROM tags WHERE registry_id = ? AND repo_name = ? AND tag = ?`, []any{"a", "b", "c"}); bad {
		t.Errorf("explain failed a primary-key lookup:\n%s", plan)
	}
}
