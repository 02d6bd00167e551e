package registry

import "time"

// Image statuses, as DescribeImages reports them.
const (
	ImageActive     = "ACTIVE"
	ImageArchived   = "ARCHIVED"
	ImageActivating = "ACTIVATING"
)

// Image is a manifest stored in a repository, byte for byte, with what the
// registry derived from it when it was put.
type Image struct {
	Digest Digest
	// Manifest is the exact bytes put; Digest is their sha256.
	Manifest []byte
	// MediaType is the manifest's media type; ArtifactMediaType the config's
	// media type (or the manifest's artifactType).
	MediaType         string
	ArtifactMediaType string
	// Size is imageSizeInBytes: for an image manifest the sum of its config
	// and layer sizes, for an index the largest child's size.
	Size     int64
	PushedAt time.Time
	// LastPulledAt is when the image was last pulled; zero if never.
	LastPulledAt time.Time
	// Status is ImageActive, ImageArchived or ImageActivating.
	Status          string
	LastArchivedAt  time.Time // zero if never archived
	LastActivatedAt time.Time // zero if never restored
	// ActiveAt is, while Status is ImageActivating, when the restore
	// completes; readers treat the image as active from then on.
	ActiveAt time.Time
	// Subject is the manifest's subject digest ("" without one).
	Subject Digest
	// Blobs are the config and layers an image manifest refers to;
	// Children the manifests an index refers to.
	Blobs    []ImageBlob
	Children []Digest
}

// ImageBlob is one blob an image manifest refers to.
type ImageBlob struct {
	Digest    Digest
	MediaType string
	Size      int64
}

// TagRef is one tag of a repository and the image it names.
type TagRef struct {
	Tag    string
	Digest Digest
	// CreatedAt is when the tag was set to Digest (zero for tags set before
	// ecrd recorded it).
	CreatedAt time.Time
	// Status and ActiveAt are those of the image the tag names, as stored,
	// from TagsWithStatus only: a listing filters tags by their image's
	// status without reading each image.
	Status   string
	ActiveAt time.Time
}

// ImageQuery selects a page of a repository's images, in digest order.
// The store applies every condition itself, so that a page costs what it
// returns, not what it skips.
type ImageQuery struct {
	// After is the digest the page starts after ("" for the first page).
	After Digest
	// Limit is the most images returned; 0 or less returns none.
	Limit int
	// TagStatus is TagStatusTagged, TagStatusUntagged, or "" (or
	// TagStatusAny) for both.
	TagStatus string
	// Status is ImageActive, ImageArchived or ImageActivating as of Now
	// (an ACTIVATING image whose ActiveAt is at or before Now is active),
	// or "" for every status.
	Status string
	Now    time.Time
	// DigestsOnly asks for each image's Digest, Status and ActiveAt
	// only, which the store may answer from an index without reading the
	// images' records (ListImages needs no more).
	DigestsOnly bool
}

// ImageRead is Tx.ReadImage's answer.
type ImageRead struct {
	Access RepositoryAccess
	Tagged Digest
	Image  Image
}

// ImageTx is the part of a transaction that keeps images and tags. Every
// method's RepoKey names an existing repository unless said otherwise;
// deleting a repository deletes its images and tags.
type ImageTx interface {
	// Image returns the image of the repository with digest d, or ErrNotFound.
	Image(key RepoKey, d Digest) (Image, error)
	// ImageManifest is Image without Blobs and Children, or ErrNotFound:
	// serving a manifest, or reading an image's size or status, needs no
	// record per layer, and an image may have 25,000 of them.
	ImageManifest(key RepoKey, d Digest) (Image, error)
	// ReadImage returns what a pull of one manifest needs, in one read,
	// of a repository that need not exist: what decides access, as
	// LayerStatus gives it; the digest tag names ("" when tag is "" or
	// names nothing); and, as ImageManifest gives it, the image whose
	// digest is d, or the tag's when d is "" (the zero Image when there is
	// none).
	ReadImage(key RepoKey, tag string, d Digest) (ImageRead, error)
	// Images returns the page of the repository's images q selects,
	// without their Manifest bytes, Blobs or Children (Image has them).
	Images(key RepoKey, q ImageQuery) ([]Image, error)
	// Referrers returns up to limit images of the repository whose Subject
	// is subject, with digests greater than after, in digest order, as
	// ImageManifest returns them.
	Referrers(key RepoKey, subject, after Digest, limit int) ([]Image, error)
	// PutImage stores img, replacing any image with the same digest (its
	// tags stay). A repository that does not exist gives ErrNotFound.
	PutImage(key RepoKey, img Image) error
	// DeleteImage removes the image and its tags, or returns ErrNotFound.
	DeleteImage(key RepoKey, d Digest) error

	// Tag returns the digest a tag names, or ErrNotFound.
	Tag(key RepoKey, tag string) (Digest, error)
	// ImageTags returns the tags naming digest d, in byte order.
	ImageTags(key RepoKey, d Digest) ([]string, error)
	// Tags returns up to limit tags of the repository greater than after,
	// in byte order.
	Tags(key RepoKey, after string, limit int) ([]TagRef, error)
	// TagsWithStatus is Tags with each tag's Status and ActiveAt.
	TagsWithStatus(key RepoKey, after string, limit int) ([]TagRef, error)
	// SetTag points tag at digest d (an image of the repository), creating
	// or moving it.
	SetTag(key RepoKey, tag string, d Digest, at time.Time) error
	// DeleteTag removes a tag, or returns ErrNotFound.
	DeleteTag(key RepoKey, tag string) error

	// Parents returns the digests of the repository's images whose
	// Children include d.
	Parents(key RepoKey, d Digest) ([]Digest, error)
	// LayerRefs returns, for each of digests that images of the repository
	// refer to (in their Blobs), the most available status among those
	// images as of now: ImageActive if one is active (an ACTIVATING image
	// whose ActiveAt is at or before now is: a restore completes by the
	// clock, with no write), else ImageActivating if one is being
	// restored, else ImageArchived. Digests no image refers to are absent.
	// It says whether such an image exists, never how many do, so that its
	// cost does not grow with the images that share a digest (a base
	// layer is shared by most of a repository's images).
	LayerRefs(key RepoKey, digests []Digest, now time.Time) (map[Digest]string, error)
	// SetLayerMediaTypes records, for every digest of types, the media
	// type under which an image refers to that layer of the repository;
	// layers it does not hold are ignored. PutImage records an image's
	// layers in one call, however many it has. It returns only the store's
	// own errors.
	SetLayerMediaTypes(key RepoKey, types map[Digest]string) error
	// RecordPull sets the LastPulledAt of image d to at; an image that does
	// not exist is ignored.
	RecordPull(key RepoKey, d Digest, at time.Time) error
	// CountImages returns how many images the repository holds, reading
	// every image record: for tests and tools, never for a request.
	CountImages(key RepoKey) (int, error)
	// UpdateRepository replaces the settings of an existing repository
	// (matched by registry and name), or returns ErrNotFound.
	UpdateRepository(r Repository) error
}
