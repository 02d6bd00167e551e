package app

import "github.com/ecrd/ecrd/internal/registry"

// links is the core's Options.Links: the blob store, when --blob-redirect
// asks for downloads to go to it and it can hand out URLs (config
// validation allows --blob-redirect only with --blob s3, which can).
// It takes the store as opened, not as a test may have wrapped it.
func (a *App) links(blobs registry.BlobStore) registry.BlobLinker {
	if !a.cfg.Store.BlobRedirect {
		return nil
	}
	l, _ := blobs.(registry.BlobLinker)
	return l
}
