package sqlite

import (
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestMigrateScale upgrades a database written at schema 10 (before the
// scale migration) and checks that what the new columns and indexes
// answer was derived from the old rows: image statuses copied into
// image_blobs, tagged flags from the tags, the tags kept.
func TestMigrateScale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:10] {
		if err := apply(t.Context(), db, m, len(ms)); err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
	}
	const reg, repo = "111111111111", "old/app"
	d := func(s string) string { return "sha256:" + s }
	layer, tagged, untagged, archived := d("layer"), d("tagged"), d("untagged"), d("archived")
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO repositories (registry_id, name, created_at, tag_mutability, scan_on_push, encryption_type, kms_key)
			VALUES (?, ?, 0, 'MUTABLE', 0, 'AES256', '')`, []any{reg, repo}},
		{`INSERT INTO images (registry_id, repo_name, digest, manifest, media_type, artifact_media_type, size, pushed_at, status, subject)
			VALUES (?, ?, ?, x'7b7d', '', '', 1, 0, 'ACTIVE', ''), (?, ?, ?, x'7b7d', '', '', 1, 0, 'ACTIVE', ''),
			(?, ?, ?, x'7b7d', '', '', 1, 0, 'ARCHIVED', '')`,
			[]any{reg, repo, tagged, reg, repo, untagged, reg, repo, archived}},
		{`INSERT INTO image_blobs (registry_id, repo_name, image_digest, position, blob_digest, media_type, size)
			VALUES (?, ?, ?, 0, ?, '', 1)`, []any{reg, repo, archived, layer}},
		{`INSERT INTO tags (registry_id, repo_name, tag, digest, created_at) VALUES (?, ?, 'v1', ?, 5), (?, ?, 'v2', ?, NULL)`,
			[]any{reg, repo, tagged, reg, repo, tagged}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	db.Close()

	s := openTemp(t, path)
	key := registry.RepoKey{Registry: reg, Name: repo}
	err = s.View(t.Context(), func(tx registry.Tx) error {
		refs, err := tx.LayerRefs(key, []registry.Digest{registry.Digest(layer)}, time.Now())
		if want := map[registry.Digest]string{registry.Digest(layer): registry.ImageArchived}; err != nil || !maps.Equal(refs, want) {
			t.Errorf("LayerRefs after the migration = %v, %v; want %v", refs, err, want)
		}
		for ts, want := range map[string][]string{registry.TagStatusTagged: {tagged}, registry.TagStatusUntagged: {archived, untagged}} {
			imgs, err := tx.Images(key, registry.ImageQuery{Limit: 10, TagStatus: ts})
			var got []string
			for _, img := range imgs {
				got = append(got, string(img.Digest))
			}
			if slices.Sort(want); err != nil || !slices.Equal(got, want) {
				t.Errorf("%s images after the migration = %v, %v; want %v", ts, got, err, want)
			}
		}
		tags, err := tx.Tags(key, "", 10)
		if err != nil || len(tags) != 2 || tags[0].Digest != registry.Digest(tagged) || !tags[0].CreatedAt.Equal(time.UnixMicro(5)) || !tags[1].CreatedAt.IsZero() {
			t.Errorf("Tags after the migration = %+v, %v; want v1 and v2 with their times", tags, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The deleted image's tags go with it, without a foreign key now.
	err = s.Update(t.Context(), func(tx registry.Tx) error { return tx.DeleteImage(key, registry.Digest(tagged)) })
	if err != nil {
		t.Fatal(err)
	}
	_ = s.View(t.Context(), func(tx registry.Tx) error {
		if tags, err := tx.Tags(key, "", 10); err != nil || len(tags) != 0 {
			t.Errorf("Tags after deleting their image = %+v, %v; want none", tags, err)
		}
		return nil
	})
}
