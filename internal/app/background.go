package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ecrd/ecrd/internal/lifecycle"
	"github.com/ecrd/ecrd/internal/registry"
)

// reapUploads expires idle uploads now and then, reclaiming their bytes.
func (a *App) reapUploads(ctx context.Context) {
	every := min(a.cfg.Uploads.Expiry/4, 10*time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := a.reg.ExpireUploads(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("expiring idle uploads", "err", err)
		} else if n > 0 {
			a.log.Info("expired idle uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// every calls fn every interval until ctx is done (never when interval is
// 0), and logs what it returns: skip (another process or replica is at
// it) at info, anything else at error.
func (a *App) every(ctx context.Context, interval time.Duration, what string, skip error, fn func() error) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := fn()
		switch {
		case errors.Is(err, skip):
			a.log.Info(what + " skipped: another process or replica is at it")
		case err != nil && ctx.Err() == nil:
			a.log.Error(what, "err", err)
		}
	}
}

// collectGarbage runs a collection every GC interval (none when it is 0).
func (a *App) collectGarbage(ctx context.Context) {
	a.every(ctx, a.cfg.Images.GCInterval, "collecting garbage", registry.ErrCollectionRunning, func() error {
		_, err := a.CollectGarbage(ctx)
		return err
	})
}

// CollectGarbage runs one collection with the configured grace period and
// logs what it removed; `ecrd gc` calls it too.
func (a *App) CollectGarbage(ctx context.Context) (registry.GCStats, error) {
	st, err := a.reg.CollectGarbage(ctx, a.cfg.Images.GCGrace)
	switch {
	case err == nil:
		a.metrics.GC("ok", st.Layers, st.Blobs, st.Bytes, time.Now())
		a.log.Info("garbage collected", "layers", st.Layers, "blobs", st.Blobs, "bytes", st.Bytes, "grace", a.cfg.Images.GCGrace.String())
	case errors.Is(err, registry.ErrCollectionRunning):
		a.metrics.GC("skipped", 0, 0, 0, time.Now())
	default:
		a.metrics.GC("failed", 0, 0, 0, time.Now())
	}
	return st, err
}

// clearSpool removes spool files a crashed process left behind. Spooled
// bodies are unlinked as soon as they are created, so only a crash in
// between leaves one; files younger than a minute may be another live
// process's on the same data dir (ecrd gc beside ecrd serve), and stay.
func clearSpool(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("reading the request spool", "dir", dir, "err", err)
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < time.Minute {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			log.Warn("removing a stale request spool file", "file", e.Name(), "err", err)
		}
	}
}

// applyLifecycle applies the repositories' lifecycle policies every
// lifecycle interval (never when it is 0), each repository at most about
// once an interval across the replicas: a pass that stopped half way
// resumes with the repositories it did not reach.
func (a *App) applyLifecycle(ctx context.Context) {
	every := a.cfg.Lifecycle.Interval
	a.every(ctx, every, "applying lifecycle policies", lifecycle.ErrRunning, func() error {
		_, err := a.RunLifecycle(ctx, lifecycle.RunOptions{EvaluatedBefore: a.reg.Now().Add(-every / 2)})
		return err
	})
}

// RunLifecycle applies every repository's lifecycle policy once and logs
// what it did; `ecrd lifecycle run` calls it too.
func (a *App) RunLifecycle(ctx context.Context, o lifecycle.RunOptions) (lifecycle.RunStats, error) {
	st, err := a.lifecycle.Run(ctx, o)
	if err == nil {
		a.log.Info("lifecycle policies applied", "repositories", st.Repositories, "expired", st.Expired,
			"archived", st.Archived, "changed_since_evaluated", st.Skipped, "failed_repositories", st.FailedRepositories)
	}
	return st, err
}

// startBackground starts the background work (the upload reaper,
// collection, lifecycle runs, replication) and returns what stops it and
// waits for it.
func (a *App) startBackground(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){a.reapUploads, a.collectGarbage, a.applyLifecycle, a.replicate, a.scanImages, a.signImages} {
		wg.Go(func() { run(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

// scanImages makes the due scans every scan interval (never when it is
// 0); scanners share the work by claims.
func (a *App) scanImages(ctx context.Context) {
	a.every(ctx, a.cfg.Scan.Interval, "scanning images", errNeverSkipped, func() error {
		a.scanner.RunOnce(ctx) // it logs its failures itself
		return nil
	})
}

// ScanImages makes every scan due now (tests call it rather than wait
// for the interval) and returns how many it made.
func (a *App) ScanImages(ctx context.Context) int { return a.scanner.RunOnce(ctx) }

// signImages makes the due signings every signing interval (never when
// it is 0); signers share the work by claims.
func (a *App) signImages(ctx context.Context) {
	a.every(ctx, a.cfg.Signing.Interval, "signing images", errNeverSkipped, func() error {
		a.signer.RunOnce(ctx) // it logs its failures itself
		return nil
	})
}

// SignImages makes every signing due now (tests call it rather than wait
// for the interval) and returns how many it attempted.
func (a *App) SignImages(ctx context.Context) int { return a.signer.RunOnce(ctx) }
