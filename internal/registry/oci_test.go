package registry_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func TestOCIUploads(t *testing.T) {
	r, _ := newRegistry(t, newClock())
	ctx := callerCtx()
	start := func() registry.UploadID {
		u, err := r.InitiateLayerUpload(ctx, key("a/b"))
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}

	t.Run("ChunkedAnySizeAndStreamed", func(t *testing.T) {
		id := start()
		data := []byte("tiny chunks are fine in OCI, unlike ECR's 5 MiB minimum")
		size, err := r.AppendUpload(ctx, key("a/b"), id, 0, 5, bytes.NewReader(data[:5]))
		if err != nil || size != 5 {
			t.Fatalf("first chunk: %d, %v", size, err)
		}
		// Streamed, length unknown.
		size, err = r.AppendUpload(ctx, key("a/b"), id, 5, -1, bytes.NewReader(data[5:]))
		if err != nil || size != int64(len(data)) {
			t.Fatalf("streamed chunk: %d, %v", size, err)
		}
		if u, err := r.UploadStatus(ctx, key("a/b"), id); err != nil || u.Size != int64(len(data)) {
			t.Fatalf("status: %+v, %v", u, err)
		}
		d, err := r.FinishUpload(ctx, key("a/b"), id, digest(data))
		if err != nil || string(d) != digest(data) {
			t.Fatalf("finish: %s, %v", d, err)
		}
		_, rc, err := r.OpenBlob(ctx, key("a/b"), digest(data), 5)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != string(data[5:]) {
			t.Fatalf("read back from 5: %q", got)
		}
		// Pushing it again is success, not LayerAlreadyExists.
		again := start()
		if _, err := r.AppendUpload(ctx, key("a/b"), again, 0, -1, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.FinishUpload(ctx, key("a/b"), again, digest(data)); err != nil {
			t.Fatalf("a second push of the same blob: %v", err)
		}
	})

	t.Run("OutOfOrder", func(t *testing.T) {
		id := start()
		if _, err := r.AppendUpload(ctx, key("a/b"), id, 0, 3, strings.NewReader("abc")); err != nil {
			t.Fatal(err)
		}
		_, err := r.AppendUpload(ctx, key("a/b"), id, 10, 3, strings.NewReader("def"))
		var de *registry.Error
		if !errors.As(err, &de) || de.Code != registry.CodeInvalidLayerPart || de.Upload.LastValidByte != 2 {
			t.Fatalf("out-of-order chunk: %v", err)
		}
	})

	t.Run("EmptyBlob", func(t *testing.T) {
		d, err := r.FinishUpload(ctx, key("a/b"), start(), digest(nil))
		if err != nil || string(d) != digest(nil) {
			t.Fatalf("empty blob: %s, %v", d, err)
		}
		if l, err := r.StatBlob(ctx, key("a/b"), digest(nil)); err != nil || l.Size != 0 {
			t.Fatalf("stat empty blob: %+v, %v", l, err)
		}
	})

	t.Run("DigestMismatchLeavesNothing", func(t *testing.T) {
		id := start()
		if _, err := r.AppendUpload(ctx, key("a/b"), id, 0, -1, strings.NewReader("real bytes")); err != nil {
			t.Fatal(err)
		}
		claimed := digest([]byte("other bytes"))
		if _, err := r.FinishUpload(ctx, key("a/b"), id, claimed); !registry.IsCode(err, registry.CodeInvalidLayer) {
			t.Fatalf("mismatch: %v", err)
		}
		for _, d := range []string{claimed, digest([]byte("real bytes"))} {
			if _, err := r.StatBlob(ctx, key("a/b"), d); !registry.IsCode(err, registry.CodeLayersNotFound) {
				t.Fatalf("blob %s after a refused finish: %v", d, err)
			}
		}
	})

	t.Run("Cancel", func(t *testing.T) {
		id := start()
		if err := r.CancelUpload(ctx, key("a/b"), id); err != nil {
			t.Fatal(err)
		}
		if _, err := r.UploadStatus(ctx, key("a/b"), id); !registry.IsCode(err, registry.CodeUploadNotFound) {
			t.Fatalf("status after cancel: %v", err)
		}
	})
}

func TestOCIMountTagsReferrersDelete(t *testing.T) {
	c := newClock()
	r, _ := newRegistry(t, c)
	ctx := callerCtx()
	if _, err := r.CreateRepository(ctx, registry.NewRepository{Key: key("c/d")}); err != nil {
		t.Fatal(err)
	}
	cfg := pushLayer(t, r, "a/b", []byte(`{"cfg":true}`))
	layer := pushLayer(t, r, "a/b", []byte("layer bytes"))

	// Mounting is off until the account setting turns it on (as in ECR).
	if _, err := r.MountBlob(ctx, key("c/d"), "a/b", string(layer)); !registry.IsCode(err, registry.CodeLayersNotFound) {
		t.Fatalf("mount with BLOB_MOUNTING DISABLED: %v, want LayersNotFound", err)
	}
	if err := r.PutAccountSetting(ctx, registry.SettingBlobMounting, "ENABLED"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.MountBlob(ctx, key("c/d"), "a/b", string(layer)); err != nil {
		t.Fatalf("mount: %v", err)
	}
	if _, err := r.StatBlob(ctx, key("c/d"), string(layer)); err != nil {
		t.Fatalf("mounted blob: %v", err)
	}
	if _, err := r.MountBlob(ctx, key("c/d"), "no/such", string(cfg)); !registry.IsCode(err, registry.CodeLayersNotFound) {
		t.Fatalf("mount from a missing repository: %v", err)
	}

	manifest := func(annotation string, subject registry.Digest) []byte {
		s := ""
		if subject != "" {
			s = fmt.Sprintf(`,"subject":{"mediaType":%q,"digest":%q,"size":1}`, registry.MediaTypeOCIManifest, subject)
		}
		return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":12},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":11}],"annotations":{"a":%q}%s}`,
			registry.MediaTypeOCIManifest, cfg, layer, annotation, s))
	}
	base, err := r.PutImage(ctx, registry.NewImage{Key: key("a/b"), Manifest: manifest("base", ""), Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	for i, tag := range []string{"v2", "v3", "latest"} {
		if _, err := r.PutImage(ctx, registry.NewImage{Key: key("a/b"), Manifest: manifest(fmt.Sprint("sig", i), base.Digest), Tag: tag}); err != nil {
			t.Fatal(err)
		}
	}
	tags, more, err := r.ListTags(ctx, key("a/b"), "", 2)
	if err != nil || !more || strings.Join(tags, ",") != "latest,v1" {
		t.Fatalf("first page: %v %v %v", tags, more, err)
	}
	tags, more, err = r.ListTags(ctx, key("a/b"), "v1", 2)
	if err != nil || more || strings.Join(tags, ",") != "v2,v3" {
		t.Fatalf("second page: %v %v %v", tags, more, err)
	}
	refs, err := r.Referrers(ctx, key("a/b"), base.Digest)
	if err != nil || len(refs) != 3 {
		t.Fatalf("referrers: %d, %v", len(refs), err)
	}

	if err := r.DeleteLayer(ctx, key("a/b"), string(layer)); !registry.IsCode(err, registry.CodeInvalidParameter) {
		t.Fatalf("deleting a blob images refer to: %v", err)
	}
	if err := r.DeleteLayer(ctx, key("c/d"), string(layer)); err != nil {
		t.Fatalf("deleting the mounted blob: %v", err)
	}
	if err := r.DeleteLayer(ctx, key("c/d"), string(layer)); !registry.IsCode(err, registry.CodeLayersNotFound) {
		t.Fatalf("deleting it twice: %v", err)
	}

	// Archived: not served.
	if _, err := r.UpdateImageStorageClass(ctx, key("a/b"), registry.ImageID{Tag: "v1"}, registry.StorageClassArchive); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v2", "v3", "latest"} {
		if _, err := r.UpdateImageStorageClass(ctx, key("a/b"), registry.ImageID{Tag: tag}, registry.StorageClassArchive); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.StatBlob(ctx, key("a/b"), string(layer)); !registry.IsCode(err, registry.CodeLayerInaccessible) {
		t.Fatalf("a blob only archived images refer to: %v", err)
	}
}
