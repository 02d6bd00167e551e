package e2e

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// state dumps every table of the metadata database, a row a line, sorted,
// without the columns that record when (times differ from run to run) or
// name an upload or lease holder (random), so that two dumps compare the
// registry's content.
func (s *faultServer) state(t *testing.T) []string {
	t.Helper()
	db := s.db(t)
	defer db.Close()
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	var out []string
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(table)
			for i, c := range cols {
				if volatileColumn(table, c) {
					continue
				}
				fmt.Fprintf(&b, " %s=%v", c, vals[i])
			}
			out = append(out, b.String())
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

func volatileColumn(table, col string) bool {
	switch {
	case strings.HasSuffix(col, "_at"):
		return true
	case table == "uploads" && (col == "id" || col == "lease" || col == "lease_holder"):
		return true
	case table == "leases", table == "lifecycle_previews" && col == "holder":
		return true
	}
	return false
}

// check verifies that the bytes the metadata promises are there: every
// layer's and blob's file hashes to its digest, and every upload's file
// holds at least its bytes so far.
func (s *faultServer) check(t *testing.T) []string {
	t.Helper()
	db := s.db(t)
	defer db.Close()
	var problems []string
	// A blob record no layer names may be a pin taken for a commit that
	// failed before its bytes were renamed into place: garbage for the
	// collector, promised to no one. Layers are what clients are told of.
	digests := queryStrings(t, db, `SELECT DISTINCT digest FROM layers`)
	for _, d := range digests {
		b, err := os.ReadFile(filepath.Join(s.DataDir, "blobs", "sha256", d[7:9], d[7:]))
		if err != nil {
			problems = append(problems, fmt.Sprintf("blob %s is recorded but its bytes are missing: %v", d, err))
		} else if got := fmt.Sprintf("sha256:%x", sha256.Sum256(b)); got != d {
			problems = append(problems, fmt.Sprintf("blob %s holds bytes of digest %s", d, got))
		}
	}
	rows, err := db.Query(`SELECT id, size FROM uploads WHERE size > 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var size int64
		if err := rows.Scan(&id, &size); err != nil {
			t.Fatal(err)
		}
		// No file at all is an upload whose bytes were committed as a
		// blob, and whose record a failed transaction kept: a retry of
		// the complete finishes it, a further part ends it (its earlier
		// bytes are gone). A file must hold the bytes recorded.
		fi, err := os.Stat(filepath.Join(s.DataDir, "uploads", id, "data"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil || fi.Size() < size {
			problems = append(problems, fmt.Sprintf("upload %s records %d bytes but holds %v (%v)", id, size, fileSize(fi), err))
		}
	}
	return problems
}

func fileSize(fi os.FileInfo) any {
	if fi == nil {
		return "none"
	}
	return fi.Size()
}

func (s *faultServer) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.DataDir, "metadata.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// stateDiff shows how got differs from want.
func stateDiff(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("\n  missing: " + l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("\n  extra:   " + l)
		}
	}
	return b.String()
}
