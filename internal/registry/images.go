package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ImageID names an image by digest, tag or both, as the client sent them.
type ImageID struct {
	Digest string
	Tag    string
}

func (id ImageID) String() string {
	d, t := "null", "null"
	if id.Digest != "" {
		d = "'" + id.Digest + "'"
	}
	if id.Tag != "" {
		t = "'" + id.Tag + "'"
	}
	return "{imageDigest:" + d + ", imageTag:" + t + "}"
}

// NewImage is what PutImage needs.
type NewImage struct {
	Key      RepoKey
	Manifest []byte
	// MediaType is imageManifestMediaType ("" to use the manifest's own).
	MediaType string
	// Tag is the tag to set ("" for none); Digest the digest the client
	// expects the manifest to have ("" for no check).
	Tag    string
	Digest string
}

// PutImage stores a manifest in the repository and, with a tag, points the
// tag at it. The manifest is stored byte for byte and its digest is the
// sha256 of those bytes.
// Errors: RepositoryNotFound, InvalidParameter, ImageDigestDoesNotMatch,
// LayersNotFound, ReferencedImagesNotFound, ImageAlreadyExists,
// ImageTagAlreadyExists.
func (r *Registry) PutImage(ctx context.Context, in NewImage) (Image, error) {
	key, err := r.resolve(ctx, in.Key)
	if err != nil {
		return Image{}, err
	}
	if in.Tag != "" {
		if err := checkTag(in.Tag); err != nil {
			return Image{}, err
		}
	}
	digest := Digest(fmt.Sprintf("sha256:%x", sha256.Sum256(in.Manifest)))
	if in.Digest != "" && in.Digest != string(digest) {
		return Image{}, Errorf(CodeImageDigestDoesNotMatch, "The digest of the manifest, '%s', does not match the imageDigest given, '%s'", digest, in.Digest)
	}
	p, err := parseManifest(in.Manifest, in.MediaType)
	if err != nil {
		return Image{}, err
	}
	now := r.now().UTC()
	img := Image{
		Digest: digest, Manifest: in.Manifest, MediaType: p.mediaType, ArtifactMediaType: p.artifactMediaType,
		PushedAt: now, Status: ImageActive, Subject: p.subject, Blobs: p.blobs, Children: p.children,
	}
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		repo, err := r.access(ctx, tx, "PutImage", key)
		if err != nil {
			return err
		}
		if img.Size, err = r.checkReferences(tx, key, img); err != nil {
			return err
		}
		existing, err := tx.Image(key, digest)
		exists := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		var tagged Digest
		if in.Tag != "" {
			if tagged, err = tx.Tag(key, in.Tag); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		if tagged != "" && tagged != digest && tagImmutable(repo, in.Tag) {
			return Errorf(CodeImageTagAlreadyExists, "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", in.Tag, key.Name)
		}
		if exists {
			restored, err := r.restoreOnPush(tx, key, &existing)
			if err != nil {
				return err
			}
			if !restored && (in.Tag == "" || tagged == digest) {
				return Errorf(CodeImageAlreadyExists, "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'", digest, in.Tag, key.Name, key.Registry.Account())
			}
		}
		if exists {
			img = existing
		} else if err := tx.PutImage(key, img); err != nil {
			return err
		} else if err := r.enqueueScanOnPush(tx, key, repo, img); err != nil {
			return err
		} else if err := r.enqueueSigning(ctx, tx, key, img); err != nil {
			return err
		}
		if err := tx.SetLayerMediaTypes(key, blobMediaTypes(img.Blobs)); err != nil {
			return err
		}
		if in.Tag != "" {
			if err := tx.SetTag(key, in.Tag, digest, r.now().UTC()); err != nil {
				return err
			}
		}
		return r.enqueueReplication(ctx, tx, key, digest)
	})
	return img, err
}

// checkReferences requires every blob an image manifest names to be a
// layer of the repository (of the size the manifest says), and every
// manifest an index names to be an image of it. It returns the image size
// as ECR reports it: the sum of the layers' sizes, or for an index the
// largest child's size.
func (r *Registry) checkReferences(tx Tx, key RepoKey, img Image) (int64, error) {
	if len(img.Children) > 0 || isIndex(img.MediaType) {
		var size int64
		for _, c := range img.Children {
			child, err := tx.ImageManifest(key, c)
			if errors.Is(err, ErrNotFound) {
				return 0, Errorf(CodeReferencedImagesNotFound, "The manifest list is referencing an image that does not exist: '%s' is not an image of the repository with name '%s'", c, key.Name)
			} else if err != nil {
				return 0, err
			}
			size = max(size, child.Size)
		}
		return size, nil
	}
	have, err := tx.Layers(key, uniqueDigests(img.Blobs))
	if err != nil {
		return 0, err
	}
	var size int64
	for i, b := range img.Blobs {
		l, ok := have[b.Digest]
		if !ok || l.Size != b.Size {
			return 0, Errorf(CodeLayersNotFound, "The specified layers could not be found, or the specified layer is not valid for this repository: '%s' (size %d) is not a layer of the repository with name '%s'", b.Digest, b.Size, key.Name)
		}
		if i > 0 { // the config is not a layer
			size += l.Size
		}
	}
	return size, nil
}

// uniqueDigests returns the digests of blobs, each once, in the order of
// first appearance: a manifest may name a layer many times.
func uniqueDigests(blobs []ImageBlob) []Digest {
	seen := make(map[Digest]bool, len(blobs))
	digests := make([]Digest, 0, len(blobs))
	for _, b := range blobs {
		if !seen[b.Digest] {
			seen[b.Digest] = true
			digests = append(digests, b.Digest)
		}
	}
	return digests
}

// blobMediaTypes maps each digest of blobs to its media type. A digest
// named twice takes the media type of its last appearance, as recording
// them one by one in manifest order would leave it.
func blobMediaTypes(blobs []ImageBlob) map[Digest]string {
	types := make(map[Digest]string, len(blobs))
	for _, b := range blobs {
		types[b.Digest] = b.MediaType
	}
	return types
}

// checkTag refuses tags no client could use: empty, whitespace or control
// characters, or shaped like a digest (which a pull by tag would read as one).
func checkTag(tag string) error {
	for _, c := range tag {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			return Errorf(CodeInvalidParameter, "Invalid parameter at 'imageTag': the tag %q has whitespace or control characters", tag)
		}
	}
	if _, err := ParseDigest(tag); err == nil || strings.HasPrefix(tag, "sha256:") {
		return Errorf(CodeInvalidParameter, "Invalid parameter at 'imageTag': the tag '%s' looks like a digest", tag)
	}
	return nil
}

// tagImmutable reports whether the repository's settings forbid moving tag.
func tagImmutable(repo Repository, tag string) bool {
	switch repo.TagMutability {
	case MutabilityImmutable:
		return true
	case MutabilityImmutableWithExclusion:
		return !matchesAny(repo.MutabilityExclusions, tag)
	case MutabilityMutableWithExclusion:
		return matchesAny(repo.MutabilityExclusions, tag)
	}
	return false
}

// matchesAny matches tag against ECR's wildcard filters, where '*' stands
// for any run of characters and everything else for itself.
func matchesAny(filters []string, tag string) bool {
	for _, f := range filters {
		if WildcardMatch(f, tag) {
			return true
		}
	}
	return false
}

// WildcardMatch reports whether s matches pattern, where '*' matches any
// run of characters (none included) and every other character itself,
// the whole of s: ECR's one wildcard, in tag mutability exclusions,
// lifecycle tag patterns and scanning filters alike.
func WildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
