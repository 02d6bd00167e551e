package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/iam"
	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
)

const account = registry.RegistryID("123456789012")

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func callerCtx() context.Context {
	return registry.WithCaller(context.Background(), registry.AccountAdmin(account, "test"))
}
func key(name string) registry.RepoKey { return registry.RepoKey{Name: registry.RepositoryName(name)} }
func digest(b []byte) string           { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
func part(n int, fill byte) []byte     { return bytes.Repeat([]byte{fill}, n) }
func limits() registry.Limits          { l := registry.DefaultLimits(); l.MinPartSize = 10; return l }
func dirEntries(t *testing.T, d string) int {
	t.Helper()
	es, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// openStores opens the real stores in a temp dir, closed with the test.
func openStores(tb testing.TB) (*sqlite.Store, *fs.Store, string) {
	tb.Helper()
	dir := tb.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { meta.Close() })
	blobs, err := fs.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return meta, blobs, dir
}

// newRegistry returns a core over real stores in a temp dir.
func newRegistry(t *testing.T, c *clock) (*registry.Registry, string) {
	t.Helper()
	meta, blobs, dir := openStores(t)
	r := registry.New(registry.Options{Meta: meta, Blobs: blobs, Region: "us-east-1", Limits: limits(), Now: c.Now})
	if _, err := r.CreateRepository(callerCtx(), registry.NewRepository{Key: key("a/b")}); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func TestExpireUploads(t *testing.T) {
	c := newClock()
	r, dir := newRegistry(t, c)
	ctx := callerCtx()
	idle, err := r.InitiateLayerUpload(ctx, key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UploadLayerPart(ctx, key("a/b"), idle.ID, 0, 99, 100, bytes.NewReader(part(100, 1))); err != nil {
		t.Fatal(err)
	}
	c.Add(23 * time.Hour)
	busy, err := r.InitiateLayerUpload(ctx, key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UploadLayerPart(ctx, key("a/b"), busy.ID, 0, 99, 100, bytes.NewReader(part(100, 2))); err != nil {
		t.Fatal(err)
	}
	c.Add(2 * time.Hour) // idle is 25h old, busy 2h

	// An expired upload is gone for clients at once, before any reaping.
	_, err = r.UploadLayerPart(ctx, key("a/b"), idle.ID, 100, 199, 100, bytes.NewReader(part(100, 1)))
	if !registry.IsCode(err, registry.CodeUploadNotFound) {
		t.Fatalf("part on an expired upload: %v, want UploadNotFound", err)
	}
	n, err := r.ExpireUploads(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireUploads = %d, %v; want 1", n, err)
	}
	if got := dirEntries(t, filepath.Join(dir, "uploads")); got != 1 {
		t.Fatalf("%d upload dirs remain, want only the live one", got)
	}
	// The live upload is untouched and completes.
	if _, err := r.CompleteLayerUpload(ctx, key("a/b"), busy.ID, []string{digest(part(100, 2))}); err != nil {
		t.Fatal(err)
	}
	if n, err := r.ExpireUploads(ctx); err != nil || n != 0 {
		t.Fatalf("second ExpireUploads = %d, %v; want 0", n, err)
	}
}

// TestConcurrentParts: two requests racing to write the same part of one
// upload never both count; the upload ends with exactly the bytes of the
// accepted parts and the right digest.
func TestConcurrentParts(t *testing.T) {
	c := newClock()
	r, _ := newRegistry(t, c)
	ctx := callerCtx()
	u, err := r.InitiateLayerUpload(ctx, key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	accepted := make(chan byte, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(fill byte) {
			defer wg.Done()
			if _, err := r.UploadLayerPart(ctx, key("a/b"), u.ID, 0, 1<<20-1, 1<<20, bytes.NewReader(part(1<<20, fill))); err == nil {
				accepted <- fill
			} else if !registry.IsCode(err, registry.CodeInvalidLayerPart) {
				t.Errorf("losing writer got %v, want InvalidLayerPart", err)
			}
		}(byte(i + 1))
	}
	wg.Wait()
	close(accepted)
	var won []byte
	for f := range accepted {
		won = append(won, f)
	}
	if len(won) != 1 {
		t.Fatalf("%d writers accepted for the same part, want exactly 1", len(won))
	}
	d, err := r.CompleteLayerUpload(ctx, key("a/b"), u.ID, []string{digest(part(1<<20, won[0]))})
	if err != nil {
		t.Fatalf("completing with the winner's digest: %v", err)
	}
	checks, err := r.CheckLayers(ctx, key("a/b"), []string{string(d)})
	if err != nil || checks[0].Availability != registry.LayerAvailable {
		t.Fatalf("CheckLayers: %+v, %v", checks, err)
	}
}

// TestFailedPartChangesNothing: a part whose body breaks off midway is not
// counted, and the same part can be sent again at once.
func TestFailedPartChangesNothing(t *testing.T) {
	c := newClock()
	r, _ := newRegistry(t, c)
	ctx := callerCtx()
	u, err := r.InitiateLayerUpload(ctx, key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	short := bytes.NewReader(part(50, 9)) // claims 100 bytes, has 50
	if _, err := r.UploadLayerPart(ctx, key("a/b"), u.ID, 0, 99, 100, short); err == nil {
		t.Fatal("a part with missing bytes was accepted")
	}
	if _, err := r.UploadLayerPart(ctx, key("a/b"), u.ID, 0, 99, 100, bytes.NewReader(part(100, 3))); err != nil {
		t.Fatalf("retrying the part: %v", err)
	}
	if _, err := r.CompleteLayerUpload(ctx, key("a/b"), u.ID, []string{digest(part(100, 3))}); err != nil {
		t.Fatal(err)
	}
}

// TestCallerScope: no operation reaches another account's registry
// without a resource policy that allows it, and the refusal, AWS's, is
// the same whether the repository exists or not.
func TestCallerScope(t *testing.T) {
	r, _ := newRegistry(t, newClock())
	other := registry.RepoKey{Registry: "999999999999", Name: "a/b"}
	ctx := callerCtx()
	denied := func(action string) string {
		return "User: arn:aws:iam::123456789012:user/test is not authorized to perform: ecr:" + action +
			" on resource: arn:aws:ecr:us-east-1:999999999999:repository/a/b because no resource-based policy allows the ecr:" + action + " action"
	}
	for _, c := range []struct {
		action string
		call   func() error
	}{
		{"BatchCheckLayerAvailability", func() error { _, err := r.CheckLayers(ctx, other, []string{digest(nil)}); return err }},
		{"InitiateLayerUpload", func() error { _, err := r.InitiateLayerUpload(ctx, other); return err }},
		{"DeleteRepository", func() error { _, err := r.DeleteRepository(ctx, other, true); return err }},
	} {
		var de *registry.Error
		if err := c.call(); !errors.As(err, &de) || de.Code != registry.CodeAccessDenied || de.Message != denied(c.action) {
			t.Errorf("%s: %v, want AccessDenied %q", c.action, err, denied(c.action))
		}
	}
	if _, err := r.CheckLayers(context.Background(), key("a/b"), nil); err == nil {
		t.Error("a request without a caller was served")
	}
}

// TestReadOnly: a read-only principal reads, and every write is refused
// with AWS's AccessDenied message, changing nothing.
func TestReadOnly(t *testing.T) {
	r, _ := newRegistry(t, newClock())
	ro := registry.WithCaller(context.Background(), registry.Principal{Account: account, AccessKeyID: "AKIDREAD", Policies: []iam.Policy{iam.ReadOnlyPolicy()}})
	if _, err := r.CheckLayers(ro, key("a/b"), []string{digest(nil)}); err != nil {
		t.Fatalf("read: %v", err)
	}
	if _, err := r.DescribeRepositories(ro, "", []registry.RepositoryName{"a/b"}); err != nil {
		t.Fatalf("read: %v", err)
	}
	u, err := r.InitiateLayerUpload(callerCtx(), key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	writes := map[string]func() error{
		"CreateRepository": func() error {
			_, err := r.CreateRepository(ro, registry.NewRepository{Key: key("c/d")})
			return err
		},
		"DeleteRepository":    func() error { _, err := r.DeleteRepository(ro, key("a/b"), true); return err },
		"InitiateLayerUpload": func() error { _, err := r.InitiateLayerUpload(ro, key("a/b")); return err },
		"UploadLayerPart": func() error {
			_, err := r.UploadLayerPart(ro, key("a/b"), u.ID, 0, 0, 1, bytes.NewReader([]byte{1}))
			return err
		},
		"CompleteLayerUpload": func() error {
			_, err := r.CompleteLayerUpload(ro, key("a/b"), u.ID, []string{digest([]byte{1})})
			return err
		},
	}
	for action, write := range writes {
		err := write()
		want := "User: arn:aws:iam::" + string(account) + ":user/AKIDREAD is not authorized to perform: ecr:" + action + " on resource: arn:aws:ecr:us-east-1:" + string(account) + ":repository/"
		var de *registry.Error
		if !errors.As(err, &de) || de.Code != registry.CodeAccessDenied || !strings.HasPrefix(de.Message, want) {
			t.Errorf("%s: got %v, want AccessDenied starting %q", action, err, want)
		}
	}
	if _, err := r.DescribeRepositories(callerCtx(), "", []registry.RepositoryName{"a/b"}); err != nil {
		t.Fatalf("the repository is gone after refused writes: %v", err)
	}
}

// TestNoHoleAfterLostBytes: a part that would follow bytes the upload no
// longer has (its directory removed, as after a reap or a commit) is
// refused, and the upload goes: nothing of zeros is ever committed.
func TestNoHoleAfterLostBytes(t *testing.T) {
	r, dir := newRegistry(t, newClock())
	ctx := callerCtx()
	u, err := r.InitiateLayerUpload(ctx, key("a/b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UploadLayerPart(ctx, key("a/b"), u.ID, 0, 9, 10, bytes.NewReader(part(10, 'A'))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "uploads", string(u.ID))); err != nil {
		t.Fatal(err)
	}
	_, err = r.UploadLayerPart(ctx, key("a/b"), u.ID, 10, 19, 10, bytes.NewReader(part(10, 'B')))
	if !registry.IsCode(err, registry.CodeUploadNotFound) {
		t.Fatalf("a part after lost bytes: %v, want UploadNotFound", err)
	}
	whole := append(part(10, 'A'), part(10, 'B')...)
	if _, err := r.CompleteLayerUpload(ctx, key("a/b"), u.ID, []string{digest(whole)}); !registry.IsCode(err, registry.CodeUploadNotFound) {
		t.Fatalf("completing it: %v, want UploadNotFound", err)
	}
}

// TestRacingCompletesOfOneLayer: two uploads of the same bytes into one
// repository complete at once; one wins, the other is told the layer
// exists, and its upload is gone rather than left to grow a hole.
func TestRacingCompletesOfOneLayer(t *testing.T) {
	r, _ := newRegistry(t, newClock())
	ctx := callerCtx()
	data := part(1000, 'Z')
	ids := make([]registry.UploadID, 2)
	for i := range ids {
		u, err := r.InitiateLayerUpload(ctx, key("a/b"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.UploadLayerPart(ctx, key("a/b"), u.ID, 0, 999, 1000, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = r.CompleteLayerUpload(ctx, key("a/b"), id, []string{digest(data)})
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case registry.IsCode(err, registry.CodeLayerAlreadyExists):
			_, err := r.UploadLayerPart(ctx, key("a/b"), ids[i], 1000, 1009, 10, bytes.NewReader(part(10, 'Y')))
			if !registry.IsCode(err, registry.CodeUploadNotFound) {
				t.Fatalf("the losing upload still takes parts: %v", err)
			}
		default:
			t.Fatalf("complete %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d completes won, want 1 (errors %v)", won, errs)
	}
}
