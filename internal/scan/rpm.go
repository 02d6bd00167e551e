package scan

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // the rpm database of RHEL 9 and its rebuilds is SQLite
)

// rpmPackages reads an rpmdb.sqlite (the database of RHEL 9, Rocky and
// AlmaLinux 9, Fedora 33 and later): each row of Packages is a package's
// header. SQLite reads files only, so the database (not the layer) is
// written to a temporary file first and read read-only.
func rpmPackages(data []byte) ([]pkg, error) {
	f, err := os.CreateTemp("", "ecrd-rpmdb-*.sqlite")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+f.Name()+"?mode=ro&immutable=1")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT blob FROM Packages`)
	if err != nil {
		return nil, fmt.Errorf("the rpm database: %w", err)
	}
	defer rows.Close()
	var out []pkg
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, err
		}
		p, err := rpmHeader(blob)
		if err != nil {
			return nil, fmt.Errorf("an rpm header: %w", err)
		}
		if p.name != "gpg-pubkey" { // imported keys, not packages
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

// The header tags a scan reads, and their types.
const (
	rpmTagName    = 1000
	rpmTagVersion = 1001
	rpmTagRelease = 1002
	rpmTagEpoch   = 1003
	rpmTypeInt32  = 4
	rpmTypeString = 6
)

// rpmHeader reads a package header as rpm stores it in its database: the
// index entry count and data length (big-endian), the entries (tag, type,
// offset, count), then the data.
func rpmHeader(b []byte) (pkg, error) {
	if len(b) < 8 {
		return pkg{}, errors.New("too short")
	}
	il, dl := int(binary.BigEndian.Uint32(b)), int(binary.BigEndian.Uint32(b[4:]))
	if il < 0 || dl < 0 || il > 1<<16 || 8+16*il+dl > len(b) {
		return pkg{}, errors.New("a header larger than its record")
	}
	data := b[8+16*il : 8+16*il+dl]
	var name, version, release, epoch string
	for i := range il {
		e := b[8+16*i:]
		tag, typ, off := binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:]), int(binary.BigEndian.Uint32(e[8:]))
		if off < 0 || off >= len(data) {
			continue
		}
		switch {
		case typ == rpmTypeString && (tag == rpmTagName || tag == rpmTagVersion || tag == rpmTagRelease):
			s, _, _ := strings.Cut(string(data[off:]), "\x00")
			switch tag {
			case rpmTagName:
				name = s
			case rpmTagVersion:
				version = s
			case rpmTagRelease:
				release = s
			}
		case typ == rpmTypeInt32 && tag == rpmTagEpoch && off+4 <= len(data):
			epoch = strconv.FormatUint(uint64(binary.BigEndian.Uint32(data[off:])), 10)
		}
	}
	if name == "" || version == "" {
		return pkg{}, errors.New("no name or version")
	}
	evr := version + "-" + release
	if epoch != "" && epoch != "0" {
		evr = epoch + ":" + evr
	}
	return pkg{name: name, version: evr, source: name, sourceVersion: evr, manager: "rpm"}, nil
}

// compareRPM orders rpm versions, [epoch:]version-release, as rpm does:
// the epochs as numbers, then version and release by rpmvercmp.
func compareRPM(a, b string) int {
	ea, va, ra := splitRPM(a)
	eb, vb, rb := splitRPM(b)
	if ea != eb {
		return ea - eb
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	return rpmvercmp(ra, rb)
}

func splitRPM(v string) (int, string, string) {
	epoch := 0
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, _ = strconv.Atoi(v[:i])
		v = v[i+1:]
	}
	ver, rel, _ := strings.Cut(v, "-")
	return epoch, ver, rel
}

func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// rpmvercmp compares runs of digits (as numbers) and of letters (as
// strings), separators ignored; '~' sorts before anything, even the end,
// '^' after the end but before anything else.
func rpmvercmp(a, b string) int {
	for a != "" || b != "" {
		for a != "" && !isAlnum(a[0]) && a[0] != '~' && a[0] != '^' {
			a = a[1:]
		}
		for b != "" && !isAlnum(b[0]) && b[0] != '~' && b[0] != '^' {
			b = b[1:]
		}
		switch {
		case strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~"):
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		case strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^"):
			switch {
			case a == "":
				return -1
			case b == "":
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		digits := isDigit(a[0])
		run := func(s string) (string, string) {
			i := 0
			for i < len(s) && (digits && isDigit(s[i]) || !digits && isAlnum(s[i]) && !isDigit(s[i])) {
				i++
			}
			return s[:i], s[i:]
		}
		var x, y string
		x, a = run(a)
		y, b = run(b)
		if y == "" {
			// A number against letters: the number is newer.
			if digits {
				return 1
			}
			return -1
		}
		if digits {
			x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				return len(x) - len(y)
			}
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
