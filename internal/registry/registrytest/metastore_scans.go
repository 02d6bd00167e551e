package registrytest

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// testImageScans: a registry's scanning configuration round-trips; an
// image's scan is kept with its findings (nil findings keep those
// stored), is ErrNotFound for an image that does not exist, is due while
// pending or, continuous, while of another database version, and goes
// with its image.
func testImageScans(t *testing.T, s registry.MetaStore) {
	cfg := registry.ScanningConfig{ScanType: registry.ScanTypeEnhanced, Rules: []registry.ScanningRule{
		{Frequency: registry.ScanContinuous, Filters: []string{"prod*", "team"}}, {Frequency: registry.ScanOnPush, Filters: []string{"*"}}}}
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.ScanningConfig(metaRegA)
		if err != nil || !reflect.DeepEqual(got, registry.ScanningConfig{}) {
			t.Errorf("a fresh registry's ScanningConfig = %+v, %v", got, err)
		}
		return nil
	})
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutScanningConfig(metaRegA, cfg) })
	metaView(t, s, func(tx registry.Tx) error {
		got, err := tx.ScanningConfig(metaRegA)
		if err != nil || !reflect.DeepEqual(got, cfg) {
			t.Errorf("ScanningConfig = %+v, %v; want %+v", got, err, cfg)
		}
		if other, err := tx.ScanningConfig(metaRegB); err != nil || other.ScanType != "" {
			t.Errorf("another registry's ScanningConfig = %+v, %v", other, err)
		}
		return nil
	})

	key := metaKey(metaRegA, "scanned")
	metaCreateRepos(t, s, key)
	one, two := metaImage("one"), metaImage("two")
	metaPutImages(t, s, key, one, two)
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	findings := []registry.Finding{{Name: "CVE-1", Severity: "HIGH", Package: "openssl", Version: "1", CVSS: []registry.CVSSScore{{Version: "3.1", Vector: "CVSS:3.1/AV:N", Score: 9.8}}}}
	pending := registry.ImageScan{Key: key, Digest: one.Digest, Status: registry.ScanInProgress, Pending: true, RequestedAt: at, NextAttempt: at, UpdatedAt: at, Counts: map[string]int{}}
	done := registry.ImageScan{Key: key, Digest: two.Digest, Status: registry.ScanActive, Description: "d", Enhanced: true, Continuous: true,
		RequestedAt: at, CompletedAt: at.Add(time.Minute), SourceUpdatedAt: at.Add(-time.Hour), SourceVersion: "v1",
		Counts: map[string]int{"HIGH": 1}, Attempts: 0, NextAttempt: at.Add(time.Minute), UpdatedAt: at.Add(time.Minute)}
	err := s.Update(t.Context(), func(tx registry.Tx) error {
		return tx.PutImageScan(registry.ImageScan{Key: key, Digest: metaDigest("missing"), Status: registry.ScanInProgress}, nil)
	})
	metaWantErr(t, "PutImageScan of a missing image", err, registry.ErrNotFound)
	metaUpdate(t, s, func(tx registry.Tx) error {
		if err := tx.PutImageScan(pending, []registry.Finding{}); err != nil {
			return err
		}
		return tx.PutImageScan(done, findings)
	})
	check := func(want registry.ImageScan, wantFindings []registry.Finding) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.ImageScan(key, want.Digest)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ImageScan = %+v, %v\nwant %+v", got, err, want)
			}
			f, err := tx.ImageScanFindings(key, want.Digest)
			if err != nil || len(f) != len(wantFindings) || (len(f) > 0 && !reflect.DeepEqual(f, wantFindings)) {
				t.Errorf("ImageScanFindings = %+v, %v; want %+v", f, err, wantFindings)
			}
			return nil
		})
	}
	check(pending, nil)
	check(done, findings)
	// A claim rewrites the scan and keeps its findings.
	claimed := done
	claimed.NextAttempt, claimed.UpdatedAt = at.Add(time.Hour), at.Add(2*time.Minute)
	metaUpdate(t, s, func(tx registry.Tx) error { return tx.PutImageScan(claimed, nil) })
	check(claimed, findings)

	due := func(now time.Time, version string, want ...registry.Digest) {
		t.Helper()
		metaView(t, s, func(tx registry.Tx) error {
			got, err := tx.DueImageScans(now, version, 10)
			var ds []registry.Digest
			for _, g := range got {
				ds = append(ds, g.Digest)
			}
			if err != nil || !reflect.DeepEqual(ds, want) {
				t.Errorf("DueImageScans(%s, %q) = %v, %v; want %v", now, version, ds, err, want)
			}
			return nil
		})
	}
	due(at.Add(-time.Second), "v2")
	due(at, "v1", one.Digest)
	due(at.Add(2*time.Hour), "v1", one.Digest)
	due(at.Add(2*time.Hour), "v2", one.Digest, two.Digest)

	metaUpdate(t, s, func(tx registry.Tx) error { return tx.DeleteImage(key, two.Digest) })
	metaView(t, s, func(tx registry.Tx) error {
		_, err := tx.ImageScan(key, two.Digest)
		metaWantErr(t, "the scan of a deleted image", err, registry.ErrNotFound)
		return nil
	})
}
