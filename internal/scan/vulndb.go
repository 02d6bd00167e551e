package scan

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DB is a vulnerability database in the OSV format (https://ossf.github.io/osv-schema/),
// as an operator provides it: a directory of OSV JSON files (one entry
// each) and of zip archives of them (osv.dev's per-ecosystem all.zip),
// read whole into memory and indexed by ecosystem and package.
type DB struct {
	// Version identifies the content: a scan records it, and continuous
	// scans are made again when it changes.
	Version string
	// UpdatedAt is the latest modified time of an entry (ECR's
	// vulnerabilitySourceUpdatedAt).
	UpdatedAt time.Time
	// Entries counts the entries read; Ecosystems the distributions they
	// cover (as ecosystemKey names them).
	Entries    int
	Ecosystems []string
	index      map[string]map[string][]*affected
}

// osvEntry is the part of an OSV entry a scan reads.
type osvEntry struct {
	ID        string    `json:"id"`
	Modified  time.Time `json:"modified"`
	Published time.Time `json:"published"`
	Withdrawn time.Time `json:"withdrawn"`
	Summary   string    `json:"summary"`
	Details   string    `json:"details"`
	Aliases   []string  `json:"aliases"`
	Severity  []struct {
		Type  string `json:"type"`
		Score string `json:"score"`
	} `json:"severity"`
	Affected []struct {
		Package struct {
			Ecosystem string `json:"ecosystem"`
			Name      string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Type   string              `json:"type"`
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
		Versions          []string        `json:"versions"`
		EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
		DatabaseSpecific  json.RawMessage `json:"database_specific"`
	} `json:"affected"`
	References []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	} `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

// advisory is an entry as findings report it, its CVSS v3 score and
// severity worked out once, as it is read.
type advisory struct {
	id, name, description, uri string
	aliases, references        []string
	cvss3, cvss2               string
	cvss3Score                 float64
	cvss3OK                    bool
	severity                   string
	published, modified        time.Time
}

// affected is one package an advisory affects, in one ecosystem.
type affected struct {
	adv *advisory
	// ranges are ECOSYSTEM ranges' events, in order; versions the
	// versions listed one by one.
	ranges   [][]event
	versions []string
	severity string
}

type event struct{ kind, version string }

// compareFor is how the versions of a distribution (an ecosystemKey)
// compare.
func compareFor(key string) compareFunc {
	switch {
	case strings.HasPrefix(key, "alpine:"):
		return compareAPK
	case strings.HasPrefix(key, "debian:"), strings.HasPrefix(key, "ubuntu:"):
		return compareDeb
	case strings.HasPrefix(key, "rocky linux:"), strings.HasPrefix(key, "almalinux:"):
		return compareRPM
	}
	return nil
}

// ecosystemKey names a distribution release as the index does: the
// lowercase name and the release, "debian:12", "alpine:3.19",
// "ubuntu:22.04", whichever of OSV's spellings ("Alpine:v3.19",
// "Ubuntu:22.04:LTS") the entry uses. "" for ecosystems scans do not read.
func ecosystemKey(eco string) string {
	parts := strings.Split(eco, ":")
	if len(parts) < 2 {
		return ""
	}
	name := strings.ToLower(parts[0])
	switch name {
	case "debian", "alpine", "ubuntu", "rocky linux", "almalinux":
	default:
		return ""
	}
	return name + ":" + strings.TrimPrefix(parts[1], "v")
}

// LoadDB reads the database in dir. An entry that is not valid OSV fails
// the load, naming its file: a database read in part would report images
// clean that are not.
func LoadDB(dir string) (*DB, error) {
	db := &DB{index: map[string]map[string][]*affected{}}
	h := sha256.New()
	ecos := map[string]bool{}
	add := func(name string, data []byte) error {
		var e osvEntry
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("%s: not an OSV entry: %w", name, err)
		}
		if e.ID == "" {
			return fmt.Errorf("%s: not an OSV entry: no id", name)
		}
		fmt.Fprintf(h, "%s\x00%x\x00", name, sha256.Sum256(data))
		db.Entries++
		if e.Modified.After(db.UpdatedAt) {
			db.UpdatedAt = e.Modified
		}
		if !e.Withdrawn.IsZero() {
			return nil
		}
		adv := newAdvisory(&e)
		for _, a := range e.Affected {
			key := ecosystemKey(a.Package.Ecosystem)
			if key == "" || a.Package.Name == "" {
				continue
			}
			ecos[key] = true
			af := &affected{adv: adv, versions: a.Versions, severity: labelIn(a.EcosystemSpecific, a.DatabaseSpecific)}
			for _, r := range a.Ranges {
				if r.Type != "ECOSYSTEM" {
					continue
				}
				var evs []event
				for _, ev := range r.Events {
					for k, v := range ev {
						evs = append(evs, event{k, v})
					}
				}
				if cmp := compareFor(key); cmp != nil {
					slices.SortStableFunc(evs, func(x, y event) int { return cmpEvent(x.version, y.version, cmp) })
				}
				af.ranges = append(af.ranges, evs)
			}
			pkgs := db.index[key]
			if pkgs == nil {
				pkgs = map[string][]*affected{}
				db.index[key] = pkgs
			}
			pkgs[a.Package.Name] = append(pkgs[a.Package.Name], af)
		}
		return nil
	}
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".zip")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the vulnerability database %s: %w", dir, err)
	}
	slices.Sort(files)
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		if strings.HasSuffix(f, ".zip") {
			err = eachInZip(f, func(name string, data []byte) error { return add(rel+"/"+name, data) })
		} else if data, rerr := os.ReadFile(f); rerr != nil {
			err = rerr
		} else {
			err = add(rel, data)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the vulnerability database %s: %w", dir, err)
		}
	}
	db.Version = hex.EncodeToString(h.Sum(nil))[:16]
	for k := range ecos {
		db.Ecosystems = append(db.Ecosystems, k)
	}
	slices.Sort(db.Ecosystems)
	return db, nil
}

func eachInZip(path string, fn func(name string, data []byte) error) error {
	z, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer z.Close()
	for _, f := range z.File {
		if !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := fn(f.Name, data); err != nil {
			return err
		}
	}
	return nil
}

func newAdvisory(e *osvEntry) *advisory {
	a := &advisory{id: e.ID, name: e.ID, aliases: e.Aliases, published: e.Published, modified: e.Modified,
		description: e.Details, severity: labelIn(e.DatabaseSpecific)}
	if a.description == "" {
		a.description = e.Summary
	}
	// ECR names a finding by its CVE.
	if !strings.HasPrefix(e.ID, "CVE-") {
		for _, al := range e.Aliases {
			if strings.HasPrefix(al, "CVE-") {
				a.name = al
				break
			}
		}
	}
	for _, r := range e.References {
		a.references = append(a.references, r.URL)
		if a.uri == "" && (r.Type == "ADVISORY" || r.Type == "WEB") {
			a.uri = r.URL
		}
	}
	if a.uri == "" {
		a.uri = "https://osv.dev/vulnerability/" + e.ID
	}
	for _, s := range e.Severity {
		switch {
		case strings.HasPrefix(s.Type, "CVSS_V3"):
			a.cvss3 = s.Score
		case s.Type == "CVSS_V2":
			a.cvss2 = s.Score
		}
	}
	a.cvss3Score, a.cvss3OK = cvss3Score(a.cvss3)
	return a
}

// labelIn is the first severity label found in the ecosystem- or
// database-specific objects ({"severity": "HIGH"}, Debian's {"urgency":
// "low"}), as ECR's severity; "" for none.
func labelIn(raws ...json.RawMessage) string {
	for _, raw := range raws {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for _, k := range []string{"severity", "urgency", "priority"} {
			if s, ok := m[k].(string); ok {
				if sev := severityOfLabel(s); sev != "" {
					return sev
				}
			}
		}
	}
	return ""
}

// affects tells whether version is affected, and the first version
// fixing it that is above version ("" for none known).
func (a *affected) affects(version string, cmp compareFunc) (bool, string) {
	if slices.Contains(a.versions, version) {
		return true, a.fixedAfter(version, cmp)
	}
	for _, evs := range a.ranges { // sorted by version as they were read
		in := false
		for _, ev := range evs {
			c := cmpEvent(version, ev.version, cmp)
			switch ev.kind {
			case "introduced":
				if c >= 0 {
					in = true
				}
			case "fixed", "limit":
				if c >= 0 {
					in = false
				}
			case "last_affected":
				if c > 0 {
					in = false
				}
			}
		}
		if in {
			return true, a.fixedAfter(version, cmp)
		}
	}
	return false, ""
}

// cmpEvent compares versions where OSV's "0" is before every version.
func cmpEvent(a, b string, cmp compareFunc) int {
	switch {
	case a == b:
		return 0
	case a == "0":
		return -1
	case b == "0":
		return 1
	}
	return cmp(a, b)
}

func (a *affected) fixedAfter(version string, cmp compareFunc) string {
	best := ""
	for _, evs := range a.ranges {
		for _, ev := range evs {
			if ev.kind == "fixed" && cmp(ev.version, version) > 0 && (best == "" || cmp(ev.version, best) < 0) {
				best = ev.version
			}
		}
	}
	return best
}
