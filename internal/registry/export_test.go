package registry

import "context"

// PinForTest pins d as a commit in progress would.
func (r *Registry) PinForTest(ctx context.Context, d Digest, size int64) error {
	return r.pinBlob(ctx, d, size)
}
