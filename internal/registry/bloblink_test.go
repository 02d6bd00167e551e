package registry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// linker is a BlobLinker that answers with url or fails with err, and
// counts its calls: S3 presigning, with its failures injected.
type linker struct {
	url   string
	err   error
	calls int
}

func (l *linker) BlobURL(_ context.Context, d registry.Digest, expiry time.Duration) (string, error) {
	l.calls++
	if l.err != nil {
		return "", l.err
	}
	return fmt.Sprintf("%s/%s?expires=%d", l.url, d, int(expiry.Seconds())), nil
}

// TestLayerLink: with Options.Links, LayerLink and BlobLink answer with the
// store's URL, valid for DownloadURLLifetime, once the layer passes its
// checks (which fail without asking the store); a store that fails to make
// one fails the call (a StorageError stays one, and is counted), and never
// yields an empty URL. Without Links, there is no URL and no redirect.
func TestLayerLink(t *testing.T) {
	meta, blobs, _ := openStores(t)
	links := &linker{url: "https://bucket.example"}
	var failures []registry.StorageKind
	r := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: limits(), Links: links,
		OnStorageError: func(k registry.StorageKind) { failures = append(failures, k) }})
	plain := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: limits()})
	ctx := callerCtx()
	if _, err := r.CreateRepository(ctx, registry.NewRepository{Key: key("a/b")}); err != nil {
		t.Fatal(err)
	}
	loose := pushLayer(t, r, "a/b", []byte("loose layer"))
	cfg := pushLayer(t, r, "a/b", []byte(`{"config":1}`))
	used := pushLayer(t, r, "a/b", []byte("used layer"))
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":12},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":10}]}`,
		registry.MediaTypeOCIManifest, cfg, used)
	if _, err := r.PutImage(ctx, registry.NewImage{Key: key("a/b"), Manifest: []byte(manifest), Tag: "v1"}); err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprintf("https://bucket.example/%s?expires=%d", used, int(registry.DownloadURLLifetime.Seconds()))
	if l, u, err := r.LayerLink(ctx, key("a/b"), string(used)); err != nil || u != want || l.Digest != used {
		t.Errorf("LayerLink: %v, %q, %v; want %q", l.Digest, u, err, want)
	}
	if _, u, err := r.BlobLink(ctx, key("a/b"), string(used)); err != nil || u != want {
		t.Errorf("BlobLink: %q, %v; want %q", u, err, want)
	}
	if !r.Redirects() || plain.Redirects() {
		t.Errorf("Redirects: %v with Links, %v without", r.Redirects(), plain.Redirects())
	}
	if _, u, err := plain.LayerLink(ctx, key("a/b"), string(used)); err != nil || u != "" {
		t.Errorf("LayerLink without Links: %q, %v; want no URL, no error", u, err)
	}

	links.calls = 0
	if _, _, err := r.LayerLink(ctx, key("a/b"), string(loose)); !registry.IsCode(err, registry.CodeLayerInaccessible) {
		t.Errorf("LayerLink of a layer no image refers to: %v, want LayerInaccessible", err)
	}
	if _, _, err := r.BlobLink(ctx, key("a/b"), digest([]byte("absent"))); !registry.IsCode(err, registry.CodeLayersNotFound) {
		t.Errorf("BlobLink of an absent blob: %v, want LayersNotFound", err)
	}
	if links.calls != 0 {
		t.Errorf("the store was asked for %d URLs of layers that failed their checks", links.calls)
	}

	for _, fail := range []error{
		&registry.StorageError{Kind: registry.StorageIO, Store: "blob store", Path: "s3://bucket/", Free: -1, Err: errors.New("no credentials")},
		errors.New("presigning failed"),
	} {
		links.err = fail
		_, u, err := r.LayerLink(ctx, key("a/b"), string(used))
		if err == nil || u != "" || !errors.Is(err, fail) {
			t.Errorf("LayerLink with the store failing (%v): %q, %v; want its error", fail, u, err)
		}
	}
	if len(failures) != 1 || failures[0] != registry.StorageIO {
		t.Errorf("storage failures counted: %v, want one I/O error", failures)
	}
	links.err, links.url = nil, ""
	empty := &emptyLinker{}
	r2 := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: limits(), Links: empty})
	if _, u, err := r2.LayerLink(ctx, key("a/b"), string(used)); err == nil {
		t.Errorf("LayerLink with the store making an empty URL: %q, no error", u)
	}
}

type emptyLinker struct{}

func (emptyLinker) BlobURL(context.Context, registry.Digest, time.Duration) (string, error) {
	return "", nil
}
