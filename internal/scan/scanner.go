// Package scan is ecrd's basic image scanner: it reads the OS release and
// the package databases (dpkg's, apk's, rpm's SQLite one) from an image's layers, streamed
// one at a time and keeping nothing but those files, and matches the
// packages against a vulnerability database in the OSV format that the
// operator provides (--vuln-db). A Scanner in every process works
// through the scans the core records as due (internal/registry
// scanning.go), at most Concurrency at a time.
package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// Options configure a Scanner.
type Options struct {
	// DBDir is the OSV database's directory; "" for none, when scans end
	// FINDINGS_UNAVAILABLE.
	DBDir string
	// Concurrency bounds the scans at once; 2 when zero.
	Concurrency int
	// DBInterval is how often DBDir is checked for changes; 1m when zero.
	DBInterval time.Duration
	Logger     *slog.Logger
}

// Scanner scans the images whose scans are due.
type Scanner struct {
	reg *registry.Registry
	o   Options
	log *slog.Logger
	db  atomic.Pointer[DB]
	// stamp is DBDir's listing when db was read.
	stamp   string
	checked time.Time
	mu      sync.Mutex
}

// New returns a scanner over the core, its database read from o.DBDir.
func New(reg *registry.Registry, o Options) (*Scanner, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.DBInterval <= 0 {
		o.DBInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Scanner{reg: reg, o: o, log: o.Logger}
	if o.DBDir != "" {
		stamp, err := dirStamp(o.DBDir)
		if err != nil {
			return nil, err
		}
		db, err := LoadDB(o.DBDir)
		if err != nil {
			return nil, err
		}
		s.db.Store(db)
		s.stamp, s.checked = stamp, time.Now()
		s.log.Info("vulnerability database loaded", "dir", o.DBDir, "entries", db.Entries, "version", db.Version, "updated", db.UpdatedAt)
	}
	return s, nil
}

// DB is the database scans use now (nil for none).
func (s *Scanner) DB() *DB { return s.db.Load() }

// dirStamp lists dir's files with their sizes and times: a change of it
// means the database is to be read again.
func dirStamp(dir string) (string, error) {
	var b []byte
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b = fmt.Appendf(b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return string(b), err
}

// refreshDB reads the database again when its directory changed; a
// database that no longer loads leaves the one read before in use.
func (s *Scanner) refreshDB() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.o.DBDir == "" || time.Since(s.checked) < s.o.DBInterval {
		return
	}
	s.checked = time.Now()
	stamp, err := dirStamp(s.o.DBDir)
	if err != nil || stamp == s.stamp {
		if err != nil {
			s.log.Warn("scan: checking the vulnerability database failed", "dir", s.o.DBDir, "err", err)
		}
		return
	}
	db, err := LoadDB(s.o.DBDir)
	if err != nil {
		s.log.Error("scan: the changed vulnerability database does not load; scans go on with the one read before", "err", err)
		return
	}
	s.db.Store(db)
	s.stamp = stamp
	s.log.Info("vulnerability database reloaded", "entries", db.Entries, "version", db.Version, "updated", db.UpdatedAt)
}

// lease bounds one scan: a scanner that dies mid-scan leaves it to
// another once it lapses.
const lease = 10 * time.Minute

// maxAttempts is how many times a scan the store failed is tried.
const maxAttempts = 5

// RunOnce makes every scan due now (checking the database directory for
// changes first, once a DBInterval) and returns how many it made.
func (s *Scanner) RunOnce(ctx context.Context) int {
	s.refreshDB()
	core := registry.AsCore(ctx)
	version := ""
	if db := s.DB(); db != nil {
		version = db.Version
	}
	due, err := s.reg.DueScans(core, version, 64)
	if err != nil {
		s.log.Warn("scan: reading the due scans failed", "err", err)
		return 0
	}
	var n atomic.Int64
	sem := make(chan struct{}, s.o.Concurrency)
	var wg sync.WaitGroup
	for _, d := range due {
		if ctx.Err() != nil {
			break
		}
		claimed, ok, err := s.reg.ClaimScan(core, d, lease)
		if err != nil || !ok {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			n.Add(1)
			s.scanOne(ctx, claimed)
		}()
	}
	wg.Wait()
	return int(n.Load())
}

func (s *Scanner) scanOne(ctx context.Context, claimed registry.ImageScan) {
	core := registry.AsCore(registry.WithCaller(ctx, registry.AccountAdmin(claimed.Key.Registry, "")))
	db := s.DB()
	outcome, findings, err := s.Scan(core, claimed, db)
	image := string(claimed.Key.Registry) + "/" + string(claimed.Key.Name) + "@" + string(claimed.Digest)
	final := err == nil
	if err != nil {
		outcome = claimed
		outcome.Attempts++
		if outcome.Attempts >= maxAttempts {
			outcome.Status, outcome.Description, outcome.Pending = registry.ScanFailed, "The scan could not read the image: "+err.Error(), false
			outcome.Counts, findings, final = nil, []registry.Finding{}, true
		} else {
			outcome.NextAttempt = s.reg.Now().UTC().Add(time.Duration(outcome.Attempts) * 10 * time.Second)
		}
		s.log.Warn("scan: a scan failed", "image", image, "attempt", outcome.Attempts, "err", err)
	} else {
		s.log.Info("scan: image scanned", "image", image, "status", outcome.Status, "findings", len(findings))
	}
	if final && db != nil {
		// Whatever it found, the scan is of this database: a continuous
		// image is scanned again when the database changes, not before
		// (an unsupported or archived one included).
		outcome.SourceVersion = db.Version
	}
	if err := s.reg.RecordScan(registry.AsCore(ctx), claimed, outcome, findings); err != nil {
		s.log.Warn("scan: recording a scan failed", "image", image, "err", err)
	}
}

// Scan scans the image of a claimed scan with db (nil for none) and
// returns the scan's outcome; an error is a failure to read the image,
// worth trying again.
func (s *Scanner) Scan(ctx context.Context, claimed registry.ImageScan, db *DB) (registry.ImageScan, []registry.Finding, error) {
	out := claimed
	out.Pending, out.Attempts, out.NextAttempt = false, 0, s.reg.Now().UTC()
	img, err := s.reg.StoredImage(ctx, claimed.Key, claimed.Digest)
	if errors.Is(err, registry.ErrNotFound) {
		return out, nil, nil // the image is gone, and its scan with it
	} else if err != nil {
		return claimed, nil, err
	}
	if img.Status != registry.ImageActive {
		out.Status, out.Description = registry.ScanImageArchived, "The image was archived before it could be scanned."
		return out, []registry.Finding{}, nil
	}
	fs := files{}
	for _, b := range img.Blobs[min(1, len(img.Blobs)):] { // the config first, then the layers
		_, rc, err := s.reg.OpenBlob(ctx, claimed.Key, string(b.Digest), 0)
		if err != nil {
			return claimed, nil, fmt.Errorf("opening the layer %s: %w", b.Digest, err)
		}
		err = fs.addLayer(rc)
		rc.Close()
		if err == errZstd {
			out.Status, out.Description = registry.ScanFailed, "UnsupportedImageError: the layer "+string(b.Digest)+" is zstd-compressed, which the scanner does not read."
			return out, []registry.Finding{}, nil
		} else if err != nil {
			return claimed, nil, fmt.Errorf("reading the layer %s: %w", b.Digest, err)
		}
	}
	osr := fs.osRelease()
	key, cmp := distro(osr)
	if key == "" || !fs.hasDatabase() {
		out.Status, out.Description = registry.ScanUnsupportedImage, "UnsupportedImageError: The operating system and/or package manager are not supported."
		return out, []registry.Finding{}, nil
	}
	if db == nil {
		out.Status, out.Description = registry.ScanFindingsUnavailable,
			"No vulnerability database is configured: findings cannot be produced until ecrd is started with --vuln-db DIR (a database in the OSV format)."
		return out, []registry.Finding{}, nil
	}
	pkgs, err := fs.packages()
	if err != nil {
		out.Status, out.Description = registry.ScanFailed, "The package database could not be read: "+err.Error()
		return out, []registry.Finding{}, nil
	}
	findings := db.Match(key, cmp, pkgs)
	out.Status, out.Description = registry.ScanComplete, "The scan was completed successfully."
	if claimed.Continuous {
		out.Status, out.Description = registry.ScanActive, "Continuous scan is selected for image."
	}
	out.CompletedAt, out.SourceUpdatedAt, out.SourceVersion = s.reg.Now().UTC(), db.UpdatedAt, db.Version
	out.Counts = map[string]int{}
	for _, f := range findings {
		out.Counts[f.Severity]++
	}
	return out, findings, nil
}

// severityRank orders findings: the most severe first.
var severityRank = map[string]int{"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "INFORMATIONAL": 4, "UNDEFINED": 5}

// Match returns the findings of the packages of a distribution release:
// one per advisory and package, the most severe first.
func (db *DB) Match(distro string, cmp compareFunc, pkgs []pkg) []registry.Finding {
	type match struct {
		af       *affected
		p        *pkg
		fixed    string
		severity string
	}
	index := db.index[distro]
	var matches []match
	seen := map[[2]string]bool{}
	for i := range pkgs {
		p := &pkgs[i]
		for _, af := range index[p.source] {
			hit, fixed := af.affects(p.sourceVersion, cmp)
			if !hit || seen[[2]string{af.adv.id, p.name}] {
				continue
			}
			seen[[2]string{af.adv.id, p.name}] = true
			matches = append(matches, match{af, p, fixed, af.severityOf()})
		}
	}
	slices.SortFunc(matches, func(a, b match) int {
		if c := severityRank[a.severity] - severityRank[b.severity]; c != 0 {
			return c
		}
		if c := strings.Compare(a.af.adv.name, b.af.adv.name); c != 0 {
			return c
		}
		return strings.Compare(a.p.name, b.p.name)
	})
	out := make([]registry.Finding, 0, len(matches))
	for _, m := range matches {
		out = append(out, finding(m.af, *m.p, m.fixed, m.severity))
	}
	return out
}

// severityOf is ECR's severity of a finding of af: the label of the
// package's entry, else of the advisory, else from its CVSS v3 score.
func (af *affected) severityOf() string {
	switch adv := af.adv; {
	case af.severity != "":
		return af.severity
	case adv.severity != "":
		return adv.severity
	case adv.cvss3OK:
		return severityOfScore(adv.cvss3Score)
	}
	return "UNDEFINED"
}

func finding(af *affected, p pkg, fixed, severity string) registry.Finding {
	adv := af.adv
	f := registry.Finding{Name: adv.name, Description: adv.description, URI: adv.uri, Severity: severity, Package: p.name,
		Version: p.version, FixedIn: fixed, PackageManager: p.manager, Source: adv.id, References: adv.references,
		Aliases: adv.aliases, Published: adv.published, Modified: adv.modified}
	if adv.cvss3OK {
		f.CVSS = append(f.CVSS, registry.CVSSScore{Version: cvssVersion(adv.cvss3), Vector: adv.cvss3, Score: adv.cvss3Score})
	}
	if adv.cvss2 != "" {
		f.CVSS = append(f.CVSS, registry.CVSSScore{Version: "2.0", Vector: adv.cvss2})
	}
	return f
}

func cvssVersion(vector string) string {
	v, _, _ := strings.Cut(strings.TrimPrefix(vector, "CVSS:"), "/")
	return v
}
