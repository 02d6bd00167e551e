package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

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

// collectGarbage runs a collection every GC interval (none when it is 0).
func (a *App) collectGarbage(ctx context.Context) {
	if a.cfg.Images.GCInterval <= 0 {
		return
	}
	t := time.NewTicker(a.cfg.Images.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := a.CollectGarbage(ctx)
		switch {
		case errors.Is(err, registry.ErrCollectionRunning):
			a.log.Info("garbage collection skipped: another process or replica is collecting")
		case err != nil && ctx.Err() == nil:
			a.log.Error("collecting garbage", "err", err)
		}
	}
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
