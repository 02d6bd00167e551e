package registry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// streamOnly is a blob store whose bytes do not seek, as an S3 object
// body does not: Open hands out a plain reader. It counts the opens, can
// cut a body off after cut bytes, and can fail the opens after the first.
type streamOnly struct {
	registry.BlobStore
	opens     []int64 // the offsets opened
	cut       int
	failAfter int
}

func (s *streamOnly) Open(ctx context.Context, d registry.Digest, offset int64) (io.ReadCloser, error) {
	s.opens = append(s.opens, offset)
	if s.failAfter > 0 && len(s.opens) > s.failAfter {
		return nil, errors.New("injected: open fails")
	}
	rc, err := s.BlobStore.Open(ctx, d, offset)
	if err != nil {
		return nil, err
	}
	var r io.Reader = rc
	if s.cut > 0 {
		r = io.LimitReader(rc, int64(s.cut))
	}
	return struct {
		io.Reader
		io.Closer
	}{r, rc}, nil
}

// TestOpenBlobSeeks: over a store that cannot seek, OpenBlob's reader
// seeks all the same, reopening the blob only where a read needs another
// position, and a body the store cuts short is an error, never the end.
func TestOpenBlobSeeks(t *testing.T) {
	meta, blobs, _ := openStores(t)
	s := &streamOnly{BlobStore: blobs}
	r := registry.New(registry.Options{Meta: meta, Blobs: s, Region: "us-east-1", Limits: limits(), Now: newClock().Now})
	ctx := callerCtx()
	if _, err := r.CreateRepository(ctx, registry.NewRepository{Key: key("a/b")}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), 1000)
	pushLayer(t, r, "a/b", data)
	d := digest(data)

	s.opens = nil
	_, rc, err := r.OpenBlob(ctx, key("a/b"), d, 100)
	if err != nil {
		t.Fatal(err)
	}
	if end, err := rc.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("Seek to the end: %d, %v; want %d", end, err, len(data))
	}
	if _, err := rc.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 50)
	if _, err := io.ReadFull(rc, got); err != nil || !bytes.Equal(got, data[100:150]) {
		t.Fatalf("read at 100: %q, %v", got, err)
	}
	if len(s.opens) != 1 {
		t.Fatalf("opens %v: sizing and seeking back to where it was opened must not reopen", s.opens)
	}
	if _, err := rc.Seek(-10, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(rest, data[len(data)-10:]) {
		t.Fatalf("read of the last 10 bytes: %q, %v", rest, err)
	}
	if want := []int64{100, int64(len(data) - 10)}; len(s.opens) != 2 || s.opens[1] != want[1] {
		t.Fatalf("opens %v, want %v", s.opens, want)
	}
	if _, err := rc.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("Seek before the start succeeded")
	}
	rc.Close()

	// Cut short by the store: io.ReadAll must fail, not return part.
	s.cut = 1000
	_, rc, err = r.OpenBlob(ctx, key("a/b"), d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(rc); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a body cut after 1000 bytes read as %d bytes, %v; want io.ErrUnexpectedEOF", len(b), err)
	}
	rc.Close()

	// A reopen that fails fails the read.
	s.cut, s.failAfter, s.opens = 0, 1, nil
	_, rc, err = r.OpenBlob(ctx, key("a/b"), d, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc.Seek(5000, io.SeekStart)
	if _, err := rc.Read(got); err == nil || err.Error() != "injected: open fails" {
		t.Fatalf("read after a failing reopen: %v", err)
	}
	rc.Close()
}
