package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// The read operations of the repository table. Each checks its answer
// against the composition: a fast wrong answer fails the run.

// fetch sends a GET or HEAD, checks that the answer is 200 and returns it
// with its body read.
func (c *client) fetch(ctx context.Context, method, u, accept string) (*http.Response, []byte, error) {
	var hdr map[string]string
	if accept != "" {
		hdr = map[string]string{"Accept": accept}
	}
	resp, err := c.do(ctx, method, u, nil, 0, hdr)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: %s: %.200s", method, u, resp.Status, body)
	}
	return resp, body, err
}

func (e *imageEnv) v2(path string) string { return e.t.oci.base + "/v2/" + growthRepo + path }

func (e *imageEnv) bcla(ctx context.Context) (figure, error) {
	var digests []string
	return latency(e.it.API, func(int) error {
		digests = nil
		for _, b := range e.cs.baseLayers() {
			digests = append(digests, b.digest)
		}
		for _, i := range e.distinctImages(100-len(digests), false) {
			digests = append(digests, e.cs.image(uint64(i)).app.digest)
		}
		return nil
	}, func(int) error { return e.checkLayers(ctx, digests) })
}

// checkLayers asks BatchCheckLayerAvailability for digests and wants
// every one available.
func (e *imageEnv) checkLayers(ctx context.Context, digests []string) error {
	out, err := e.t.api.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String(growthRepo), LayerDigests: digests})
	if err != nil {
		return err
	}
	avail := 0
	for _, l := range out.Layers {
		if l.LayerAvailability == types.LayerAvailabilityAvailable {
			avail++
		}
	}
	if avail != len(digests) || len(out.Failures) > 0 {
		return fmt.Errorf("%d of %d layers available, %d failures", avail, len(digests), len(out.Failures))
	}
	return nil
}

func (e *imageEnv) headSharedBlob(ctx context.Context) (figure, error) {
	return e.blob(ctx, http.MethodHead, func() content { return e.cs.baseLayers()[e.rnd.IntN(2*baseImages)] })
}

func (e *imageEnv) headUniqueBlob(ctx context.Context) (figure, error) {
	return e.blob(ctx, http.MethodHead, func() content { return e.cs.image(uint64(e.anyImage())).app })
}

func (e *imageEnv) getSharedBlob(ctx context.Context) (figure, error) {
	return e.blob(ctx, http.MethodGet, func() content { return e.cs.baseLayers()[e.rnd.IntN(2*baseImages)] })
}

// blob HEADs or GETs the blob pick chooses and checks its size (and the
// bytes' digest for a GET).
func (e *imageEnv) blob(ctx context.Context, method string, pick func() content) (figure, error) {
	var b content
	return latency(e.it.Cheap, func(int) error { b = pick(); return nil }, func(int) error {
		resp, body, err := e.t.oci.fetch(ctx, method, e.v2("/blobs/"+b.digest), "")
		switch {
		case err != nil:
			return err
		case resp.ContentLength != int64(len(b.data)):
			return fmt.Errorf("%s blob: Content-Length %d, want %d", method, resp.ContentLength, len(b.data))
		case method == http.MethodGet && newContent(body).digest != b.digest:
			return fmt.Errorf("GET blob %s: other bytes came back", b.digest)
		}
		return nil
	})
}

func (e *imageEnv) getManifestByTag(ctx context.Context) (figure, error) {
	return e.manifest(ctx, http.MethodGet, false)
}

func (e *imageEnv) headManifestByTag(ctx context.Context) (figure, error) {
	return e.manifest(ctx, http.MethodHead, false)
}

func (e *imageEnv) getManifestByDigest(ctx context.Context) (figure, error) {
	return e.manifest(ctx, http.MethodGet, true)
}

// manifest HEADs or GETs a tagged image's manifest by tag or digest and
// checks the digest of what came back (the header's for a HEAD).
func (e *imageEnv) manifest(ctx context.Context, method string, byDigest bool) (figure, error) {
	var ref string
	var want content
	return latency(e.it.Cheap, func(int) error {
		i := e.distinctImages(1, true)[0]
		want, ref = e.cs.image(uint64(i)).manifest, imageTag(i)
		if byDigest {
			ref = want.digest
		}
		return nil
	}, func(int) error {
		resp, body, err := e.t.oci.fetch(ctx, method, e.v2("/manifests/"+ref), manifestType+", "+indexType)
		switch {
		case err != nil:
			return err
		case resp.Header.Get("Docker-Content-Digest") != want.digest:
			return fmt.Errorf("%s manifest %s: Docker-Content-Digest %q, want %s", method, ref, resp.Header.Get("Docker-Content-Digest"), want.digest)
		case method == http.MethodGet && newContent(body).digest != want.digest:
			return fmt.Errorf("GET manifest %s: other bytes came back", ref)
		}
		return nil
	})
}

func (e *imageEnv) batchGetOne(ctx context.Context) (figure, error) { return e.batchGet(ctx, 1) }
func (e *imageEnv) batchGetTen(ctx context.Context) (figure, error) { return e.batchGet(ctx, 10) }

// batchGet asks BatchGetImage for k tagged images by tag and checks each
// manifest.
func (e *imageEnv) batchGet(ctx context.Context, k int) (figure, error) {
	var ids []types.ImageIdentifier
	want := map[string]string{}
	return latency(e.it.API, func(int) error {
		ids, want = nil, map[string]string{}
		for _, i := range e.distinctImages(k, true) {
			ids = append(ids, types.ImageIdentifier{ImageTag: aws.String(imageTag(i))})
			want[imageTag(i)] = string(e.cs.image(uint64(i)).manifest.data)
		}
		return nil
	}, func(int) error {
		out, err := e.t.api.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(growthRepo),
			ImageIds: ids, AcceptedMediaTypes: []string{manifestType}})
		if err != nil {
			return err
		}
		if len(out.Images) != k || len(out.Failures) > 0 {
			return fmt.Errorf("%d images and %d failures, want %d images", len(out.Images), len(out.Failures), k)
		}
		for _, img := range out.Images {
			if tag := aws.ToString(img.ImageId.ImageTag); aws.ToString(img.ImageManifest) != want[tag] {
				return fmt.Errorf("image %s: another manifest came back", tag)
			}
		}
		return nil
	})
}

func (e *imageEnv) describeFirst(ctx context.Context) (figure, error) {
	return e.describe(ctx, nil, nil, 1000, min(1000, e.comp.Manifests))
}

func (e *imageEnv) describeDeep(ctx context.Context) (figure, error) {
	mid := e.comp.Manifests / 2
	token, err := tokenAt(mid, func(token *string, max int32) (*string, int, error) {
		out, err := e.t.api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(growthRepo), NextToken: token, MaxResults: &max})
		if err != nil {
			return nil, 0, err
		}
		return out.NextToken, len(out.ImageDetails), nil
	})
	if err != nil {
		return figure{}, err
	}
	return e.describe(ctx, token, nil, 1000, min(1000, e.comp.Manifests-mid))
}

func (e *imageEnv) describeUntagged(ctx context.Context) (figure, error) {
	return e.describe(ctx, nil, &types.DescribeImagesFilter{TagStatus: types.TagStatusUntagged}, 100, min(100, e.comp.Untagged))
}

// describe times one DescribeImages page and wants want images on it
// (untagged ones only with a filter).
func (e *imageEnv) describe(ctx context.Context, token *string, filter *types.DescribeImagesFilter, max int32, want int) (figure, error) {
	return latency(e.it.Page, nil, func(int) error {
		out, err := e.t.api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(growthRepo),
			NextToken: token, MaxResults: aws.Int32(max), Filter: filter})
		if err != nil {
			return err
		}
		if len(out.ImageDetails) != want {
			return fmt.Errorf("%d images on the page, want %d", len(out.ImageDetails), want)
		}
		for _, d := range out.ImageDetails {
			if filter != nil && len(d.ImageTags) > 0 {
				return fmt.Errorf("UNTAGGED page lists %s with tags %v", aws.ToString(d.ImageDigest), d.ImageTags)
			}
		}
		return nil
	})
}

func (e *imageEnv) describeIDs(ctx context.Context) (figure, error) {
	var ids []types.ImageIdentifier
	want := map[string]bool{}
	return latency(e.it.API, func(int) error {
		ids, want = nil, map[string]bool{}
		for _, i := range e.distinctImages(10, false) {
			d := e.cs.image(uint64(i)).manifest.digest
			ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(d)})
			want[d] = true
		}
		return nil
	}, func(int) error {
		out, err := e.t.api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(growthRepo), ImageIds: ids})
		if err != nil {
			return err
		}
		for _, d := range out.ImageDetails {
			delete(want, aws.ToString(d.ImageDigest))
		}
		if len(out.ImageDetails) != len(ids) || len(want) > 0 {
			return fmt.Errorf("%d images described, %d of the %d asked for missing", len(out.ImageDetails), len(want), len(ids))
		}
		return nil
	})
}

func (e *imageEnv) listFirst(ctx context.Context) (figure, error) {
	return e.list(ctx, nil, nil, min(1000, e.comp.Manifests))
}

func (e *imageEnv) listDeep(ctx context.Context) (figure, error) {
	// Each image has at most one tag: one ID per manifest.
	mid := e.comp.Manifests / 2
	token, err := tokenAt(mid, func(token *string, max int32) (*string, int, error) {
		out, err := e.t.api.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(growthRepo), NextToken: token, MaxResults: &max})
		if err != nil {
			return nil, 0, err
		}
		return out.NextToken, len(out.ImageIds), nil
	})
	if err != nil {
		return figure{}, err
	}
	return e.list(ctx, token, nil, min(1000, e.comp.Manifests-mid))
}

func (e *imageEnv) listUntagged(ctx context.Context) (figure, error) {
	return e.list(ctx, nil, &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}, min(1000, e.comp.Untagged))
}

// list times one ListImages page of 1000 and wants want IDs on it.
func (e *imageEnv) list(ctx context.Context, token *string, filter *types.ListImagesFilter, want int) (figure, error) {
	return latency(e.it.Page, nil, func(int) error {
		out, err := e.t.api.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(growthRepo),
			NextToken: token, MaxResults: aws.Int32(1000), Filter: filter})
		if err != nil {
			return err
		}
		if len(out.ImageIds) != want {
			return fmt.Errorf("%d image IDs on the page, want %d", len(out.ImageIds), want)
		}
		for _, id := range out.ImageIds {
			if filter != nil && id.ImageTag != nil {
				return fmt.Errorf("UNTAGGED page lists tag %s", aws.ToString(id.ImageTag))
			}
		}
		return nil
	})
}

func (e *imageEnv) tagsFirst(ctx context.Context) (figure, error) {
	return e.tags(ctx, "", min(1000, e.comp.Tags))
}

func (e *imageEnv) tagsDeep(ctx context.Context) (figure, error) {
	m := e.n / 2 // a multiple of 50: a tagged image
	return e.tags(ctx, imageTag(m), min(1000, tagsAfter(e.n, m)))
}

// tags times one /v2/ tags page of 1000 after last and wants want tags,
// all after last.
func (e *imageEnv) tags(ctx context.Context, last string, want int) (figure, error) {
	u := e.v2("/tags/list?n=1000")
	if last != "" {
		u += "&last=" + url.QueryEscape(last)
	}
	return latency(e.it.API, nil, func(int) error {
		_, body, err := e.t.oci.fetch(ctx, http.MethodGet, u, "")
		if err != nil {
			return err
		}
		var list struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return fmt.Errorf("tags list: %w", err)
		}
		if len(list.Tags) != want || (want > 0 && list.Tags[0] <= last) {
			return fmt.Errorf("%d tags after %q, want %d", len(list.Tags), last, want)
		}
		return nil
	})
}

// referrersOCI asks /v2/ for the referrers of image 0, one of the first
// seeded.
func (e *imageEnv) referrersOCI(ctx context.Context) (figure, error) {
	subject := e.cs.image(0).manifest.digest
	return latency(e.it.API, nil, func(int) error {
		_, body, err := e.t.oci.fetch(ctx, http.MethodGet, e.v2("/referrers/"+subject), indexType)
		if err != nil {
			return err
		}
		var idx struct {
			Manifests []ociDesc `json:"manifests"`
		}
		if err := json.Unmarshal(body, &idx); err != nil {
			return fmt.Errorf("referrers: %w", err)
		}
		if len(idx.Manifests) != referrersPerImage {
			return fmt.Errorf("%d referrers, want %d", len(idx.Manifests), referrersPerImage)
		}
		return nil
	})
}

func (e *imageEnv) referrersECR(ctx context.Context) (figure, error) {
	subject := e.cs.image(0).manifest.digest
	return latency(e.it.API, nil, func(int) error {
		out, err := e.t.api.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String(growthRepo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(subject)}})
		if err != nil {
			return err
		}
		if len(out.Referrers) != referrersPerImage {
			return fmt.Errorf("%d referrers, want %d", len(out.Referrers), referrersPerImage)
		}
		return nil
	})
}
