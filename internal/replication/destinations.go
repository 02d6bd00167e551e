package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ecrd/ecrd/internal/registry"
)

// ReplicatingHeader marks a request of one ecrd's replicator to another's
// API: the destination decides it as a replication (ecr:ReplicateImage,
// REPLICATION templates), for an account administrator's key only.
const ReplicatingHeader = "X-Ecrd-Replicating"

// local is a destination among this ecrd's registries: the core, as the
// source account replicating.
type local struct {
	reg *registry.Registry
	key registry.RepoKey
	ctx func(context.Context) context.Context
}

func (p *Replicator) local(_ context.Context, t registry.ReplicationTask) destination {
	src := registry.AccountAdmin(t.Source.Registry, "")
	return &local{reg: p.reg, key: registry.RepoKey{Registry: t.Destination.Registry, Name: t.Source.Name},
		ctx: func(ctx context.Context) context.Context {
			return registry.AsReplicating(registry.WithCaller(ctx, src))
		}}
}

func (d *local) hasBlob(ctx context.Context, digest string) (bool, error) {
	_, err := d.reg.StatBlob(d.ctx(ctx), d.key, digest)
	switch {
	case err == nil:
		return true, nil
	case registry.IsCode(err, registry.CodeRepositoryNotFound, registry.CodeLayersNotFound, registry.CodeLayerInaccessible):
		return false, nil
	}
	return false, err
}

func (d *local) pushBlob(ctx context.Context, digest string, _ int64, body io.Reader) error {
	ctx = d.ctx(ctx)
	var u registry.Upload
	err := d.reg.CreatingOnPush(ctx, d.key, func() (err error) {
		u, err = d.reg.InitiateLayerUpload(ctx, d.key)
		return err
	})
	if err != nil {
		return err
	}
	_, err = d.reg.AppendUpload(ctx, d.key, u.ID, 0, -1, body)
	if err == nil {
		_, err = d.reg.FinishUpload(ctx, d.key, u.ID, digest)
	}
	if err != nil {
		_ = d.reg.CancelUpload(ctx, d.key, u.ID)
	}
	return err
}

func (d *local) putImage(ctx context.Context, manifest []byte, mediaType, tag string) error {
	ctx = d.ctx(ctx)
	return d.reg.CreatingOnPush(ctx, d.key, func() error {
		_, err := d.reg.PutImage(ctx, registry.NewImage{Key: d.key, Manifest: manifest, MediaType: mediaType, Tag: tag})
		return err
	})
}

// remote is a destination of another region's ecrd: its ECR API, signed
// with the source account's keys there, marked as a replication.
type remote struct {
	c    *ecr.Client
	reg  *string
	repo *string
}

// partSize is the size of the parts a remote blob push sends.
const partSize = 8 << 20

func (rs Regions) destination(t registry.ReplicationTask) (destination, bool) {
	u, ok := rs[t.Destination.Region]
	if !ok {
		return nil, false
	}
	secret, _ := u.User.Password()
	base := url.URL{Scheme: u.Scheme, Host: u.Host}
	c := ecr.New(ecr.Options{Region: t.Destination.Region, BaseEndpoint: aws.String(base.String()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(u.User.Username(), secret, ""),
		APIOptions:  []func(*middleware.Stack) error{addReplicatingHeader}})
	return &remote{c: c, reg: aws.String(string(t.Destination.Registry)), repo: aws.String(string(t.Source.Name))}, true
}

func (d *remote) hasBlob(ctx context.Context, digest string) (bool, error) {
	out, err := d.c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RegistryId: d.reg, RepositoryName: d.repo, LayerDigests: []string{digest}})
	if err != nil {
		if isCode(err, "RepositoryNotFoundException") {
			return false, nil
		}
		return false, remoteError(err)
	}
	return len(out.Layers) == 1 && out.Layers[0].LayerAvailability == "AVAILABLE", nil
}

func (d *remote) pushBlob(ctx context.Context, digest string, size int64, body io.Reader) error {
	up, err := d.c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RegistryId: d.reg, RepositoryName: d.repo})
	if err != nil {
		return remoteError(err)
	}
	buf := make([]byte, partSize)
	var first int64
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if _, err := d.c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RegistryId: d.reg, RepositoryName: d.repo, UploadId: up.UploadId,
				PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(first + int64(n) - 1), LayerPartBlob: bytes.Clone(buf[:n])}); err != nil {
				return remoteError(err)
			}
			first += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("reading the source blob %s: %w", digest, rerr)
		}
	}
	_, err = d.c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RegistryId: d.reg, RepositoryName: d.repo, UploadId: up.UploadId, LayerDigests: []string{digest}})
	if err != nil && !isCode(err, "LayerAlreadyExistsException") {
		return remoteError(err)
	}
	return nil
}

func (d *remote) putImage(ctx context.Context, manifest []byte, mediaType, tag string) error {
	in := &ecr.PutImageInput{RegistryId: d.reg, RepositoryName: d.repo, ImageManifest: aws.String(string(manifest)), ImageManifestMediaType: aws.String(mediaType)}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	_, err := d.c.PutImage(ctx, in)
	switch {
	case err == nil:
		return nil
	case isCode(err, "ImageAlreadyExistsException"):
		return registry.Errorf(registry.CodeImageAlreadyExists, "%v", err)
	case isCode(err, "ImageTagAlreadyExistsException"):
		return registry.Errorf(registry.CodeImageTagAlreadyExists, "%v", err)
	}
	return remoteError(err)
}

func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// remoteError is a remote destination's refusal as the core's
// AccessDenied (trying again cannot help), or the error as it is.
func remoteError(err error) error {
	if isCode(err, "AccessDeniedException") {
		var ae smithy.APIError
		errors.As(err, &ae)
		return registry.Errorf(registry.CodeAccessDenied, "the destination refused: %s", ae.ErrorMessage())
	}
	return err
}

// addReplicatingHeader marks every request as a replication's.
func addReplicatingHeader(stack *middleware.Stack) error {
	return smithyhttp.AddHeaderValue(ReplicatingHeader, "true")(stack)
}
