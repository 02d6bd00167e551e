package ecrshared

import (
	"bytes"
	"context"

	"github.com/ecrd/ecrd/internal/registry"
)

// Ops serves the layer and image operations of both APIs over the core.
type Ops struct {
	Reg *registry.Registry
	// Key resolves the registryId and repositoryName of a request.
	Key func(ctx context.Context, registryID, name string) (registry.RepoKey, error)
	// PushKey resolves them for the operations of the push path
	// (BatchCheckLayerAvailability, the layer upload, PutImage), where ECR
	// Public also names registries by alias; nil means Key.
	PushKey func(ctx context.Context, registryID, name string) (registry.RepoKey, error)
	// ARNKey resolves the resourceArn of the tag operations.
	ARNKey func(ctx context.Context, arn string) (registry.RepoKey, error)
	// Availability maps the core's layer availability to the API's enum;
	// nil keeps it.
	Availability func(string) string
}

func (o *Ops) pushKey(ctx context.Context, registryID, name string) (registry.RepoKey, error) {
	if o.PushKey != nil {
		return o.PushKey(ctx, registryID, name)
	}
	return o.Key(ctx, registryID, name)
}

// registryID is the registryId a response reports: the account that owns
// the repository's registry.
func registryID(ctx context.Context, key registry.RepoKey) string {
	if key.Registry == "" {
		return string(registry.Caller(ctx).Account)
	}
	return string(key.Registry.Account())
}

func (o *Ops) BatchCheckLayerAvailability(ctx context.Context, in *BatchCheckLayerAvailabilityInput) (*BatchCheckLayerAvailabilityOutput, error) {
	key, err := o.pushKey(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	checks, err := o.Reg.CheckLayers(ctx, key, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	out := &BatchCheckLayerAvailabilityOutput{Layers: []Layer{}, Failures: []LayerFailure{}}
	for _, c := range checks {
		if c.FailureCode != "" {
			out.Failures = append(out.Failures, LayerFailure{LayerDigest: c.Digest, FailureCode: c.FailureCode, FailureReason: c.FailureReason})
			continue
		}
		availability := c.Availability
		if o.Availability != nil {
			availability = o.Availability(availability)
		}
		out.Layers = append(out.Layers, Layer{
			LayerDigest:       c.Digest,
			LayerAvailability: availability,
			LayerSize:         c.Layer.Size,
			MediaType:         c.Layer.MediaType,
		})
	}
	return out, nil
}

func (o *Ops) InitiateLayerUpload(ctx context.Context, in *InitiateLayerUploadInput) (*InitiateLayerUploadOutput, error) {
	key, err := o.pushKey(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	var u registry.Upload
	err = o.Reg.CreatingOnPush(ctx, key, func() (err error) {
		u, err = o.Reg.InitiateLayerUpload(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &InitiateLayerUploadOutput{UploadID: string(u.ID), PartSize: o.Reg.Limits().PartSize}, nil
}

func (o *Ops) UploadLayerPart(ctx context.Context, in *UploadLayerPartInput) (*UploadLayerPartOutput, error) {
	key, id, err := o.uploadRef(ctx, in.RegistryID, in.RepositoryName, in.UploadID)
	if err != nil {
		return nil, err
	}
	n := int64(len(in.LayerPartBlob))
	last, err := o.Reg.UploadLayerPart(ctx, key, id, in.PartFirstByte, in.PartLastByte, n, bytes.NewReader(in.LayerPartBlob))
	if err != nil {
		return nil, err
	}
	return &UploadLayerPartOutput{
		RegistryID:       registryID(ctx, key),
		RepositoryName:   string(key.Name),
		UploadID:         string(id),
		LastByteReceived: last,
	}, nil
}

func (o *Ops) CompleteLayerUpload(ctx context.Context, in *CompleteLayerUploadInput) (*CompleteLayerUploadOutput, error) {
	key, id, err := o.uploadRef(ctx, in.RegistryID, in.RepositoryName, in.UploadID)
	if err != nil {
		return nil, err
	}
	d, err := o.Reg.CompleteLayerUpload(ctx, key, id, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	return &CompleteLayerUploadOutput{
		RegistryID:     registryID(ctx, key),
		RepositoryName: string(key.Name),
		UploadID:       string(id),
		LayerDigest:    string(d),
	}, nil
}

// uploadRef parses the repository and upload ID that UploadLayerPart and
// CompleteLayerUpload carry.
func (o *Ops) uploadRef(ctx context.Context, registryID, name, uploadID string) (registry.RepoKey, registry.UploadID, error) {
	key, err := o.pushKey(ctx, registryID, name)
	if err != nil {
		return key, "", err
	}
	id, err := registry.ParseUploadID(uploadID)
	return key, id, err
}

func (o *Ops) PutImage(ctx context.Context, in *PutImageInput) (*PutImageOutput, error) {
	key, err := o.pushKey(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	var img registry.Image
	err = o.Reg.CreatingOnPush(ctx, key, func() (err error) {
		img, err = o.Reg.PutImage(ctx, registry.NewImage{
			Key:       key,
			Manifest:  []byte(in.ImageManifest),
			MediaType: in.ImageManifestMediaType,
			Tag:       in.ImageTag,
			Digest:    in.ImageDigest,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	id := registry.ImageID{Digest: string(img.Digest), Tag: in.ImageTag}
	return &PutImageOutput{Image: RenderImage(ctx, key, id, img)}, nil
}

func (o *Ops) BatchDeleteImage(ctx context.Context, in *BatchDeleteImageInput) (*BatchDeleteImageOutput, error) {
	key, err := o.Key(ctx, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	deleted, failures, err := o.Reg.BatchDeleteImage(ctx, key, ImageIDs(in.ImageIDs))
	if err != nil {
		return nil, err
	}
	out := &BatchDeleteImageOutput{ImageIDs: []ImageIdentifier{}, Failures: ImageFailures(failures)}
	for _, id := range deleted {
		out.ImageIDs = append(out.ImageIDs, ImageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag})
	}
	return out, nil
}

// RenderImage renders an image as PutImage and BatchGetImage return it:
// the manifest served (stored, or converted for BatchGetImage) under the ID
// it was asked for, with its digest filled in.
func RenderImage(ctx context.Context, key registry.RepoKey, id registry.ImageID, img registry.Image) Image {
	return Image{
		RegistryID:             registryID(ctx, key),
		RepositoryName:         string(key.Name),
		ImageID:                ImageIdentifier{ImageDigest: string(img.Digest), ImageTag: id.Tag},
		ImageManifest:          string(img.Manifest),
		ImageManifestMediaType: img.MediaType,
	}
}

// ImageIDs passes the IDs on as sent; the core tells malformed ones apart
// as per-image failures. nil stays nil (no IDs given).
func ImageIDs(in []ImageIdentifier) []registry.ImageID {
	if in == nil {
		return nil
	}
	out := make([]registry.ImageID, len(in))
	for i, id := range in {
		out[i] = registry.ImageID{Digest: id.ImageDigest, Tag: id.ImageTag}
	}
	return out
}

// ImageFailures renders the core's per-image failures.
func ImageFailures(in []registry.ImageFailure) []ImageFailure {
	out := make([]ImageFailure, len(in))
	for i, f := range in {
		out[i] = ImageFailure{
			ImageID:       ImageIdentifier{ImageDigest: f.ID.Digest, ImageTag: f.ID.Tag},
			FailureCode:   f.Code,
			FailureReason: f.Reason,
		}
	}
	return out
}

// Page is the page a listing's nextToken and maxResults ask for.
func Page(token *string, max *int) registry.Page {
	var p registry.Page
	if token != nil {
		p.Token = *token
	}
	if max != nil {
		p.Max = *max
	}
	return p
}
