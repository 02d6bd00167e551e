package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// growthRepo is the repository grown to each size.
const growthRepo = "growth/app"

// imageEnv is the grown repository as the operations see it: its size
// and composition, which answers are checked against, and the next
// numbers free for the images and repositories operations make. Every
// operation that adds images deletes them again, so the composition holds
// from one operation to the next.
type imageEnv struct {
	t         *target
	cs        *contentSet
	it        iterations
	rnd       *rand.Rand
	n         int // images seeded
	comp      composition
	extra     uint64 // the next image number free for an operation
	collected uint64 // extra at the last collecting GC pass
	drops     int    // repositories made for DeleteRepository
}

// imageOps are the rows of the repository table, measured in this order:
// reads first, then writes, the garbage collection that cleans up after
// them, and last the server's memory and a restart.
var imageOps = []growthOp[*imageEnv]{
	{opInfo{"bcla", "BatchCheckLayerAvailability, 100 digests (40 shared, 60 unique)", "ms", false}, (*imageEnv).bcla},
	{opInfo{"blob-head-shared", "/v2/ blob HEAD, a shared base layer", "ms", false}, (*imageEnv).headSharedBlob},
	{opInfo{"blob-head-unique", "/v2/ blob HEAD, an image's own layer", "ms", false}, (*imageEnv).headUniqueBlob},
	{opInfo{"blob-get-shared", "/v2/ blob GET, a shared base layer (16 KiB)", "ms", false}, (*imageEnv).getSharedBlob},
	{opInfo{"manifest-get-tag", "/v2/ manifest GET by tag", "ms", false}, (*imageEnv).getManifestByTag},
	{opInfo{"manifest-head-tag", "/v2/ manifest HEAD by tag", "ms", false}, (*imageEnv).headManifestByTag},
	{opInfo{"manifest-get-digest", "/v2/ manifest GET by digest", "ms", false}, (*imageEnv).getManifestByDigest},
	{opInfo{"batch-get-1", "BatchGetImage, 1 image by tag", "ms", false}, (*imageEnv).batchGetOne},
	{opInfo{"batch-get-10", "BatchGetImage, 10 images by tag", "ms", false}, (*imageEnv).batchGetTen},
	{opInfo{"describe-first", "DescribeImages, first page of 1000", "ms", false}, (*imageEnv).describeFirst},
	{opInfo{"describe-deep", "DescribeImages, page of 1000 from the middle", "ms", false}, (*imageEnv).describeDeep},
	{opInfo{"describe-untagged", "DescribeImages, tagStatus UNTAGGED, page of 100", "ms", false}, (*imageEnv).describeUntagged},
	{opInfo{"describe-ids", "DescribeImages, 10 imageIds", "ms", false}, (*imageEnv).describeIDs},
	{opInfo{"list-first", "ListImages, first page of 1000", "ms", false}, (*imageEnv).listFirst},
	{opInfo{"list-deep", "ListImages, page of 1000 from the middle", "ms", false}, (*imageEnv).listDeep},
	{opInfo{"list-untagged", "ListImages, tagStatus UNTAGGED, page of 1000", "ms", false}, (*imageEnv).listUntagged},
	{opInfo{"tags-first", "/v2/ tags list, first page (n=1000)", "ms", false}, (*imageEnv).tagsFirst},
	{opInfo{"tags-deep", "/v2/ tags list, page of 1000 from the middle (last=)", "ms", false}, (*imageEnv).tagsDeep},
	{opInfo{"referrers-oci", "/v2/ referrers of an image with 3", "ms", false}, (*imageEnv).referrersOCI},
	{opInfo{"referrers-ecr", "ListImageReferrers of an image with 3", "ms", false}, (*imageEnv).referrersECR},
	{opInfo{"manifest-delete", "/v2/ manifest DELETE by digest", "ms", false}, (*imageEnv).deleteManifest},
	{opInfo{"put-1", "PutImage, 1 writer", "ms", false}, (*imageEnv).putOne},
	{opInfo{"put-8", "PutImage, 8 writers", "puts/s", true}, (*imageEnv).putEight},
	{opInfo{"batch-delete-100", "BatchDeleteImage, 100 tags in one call", "ms", false}, (*imageEnv).batchDelete},
	{opInfo{"delete-repo-force", "DeleteRepository force, 100 images on the shared layers", "ms", false}, (*imageEnv).deleteRepository},
	{opInfo{"gc-idle", "GC pass (ecrd gc), nothing due (24h grace)", "ms", false}, (*imageEnv).gcIdle},
	{opInfo{"gc-collect", "GC pass (ecrd gc --gc-grace=0) after the deletes", "ms", false}, (*imageEnv).gcCollect},
	{opInfo{"rss", "server RSS after the operations", "MiB", false}, func(e *imageEnv, _ context.Context) (figure, error) { return serverRSS(e.t) }},
	{opInfo{"startup", "start-up over the data dir (exec to serving)", "ms", false}, func(e *imageEnv, _ context.Context) (figure, error) { return startup(e.t) }},
	{opInfo{"rss-start", "server RSS just after start-up", "MiB", false}, func(e *imageEnv, _ context.Context) (figure, error) { return serverRSS(e.t) }},
}

// growImages grows growthRepo to each size on one server and measures
// the operations at each.
func growImages(ctx context.Context, o growthOptions) ([]growthPoint, error) {
	dir, err := os.MkdirTemp(o.work, "growth-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	step("starting ecrd for the repository dimension")
	t, err := startTarget(o.bin, filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	defer t.stop()
	e := &imageEnv{t: t, cs: newContentSet(), it: o.iters, rnd: newRand(), extra: extraImages, collected: extraImages}
	if err := seedRepository(ctx, t, e.cs, growthRepo); err != nil {
		return nil, t.failed(err)
	}
	return growSteps(ctx, t, o.sizes, "images in "+growthRepo, e, imageOps, o.filter, func(ctx context.Context, from, to int) (composition, error) {
		if err := seedImages(ctx, t.oci, e.cs, growthRepo, from, to); err != nil {
			return composition{}, err
		}
		e.n, e.comp = to, compositionOf(to)
		return e.comp, nil
	})
}

// anyImage is a seeded image picked at random.
func (e *imageEnv) anyImage() int { return e.rnd.IntN(e.n) }

// distinctImages picks k different seeded images, tagged ones only if
// asked.
func (e *imageEnv) distinctImages(k int, taggedOnly bool) []int {
	seen := map[int]bool{}
	var out []int
	for len(out) < k {
		i := e.anyImage()
		if seen[i] || (taggedOnly && !tagged(i)) {
			continue
		}
		seen[i] = true
		out = append(out, i)
	}
	return out
}

// nextExtra reserves k image numbers for an operation's own images.
func (e *imageEnv) nextExtra(k int) uint64 {
	first := e.extra
	e.extra += uint64(k)
	return first
}

// tokenAt pages through a listing, up to 1000 entries a page, until pos
// entries are behind, and returns the token there: where a deep page
// starts. The tokens are cursors, good for any number of calls.
func tokenAt(pos int, page func(token *string, max int32) (next *string, got int, err error)) (*string, error) {
	var token *string
	for done := 0; done < pos; {
		next, got, err := page(token, int32(min(1000, pos-done)))
		if err != nil {
			return nil, err
		}
		if next == nil || got == 0 {
			return nil, fmt.Errorf("the listing ended after %d entries, before %d", done+got, pos)
		}
		token, done = next, done+got
	}
	return token, nil
}
