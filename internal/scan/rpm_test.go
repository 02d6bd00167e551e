package scan

import (
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// rpmHeaderBlob is a package header as rpm's database stores it, with
// the tags a scan reads (an epoch when not "").
func rpmHeaderBlob(name, epoch, version, release string) []byte {
	type entry struct {
		tag, typ uint32
		data     []byte
	}
	var entries []entry
	for _, e := range []struct {
		tag uint32
		s   string
	}{{rpmTagName, name}, {rpmTagVersion, version}, {rpmTagRelease, release}} {
		entries = append(entries, entry{e.tag, rpmTypeString, append([]byte(e.s), 0)})
	}
	if epoch != "" {
		var n uint32
		for _, c := range epoch {
			n = n*10 + uint32(c-'0')
		}
		entries = append(entries, entry{rpmTagEpoch, rpmTypeInt32, binary.BigEndian.AppendUint32(nil, n)})
	}
	var index, data []byte
	for _, e := range entries {
		for len(data)%4 != 0 && e.typ == rpmTypeInt32 {
			data = append(data, 0)
		}
		index = binary.BigEndian.AppendUint32(index, e.tag)
		index = binary.BigEndian.AppendUint32(index, e.typ)
		index = binary.BigEndian.AppendUint32(index, uint32(len(data)))
		index = binary.BigEndian.AppendUint32(index, 1)
		data = append(data, e.data...)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(entries)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	return append(append(out, index...), data...)
}

// RPMDB builds an rpmdb.sqlite holding the headers, as rpm's SQLite
// backend lays it out.
func RPMDB(t testing.TB, headers ...[]byte) []byte {
	path := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		if _, err := db.Exec(`INSERT INTO Packages (blob) VALUES (?)`, h); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRPMPackages(t *testing.T) {
	db := RPMDB(t, rpmHeaderBlob("openssl-libs", "1", "3.0.7", "24.el9"), rpmHeaderBlob("bash", "", "5.1.8", "6.el9_1"),
		rpmHeaderBlob("gpg-pubkey", "", "350d275d", "6279464b"))
	pkgs, err := rpmPackages(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].name != "openssl-libs" || pkgs[0].version != "1:3.0.7-24.el9" || pkgs[1].version != "5.1.8-6.el9_1" || pkgs[1].manager != "rpm" {
		t.Errorf("packages: %+v", pkgs)
	}
	if _, err := rpmPackages([]byte("not a database")); err == nil {
		t.Error("a broken database was read")
	}
	if _, err := rpmHeader([]byte{0, 0, 0, 9, 0, 0, 0, 1}); err == nil {
		t.Error("a header larger than its record was read")
	}
}

func TestCompareRPM(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0-1", "1.0-1", 0},
		{"1.0-1", "1.0-2", -1},
		{"1:1.0-1", "2.0-1", 1},
		{"3.0.7-24.el9", "3.0.7-25.el9_3", -1},
		{"1.0~rc1-1", "1.0-1", -1},
		{"1.0^git1-1", "1.0-1", 1},
		{"1.0^git1-1", "1.0.1-1", -1},
		{"1.10-1", "1.9-1", 1},
		{"1.0a-1", "1.0-1", 1},
		{"1.0.a-1", "1.0.1-1", -1},
		{"2.02-1", "2.2-1", 0},
		{"5.1.8-6.el9_1", "5.1.8-6.el9", 1},
	} {
		if got := sign(compareRPM(c.a, c.b)); got != c.want {
			t.Errorf("compareRPM(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := sign(compareRPM(c.b, c.a)); got != -c.want {
			t.Errorf("compareRPM(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}
