package registry

import "context"

// Layer availability, as BatchCheckLayerAvailability reports it.
const (
	// LayerAvailable: the repository holds the layer and it can be pulled.
	LayerAvailable = "AVAILABLE"
	// LayerUnavailable: the repository knows the layer but cannot serve it.
	LayerUnavailable = "UNAVAILABLE"
	// LayerArchived: only archived images of the repository refer to it.
	LayerArchived = "ARCHIVED"
)

// Per-digest failure codes of BatchCheckLayerAvailability.
const (
	FailureInvalidLayerDigest = "InvalidLayerDigest"
	FailureMissingLayerDigest = "MissingLayerDigest"
)

// LayerCheck is the answer for one requested digest: either Layer with its
// Availability, or a FailureCode with a FailureReason.
type LayerCheck struct {
	// Digest is the digest as the client sent it.
	Digest        string
	Layer         Layer
	Availability  string
	FailureCode   string
	FailureReason string
}

// CheckLayers answers, for each digest in request order, whether the
// repository holds that layer. Duplicates are answered once per occurrence.
// It reads the metadata store directly: an answer from a cache that outlived
// a deletion would make a client skip an upload the registry needs (the
// distribution blob-descriptor-cache bug).
// Errors: RepositoryNotFound.
func (r *Registry) CheckLayers(ctx context.Context, key RepoKey, digests []string) ([]LayerCheck, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	return r.checkLayers(ctx, key, digests)
}

// checkLayers is CheckLayers for a resolved key.
func (r *Registry) checkLayers(ctx context.Context, key RepoKey, digests []string) ([]LayerCheck, error) {
	out := make([]LayerCheck, len(digests))
	valid := make([]Digest, 0, len(digests))
	for i, s := range digests {
		out[i].Digest = s
		d, err := ParseDigest(s)
		if err != nil {
			out[i].FailureCode = FailureInvalidLayerDigest
			out[i].FailureReason = "Invalid layer digest: " + err.Error()
			continue
		}
		valid = append(valid, d)
	}
	var held map[Digest]HeldLayer
	err := r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "BatchCheckLayerAvailability", key); err != nil {
			return err
		}
		var err error
		held, err = tx.HeldLayers(key, valid, r.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].FailureCode != "" {
			continue
		}
		h, ok := held[Digest(out[i].Digest)]
		if !ok {
			out[i].FailureCode = FailureMissingLayerDigest
			out[i].FailureReason = "The layer with this digest has not been uploaded to the repository '" + string(key.Name) + "'"
			continue
		}
		out[i].Layer = h.Layer
		out[i].Availability = availability(h.Use)
	}
	return out, nil
}

// availability decides a held layer's status from the most available of
// the images that refer to it (Tx.LayerRefs): AVAILABLE while any active
// image refers to it, or none does (a completed upload waiting for its
// manifest); UNAVAILABLE while the only images that could make it
// available are being restored; ARCHIVED when every image that refers to
// it is archived.
func availability(use string) string {
	switch use {
	case "", ImageActive:
		return LayerAvailable
	case ImageActivating:
		return LayerUnavailable
	}
	return LayerArchived
}
