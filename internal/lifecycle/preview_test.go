package lifecycle

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/blobstore/fs"
	"github.com/ecrd/ecrd/internal/metastore/sqlite"
	"github.com/ecrd/ecrd/internal/registry"
)

// holders names this process "me" and takes every other holder but
// "dead" for alive.
type holders struct{}

func (holders) Self() string         { return "me" }
func (holders) Alive(id string) bool { return id != "dead" }

// gatedMeta makes a snapshot's Images wait for release, or fail with
// fail, once armed.
type gatedMeta struct {
	registry.MetaStore
	mu      sync.Mutex
	armed   bool
	entered chan struct{} // closed once a snapshot waits
	release chan struct{}
	fail    error
}

func (m *gatedMeta) arm(fail error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.armed, m.entered, m.release, m.fail = true, make(chan struct{}), make(chan struct{}), fail
}

func (m *gatedMeta) View(ctx context.Context, fn func(tx registry.Tx) error) error {
	return m.MetaStore.View(ctx, func(tx registry.Tx) error { return fn(gatedTx{Tx: tx, m: m}) })
}

type gatedTx struct {
	registry.Tx
	m *gatedMeta
}

func (t gatedTx) Images(key registry.RepoKey, q registry.ImageQuery) ([]registry.Image, error) {
	t.m.mu.Lock()
	armed, entered, release, fail := t.m.armed, t.m.entered, t.m.release, t.m.fail
	t.m.armed = false
	t.m.mu.Unlock()
	if armed {
		if fail != nil {
			return nil, fail
		}
		close(entered)
		<-release
	}
	return t.Tx.Images(key, q)
}

const testPolicy = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`

var testKey = registry.RepoKey{Registry: "123456789012", Name: "app"}

// newService returns a service over SQLite and files with a repository
// holding a policy, and the caller's context.
func newService(t *testing.T) (*Service, *gatedMeta, context.Context) {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := fs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	gm := &gatedMeta{MetaStore: meta}
	reg := registry.New(registry.Options{Meta: gm, Blobs: blobs, Holders: holders{}})
	s := New(reg, Options{})
	t.Cleanup(s.Close)
	ctx := registry.WithCaller(t.Context(), registry.AccountAdmin(testKey.Registry, "test"))
	if _, err := reg.CreateRepository(ctx, registry.NewRepository{Key: testKey}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutPolicy(ctx, testKey, testPolicy); err != nil {
		t.Fatal(err)
	}
	return s, gm, ctx
}

// wantCode asserts err is a domain error with code.
func wantCode(t *testing.T, what string, err error, code registry.Code) {
	t.Helper()
	var e *registry.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: %v; want %s", what, err, code)
	}
}

// awaitStatus polls the preview until its status is want.
func awaitStatus(t *testing.T, s *Service, ctx context.Context, want string) PreviewAnswer {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, a, err := s.Preview(ctx, testKey, PreviewQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Preview.Status == want {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("preview status %s, want %s", a.Preview.Status, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPreviewInProgress: while a preview computes, another start is
// refused and readers see IN_PROGRESS; once it completes, a new one
// starts.
func TestPreviewInProgress(t *testing.T) {
	s, gm, ctx := newService(t)
	gm.arm(nil)
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatal(err)
	}
	<-gm.entered
	_, _, err := s.StartPreview(ctx, testKey, "")
	wantCode(t, "a second start", err, registry.CodePreviewInProgress)
	if _, a, err := s.Preview(ctx, testKey, PreviewQuery{}); err != nil || a.Preview.Status != registry.PreviewInProgress || a.Results != nil {
		t.Fatalf("while computing: %+v, %v; want IN_PROGRESS without results", a, err)
	}
	close(gm.release)
	awaitStatus(t, s, ctx, registry.PreviewComplete)
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatalf("a start after completion: %v", err)
	}
	awaitStatus(t, s, ctx, registry.PreviewComplete)
}

// TestPreviewFails: a store failure while computing ends the preview
// FAILED, and a new one may start.
func TestPreviewFails(t *testing.T) {
	s, gm, ctx := newService(t)
	gm.arm(errors.New("injected read failure"))
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatal(err)
	}
	a := awaitStatus(t, s, ctx, registry.PreviewFailed)
	if !strings.Contains(a.Preview.Failure, "injected read failure") {
		t.Errorf("failure %q; want the cause", a.Preview.Failure)
	}
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatalf("a start after a failure: %v", err)
	}
	awaitStatus(t, s, ctx, registry.PreviewComplete)
}

// TestPreviewOfDeadProcess: a preview left in progress by a process that
// died reads as FAILED, and does not hold off a new one.
func TestPreviewOfDeadProcess(t *testing.T) {
	s, _, ctx := newService(t)
	err := s.reg.UpdateRepository(ctx, "StartLifecyclePolicyPreview", testKey, func(tx registry.Tx) error {
		return tx.PutLifecyclePreview(testKey, registry.LifecyclePreview{Status: registry.PreviewInProgress, Text: testPolicy, Holder: "dead", StartedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	a := awaitStatus(t, s, ctx, registry.PreviewFailed)
	if !strings.Contains(a.Preview.Failure, "stopped") {
		t.Errorf("failure %q; want the process's end named", a.Preview.Failure)
	}
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatalf("a start over a dead process's preview: %v", err)
	}
	awaitStatus(t, s, ctx, registry.PreviewComplete)
}

// TestPreviewStoppedByClose: closing the service ends a preview being
// computed as FAILED, not forever in progress.
func TestPreviewStoppedByClose(t *testing.T) {
	s, gm, ctx := newService(t)
	gm.arm(nil)
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatal(err)
	}
	<-gm.entered
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
		t.Fatal("Close returned while the preview was blocked in the store")
	case <-time.After(20 * time.Millisecond):
	}
	close(gm.release)
	<-done
	_, a, err := s.Preview(ctx, testKey, PreviewQuery{})
	if err != nil || a.Preview.Status != registry.PreviewFailed {
		t.Fatalf("after Close: %+v, %v; want FAILED", a.Preview, err)
	}
}

// TestPreviewExpires: a complete preview's results age out.
func TestPreviewExpires(t *testing.T) {
	s, _, ctx := newService(t)
	if _, _, err := s.StartPreview(ctx, testKey, ""); err != nil {
		t.Fatal(err)
	}
	awaitStatus(t, s, ctx, registry.PreviewComplete)
	s.retention = time.Nanosecond
	time.Sleep(time.Millisecond)
	if _, a, err := s.Preview(ctx, testKey, PreviewQuery{}); err != nil || a.Preview.Status != registry.PreviewExpired || a.Results != nil {
		t.Fatalf("after the retention: %+v, %v; want EXPIRED without results", a, err)
	}
}
