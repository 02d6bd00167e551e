package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	// The driver registers itself as "sqlite" when imported.
	_ "modernc.org/sqlite"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/instance"
	"github.com/ecrd/ecrd/internal/registry"
)

// source is the embedded registry being copied: one read-only SQLite
// transaction, the snapshot every step reads, and the data dir's blobs.
type source struct {
	dir   string
	db    *sql.DB
	tx    *sql.Tx
	store registry.BlobStore
	// self is this process's instance entry: a server started on the data
	// dir during the copy sees it.
	self *instance.Dir
}

// openSource opens the data dir's metadata read-only, refusing while any
// other process holds an instance lock on it.
func openSource(ctx context.Context, dir string) (_ *source, err error) {
	path := filepath.Join(dir, "metadata.db")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s holds no metadata.db, so it is not an embedded registry's data dir: %w", dir, err)
	}
	s := &source{dir: dir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.self, err = instance.Open(filepath.Join(dir, "instances")); err != nil {
		return nil, err
	}
	running, err := othersAlive(s.self, filepath.Join(dir, "instances"))
	if err != nil {
		return nil, err
	}
	if running {
		return nil, ErrServerRunning
	}
	// mode=ro: nothing here may change the registry being copied.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)"
	if s.db, err = sql.Open("sqlite", dsn); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.db.SetMaxOpenConns(1)
	if s.tx, err = s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The snapshot begins at the first read, not at BEGIN: read now.
	var n int
	if err := s.tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.store, err = fs.Open(dir); err != nil {
		return nil, err
	}
	return s, nil
}

// othersAlive reports whether a process other than self holds a lock
// file in dir (a name.lock file, as package instance names them).
func othersAlive(self *instance.Dir, dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".lock")
		if ok && id != self.Self() && self.Alive(id) {
			return true, nil
		}
	}
	return false, nil
}

// Close ends the snapshot and gives up the instance entry.
func (s *source) Close() error {
	var errs []error
	if s.tx != nil {
		errs = append(errs, s.tx.Rollback())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	if s.self != nil {
		errs = append(errs, s.self.Close())
	}
	return errors.Join(errs...)
}

// sourceBlob is a blob the metadata references.
type sourceBlob struct {
	digest registry.Digest
	size   int64
}

// blobs returns every blob a repository holds (a layer row names it), in
// digest order: those and only those are copied. A blob no layer names is
// garbage a collection would remove; one a layer names but the metadata
// holds no live record of is a damaged registry, reported rather than
// copied into metadata that would name a missing blob.
func (s *source) blobs(ctx context.Context) ([]sourceBlob, error) {
	var missing string
	err := s.tx.QueryRowContext(ctx, `SELECT l.digest FROM layers l WHERE NOT EXISTS
		(SELECT 1 FROM blobs b WHERE b.digest = l.digest AND b.deleting = 0) LIMIT 1`).Scan(&missing)
	if err == nil {
		return nil, fmt.Errorf("%s: a layer names blob %s, which has no record in metadata.db (or a collection was deleting it): the registry is damaged", s.dir, missing)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: blobs: %w", s.dir, err)
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT digest, size FROM blobs WHERE `+blobsCopied+` ORDER BY digest`)
	if err != nil {
		return nil, fmt.Errorf("%s: blobs: %w", s.dir, err)
	}
	defer rows.Close()
	var out []sourceBlob
	for rows.Next() {
		var d string
		var b sourceBlob
		if err := rows.Scan(&d, &b.size); err != nil {
			return nil, fmt.Errorf("%s: blobs: %w", s.dir, err)
		}
		if b.digest, err = registry.ParseDigest(d); err != nil {
			return nil, fmt.Errorf("%s: blob %q: %w", s.dir, d, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// blobsCopied selects the rows of blobs whose bytes are copied.
const blobsCopied = `deleting = 0 AND digest IN (SELECT digest FROM layers)`

// fingerprintOf is a digest of every record copied, and their count.
type fingerprintOf struct {
	sum  []byte
	rows int64
}

// fingerprint reads every record the copy would write and digests them:
// the identity of this snapshot, which the target records so that a rerun
// recognises a database it already filled.
func (s *source) fingerprint(ctx context.Context, tables []table) (fingerprintOf, error) {
	h := sha256.New()
	var n int64
	for _, t := range tables {
		h.Write([]byte(t.name + "\x00"))
		err := s.each(ctx, t, func(vals []any) error {
			n++
			for _, v := range vals {
				if err := hashValue(h, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fingerprintOf{}, err
		}
	}
	return fingerprintOf{sum: h.Sum(nil), rows: n}, nil
}

// hashValue writes v, a value as the SQLite driver returns it, to h with
// its type and length, so that no two rows digest alike.
func hashValue(h hash.Hash, v any) error {
	var b [9]byte
	switch v := v.(type) {
	case nil:
		b[0] = 'n'
		h.Write(b[:1])
	case int64:
		b[0] = 'i'
		binary.BigEndian.PutUint64(b[1:], uint64(v))
		h.Write(b[:])
	case float64:
		b[0] = 'f'
		binary.BigEndian.PutUint64(b[1:], math.Float64bits(v))
		h.Write(b[:])
	case string:
		b[0] = 's'
		binary.BigEndian.PutUint64(b[1:], uint64(len(v)))
		h.Write(b[:])
		h.Write([]byte(v))
	case []byte:
		b[0] = 'b'
		binary.BigEndian.PutUint64(b[1:], uint64(len(v)))
		h.Write(b[:])
		h.Write(v)
	default:
		return fmt.Errorf("an SQLite value of type %T", v)
	}
	return nil
}

// each calls fn with every row of t that is copied, in key order, its
// values in t.cols' order as the driver returns them. vals is reused.
func (s *source) each(ctx context.Context, t table, fn func(vals []any) error) error {
	rows, err := s.tx.QueryContext(ctx, t.selectSQL())
	if err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	defer rows.Close()
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading %s: %w", t.name, err)
		}
		if err := fn(vals); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", t.name, err)
	}
	return nil
}
