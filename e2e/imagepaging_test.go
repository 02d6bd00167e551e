package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// TestImagePagination pages DescribeImages and ListImages through a
// repository of 2,500 images (300 with -short), every other one tagged,
// and checks every image comes back exactly once.
func TestImagePagination(t *testing.T) {
	n := 2500
	if testing.Short() {
		n = 300
	}
	s := startServer(t, "")
	c := s.client()
	const repo = "img/many"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	l := pushBlob(t, c, repo, layerBytes(64, 1))

	// want maps each digest to its tag ("" for untagged).
	want := make(map[string]string, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	// One context for all the puts: under -race they take tens of seconds.
	putCtx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	for range 8 {
		wg.Go(func() {
			for i := range work {
				m := ociManifest(cfg, fmt.Sprint(i), l)
				in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m)}
				tag := ""
				if i%2 == 0 {
					tag = fmt.Sprintf("t%04d", i)
					in.ImageTag = aws.String(tag)
				}
				if _, err := c.PutImage(putCtx, in); err != nil {
					t.Errorf("PutImage %d: %v", i, err)
					continue
				}
				mu.Lock()
				want[digestOf([]byte(m))] = tag
				mu.Unlock()
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	t.Run("DescribeImages", func(t *testing.T) {
		seen := map[string]bool{}
		in := &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(1000)}
		for pages := 1; ; pages++ {
			out, err := c.DescribeImages(ctx(t), in)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			if len(out.ImageDetails) > 1000 || (out.NextToken != nil && len(out.ImageDetails) != 1000) {
				t.Fatalf("page %d has %d images (nextToken %v)", pages, len(out.ImageDetails), out.NextToken != nil)
			}
			for _, d := range out.ImageDetails {
				dg := aws.ToString(d.ImageDigest)
				tag, ok := want[dg]
				switch {
				case !ok:
					t.Errorf("unknown image %s", dg)
				case seen[dg]:
					t.Errorf("image %s listed twice", dg)
				case tag == "" && len(d.ImageTags) != 0, tag != "" && (len(d.ImageTags) != 1 || d.ImageTags[0] != tag):
					t.Errorf("image %s tags %q, want %q", dg, d.ImageTags, tag)
				}
				seen[dg] = true
			}
			if out.NextToken == nil {
				break
			}
			if pages > n/1000+1 {
				t.Fatal("paging does not end")
			}
			in.NextToken = out.NextToken
		}
		if len(seen) != n {
			t.Errorf("described %d images, want %d", len(seen), n)
		}
	})

	t.Run("ListImages", func(t *testing.T) {
		seen := map[string]bool{}
		in := &ecr.ListImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(1000)}
		for pages := 1; ; pages++ {
			out, err := c.ListImages(ctx(t), in)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			if len(out.ImageIds) > 1000 || (out.NextToken != nil && len(out.ImageIds) != 1000) {
				t.Fatalf("page %d has %d IDs (nextToken %v)", pages, len(out.ImageIds), out.NextToken != nil)
			}
			for _, id := range out.ImageIds {
				dg := aws.ToString(id.ImageDigest)
				tag, ok := want[dg]
				switch {
				case !ok:
					t.Errorf("unknown image %s", dg)
				case seen[dg]:
					t.Errorf("image %s listed twice", dg)
				case aws.ToString(id.ImageTag) != tag:
					t.Errorf("image %s tag %q, want %q", dg, aws.ToString(id.ImageTag), tag)
				}
				seen[dg] = true
			}
			if out.NextToken == nil {
				break
			}
			if pages > n/1000+1 {
				t.Fatal("paging does not end")
			}
			in.NextToken = out.NextToken
		}
		if len(seen) != n {
			t.Errorf("listed %d images, want %d", len(seen), n)
		}
	})

	t.Run("ListImagesDefaultPage", func(t *testing.T) {
		out, err := c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String(repo), Filter: &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.ImageIds) != 100 || out.NextToken == nil {
			t.Errorf("default page: %d IDs, nextToken %v; want 100 and a token", len(out.ImageIds), out.NextToken != nil)
		}
		for _, id := range out.ImageIds {
			if id.ImageTag != nil || want[aws.ToString(id.ImageDigest)] != "" {
				t.Errorf("UNTAGGED listed %+v", id)
			}
		}
	})
}
