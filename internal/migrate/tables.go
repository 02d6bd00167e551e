package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The two stores' schemas are one schema in two dialects (see the
// PostgreSQL store's migration): the same tables and columns, with
// PostgreSQL's own types where SQLite has integers and JSON text. So the
// columns are not listed here but read from both databases and matched,
// and a column one store gains without the other stops the migration
// instead of being dropped on the way.

// table is one table copied, in copied's order (parents before children,
// for the foreign keys).
type table struct {
	name string
	// where selects the SQLite rows copied; empty: all of them.
	where string
	// cols are its columns with their PostgreSQL types, and key the
	// primary key's columns (the copy's order); plan fills both in.
	cols []column
	key  []string
}

// column is a column and its PostgreSQL type, as information_schema
// names it (data_type, or the element's udt_name for arrays).
type column struct{ name, pgType string }

// copied are the tables copied.
var copied = []table{
	{name: "repositories"},
	{name: "layers"},
	{name: "blobs", where: blobsCopied},
	{name: "images"},
	{name: "image_blobs"},
	{name: "image_children"},
	{name: "tags"},
	{name: "public_registries"},
	{name: "repository_catalogs"},
	{name: "repository_policies"},
	{name: "registry_policies"},
	{name: "lifecycle_policies"},
	{name: "creation_templates"},
	{name: "pull_through_rules"},
	{name: "pull_through_checks"},
	{name: "replication_configs"},
	{name: "replication_tasks"},
	{name: "pull_time_exclusions"},
	{name: "account_settings"},
	{name: "scanning_configs"},
	{name: "image_scans"},
	{name: "signing_configs"},
	{name: "image_signings"},
	{name: "secrets"},
}

// skipped are the tables not copied: in-progress uploads and leases belong
// to the processes of the old store, as do lifecycle previews (computed
// by one; their results expire within a day, and a new one is a call
// away); lease_holders (the processes on a PostgreSQL store) and
// schema_migrations are the target's own.
var skipped = []string{"uploads", "leases", "lifecycle_previews", "lifecycle_preview_results", "lease_holders", "schema_migrations"}

// plan matches the tables of both databases and returns copied with their
// columns. Any table neither copied nor skipped, and any column only one
// side has, is an error: the schemas have moved apart, and copying what
// matches would lose data silently.
func plan(ctx context.Context, src *source, dst *target) ([]table, error) {
	pgTables, err := dst.tables(ctx)
	if err != nil {
		return nil, err
	}
	liteTables, err := src.tables(ctx)
	if err != nil {
		return nil, err
	}
	known := func(name string) bool {
		return slices.Contains(skipped, name) || slices.ContainsFunc(copied, func(t table) bool { return t.name == name })
	}
	for _, names := range [][]string{pgTables, liteTables} {
		for _, n := range names {
			if !known(n) {
				return nil, fmt.Errorf("table %s is new to this ecrd's migration: a newer ecrd wrote one of the databases", n)
			}
		}
	}
	out := make([]table, len(copied))
	for i, t := range copied {
		if !slices.Contains(liteTables, t.name) {
			return nil, fmt.Errorf("%s: metadata.db has no table %s: its schema is older than this ecrd's; run `ecrd gc --data-dir %s` once to bring it up to date", src.dir, t.name, src.dir)
		}
		pgCols, err := dst.columns(ctx, t.name)
		if err != nil {
			return nil, err
		}
		liteCols, key, err := src.columns(ctx, t.name)
		if err != nil {
			return nil, err
		}
		for _, c := range pgCols {
			if !slices.Contains(liteCols, c.name) {
				return nil, fmt.Errorf("%s: metadata.db's table %s has no column %s: its schema is older than this ecrd's; run `ecrd gc --data-dir %s` once to bring it up to date", src.dir, t.name, c.name, src.dir)
			}
		}
		if extra := slices.DeleteFunc(slices.Clone(liteCols), func(n string) bool {
			return slices.ContainsFunc(pgCols, func(c column) bool { return c.name == n })
		}); len(extra) > 0 {
			return nil, fmt.Errorf("metadata.db's table %s has columns PostgreSQL's lacks (%s): a newer ecrd wrote it", t.name, strings.Join(extra, ", "))
		}
		t.cols, t.key = pgCols, key
		out[i] = t
	}
	return out, nil
}

// tables lists the SQLite database's tables.
func (s *source) tables(ctx context.Context) ([]string, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("%s: listing tables: %w", s.dir, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// columns returns the SQLite table's columns and its primary key's, in
// key order.
func (s *source) columns(ctx context.Context, name string) (cols, key []string, err error) {
	// PRAGMA takes no bound parameters; name is one of copied's.
	rows, err := s.tx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info('`+name+`') ORDER BY cid`)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: columns of %s: %w", s.dir, name, err)
	}
	defer rows.Close()
	pk := map[int]string{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, nil, err
		}
		cols = append(cols, c)
		if n > 0 {
			pk[n] = c
		}
	}
	for i := 1; i <= len(pk); i++ {
		key = append(key, pk[i])
	}
	return cols, key, rows.Err()
}

// selectSQL reads t's copied rows from SQLite in key order.
func (t table) selectSQL() string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = c.name
	}
	q := "SELECT " + strings.Join(names, ", ") + " FROM " + t.name
	if t.where != "" {
		q += " WHERE " + t.where
	}
	if len(t.key) > 0 {
		q += " ORDER BY " + strings.Join(t.key, ", ")
	}
	return q
}

// convert turns a value as SQLite stores it into the PostgreSQL column's
// type: integer unix microseconds into instants, 0/1 into booleans, JSON
// arrays of strings into text[], JSON into jsonb.
func convert(c column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.pgType {
	case "timestamp with time zone":
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("column %s: %T, want integer microseconds", c.name, v)
		}
		return time.UnixMicro(n).UTC(), nil
	case "boolean":
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("column %s: %T, want 0 or 1", c.name, v)
		}
		return n != 0, nil
	case "_text":
		var list []string
		if err := json.Unmarshal(textOf(v), &list); err != nil {
			return nil, fmt.Errorf("column %s: %w", c.name, err)
		}
		if list == nil {
			list = []string{} // NOT NULL '{}', never NULL
		}
		return list, nil
	case "jsonb", "json":
		b := textOf(v)
		if !json.Valid(b) {
			return nil, fmt.Errorf("column %s: not JSON", c.name)
		}
		return json.RawMessage(b), nil
	case "bytea":
		return textOf(v), nil
	case "text":
		return string(textOf(v)), nil
	case "bigint", "integer", "smallint":
		if _, ok := v.(int64); !ok {
			return nil, fmt.Errorf("column %s: %T, want an integer", c.name, v)
		}
		return v, nil
	}
	return nil, fmt.Errorf("column %s: PostgreSQL type %s is new to this ecrd's migration", c.name, c.pgType)
}

// textOf is a TEXT or BLOB value's bytes.
func textOf(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	return []byte(fmt.Sprint(v))
}
