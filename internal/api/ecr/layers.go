package ecr

import (
	"bytes"
	"context"

	"github.com/ecrd/ecrd/internal/registry"
)

func (a *API) batchCheckLayerAvailability(ctx context.Context, in *batchCheckLayerAvailabilityInput) (*batchCheckLayerAvailabilityOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	checks, err := a.reg.CheckLayers(ctx, key, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	out := &batchCheckLayerAvailabilityOutput{Layers: []layer{}, Failures: []layerFailure{}}
	for _, c := range checks {
		if c.FailureCode != "" {
			out.Failures = append(out.Failures, layerFailure{LayerDigest: c.Digest, FailureCode: c.FailureCode, FailureReason: c.FailureReason})
			continue
		}
		out.Layers = append(out.Layers, layer{
			LayerDigest:       c.Digest,
			LayerAvailability: c.Availability,
			LayerSize:         c.Layer.Size,
			MediaType:         c.Layer.MediaType,
		})
	}
	return out, nil
}

func (a *API) initiateLayerUpload(ctx context.Context, in *initiateLayerUploadInput) (*initiateLayerUploadOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	u, err := a.reg.InitiateLayerUpload(ctx, key)
	if err != nil {
		return nil, err
	}
	return &initiateLayerUploadOutput{UploadID: string(u.ID), PartSize: a.reg.Limits().PartSize}, nil
}

func (a *API) uploadLayerPart(ctx context.Context, in *uploadLayerPartInput) (*uploadLayerPartOutput, error) {
	key, id, err := uploadRef(in.RegistryID, in.RepositoryName, in.UploadID)
	if err != nil {
		return nil, err
	}
	n := int64(len(in.LayerPartBlob))
	last, err := a.reg.UploadLayerPart(ctx, key, id, in.PartFirstByte, in.PartLastByte, n, bytes.NewReader(in.LayerPartBlob))
	if err != nil {
		return nil, err
	}
	return &uploadLayerPartOutput{
		RegistryID:       string(registry.Caller(ctx).Account),
		RepositoryName:   string(key.Name),
		UploadID:         string(id),
		LastByteReceived: last,
	}, nil
}

func (a *API) completeLayerUpload(ctx context.Context, in *completeLayerUploadInput) (*completeLayerUploadOutput, error) {
	key, id, err := uploadRef(in.RegistryID, in.RepositoryName, in.UploadID)
	if err != nil {
		return nil, err
	}
	d, err := a.reg.CompleteLayerUpload(ctx, key, id, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	return &completeLayerUploadOutput{
		RegistryID:     string(registry.Caller(ctx).Account),
		RepositoryName: string(key.Name),
		UploadID:       string(id),
		LayerDigest:    string(d),
	}, nil
}

// uploadRef parses the repository and upload ID that UploadLayerPart and
// CompleteLayerUpload carry.
func uploadRef(registryID, name, uploadID string) (registry.RepoKey, registry.UploadID, error) {
	key, err := repoKey(registryID, name)
	if err != nil {
		return key, "", err
	}
	id, err := registry.ParseUploadID(uploadID)
	return key, id, err
}
