package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestDescribeImages(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/describe"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	small := pushBlob(t, c, repo, layerBytes(1000, 1))
	big := pushBlob(t, c, repo, layerBytes(7000, 2))
	amd := dockerManifest(cfg, small, big)
	arm := dockerManifest(cfg, small)
	putImage(t, c, repo, amd, "amd")
	putImage(t, c, repo, arm, "")
	list := indexManifest(dockerListType, dockerManifestType, arm, amd)
	putImage(t, c, repo, list, "multi")

	t.Run("Sizes", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			manifest string
			size     int
		}{
			{"Image", amd, small.Size + big.Size},
			{"OneLayer", arm, small.Size},
			{"IndexIsLargestChild", list, small.Size + big.Size},
		} {
			d := describe(t, c, repo, byDigest(digestOf([]byte(tc.manifest))))
			if got := aws.ToInt64(d.ImageSizeInBytes); got != int64(tc.size) {
				t.Errorf("%s: imageSizeInBytes = %d, want %d", tc.name, got, tc.size)
			}
		}
	})

	t.Run("Detail", func(t *testing.T) {
		d := describe(t, c, repo, byTag("amd"))
		if aws.ToString(d.RegistryId) != testAccount || aws.ToString(d.RepositoryName) != repo || aws.ToString(d.ImageDigest) != digestOf([]byte(amd)) ||
			aws.ToString(d.ImageManifestMediaType) != dockerManifestType || aws.ToString(d.ArtifactMediaType) != dockerConfigType ||
			d.ImageStatus != types.ImageStatusActive || d.ImagePushedAt == nil || d.ImagePushedAt.IsZero() {
			t.Errorf("detail %+v", d)
		}
		// On the wire: absent members are left out, never null.
		body := rawOp(t, s, "DescribeImages", `{"repositoryName":"img/describe","imageIds":[{"imageDigest":"`+digestOf([]byte(arm))+`"}]}`)
		if strings.Contains(body, "null") {
			t.Errorf("response has a null: %s", body)
		}
		var out struct {
			ImageDetails []map[string]any `json:"imageDetails"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.ImageDetails) != 1 {
			t.Fatalf("response %s: %v", body, err)
		}
		for _, absent := range []string{"imageTags", "lastRecordedPullTime", "lastArchivedAt", "lastActivatedAt", "subjectManifestDigest"} {
			if v, ok := out.ImageDetails[0][absent]; ok {
				t.Errorf("%s = %v, want it left out", absent, v)
			}
		}
	})

	t.Run("UnknownID", func(t *testing.T) {
		_, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("amd"), byTag("nope")}})
		wantAPIError[*types.ImageNotFoundException](t, err, "imageTag:'nope'")
	})

	t.Run("IDsWithPaging", func(t *testing.T) {
		_, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("amd")}, MaxResults: aws.Int32(1)})
		wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
		_, err = c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{byTag("amd")}, NextToken: aws.String("x")})
		wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	})

	t.Run("TagStatusFilter", func(t *testing.T) {
		for status, want := range map[types.TagStatus]int{types.TagStatusTagged: 2, types.TagStatusUntagged: 1, types.TagStatusAny: 3} {
			out, err := c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), Filter: &types.DescribeImagesFilter{TagStatus: status}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.ImageDetails) != want || out.NextToken != nil {
				t.Errorf("filter %s: %d images (nextToken %v), want %d", status, len(out.ImageDetails), out.NextToken, want)
			}
		}
	})
}

func TestListImages(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/list"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	l := pushBlob(t, c, repo, layerBytes(500, 1))
	tagged, untagged := ociManifest(cfg, "tagged", l), ociManifest(cfg, "untagged", l)
	for _, tag := range []string{"a", "b", "c"} {
		putImage(t, c, repo, tagged, tag)
	}
	putImage(t, c, repo, untagged, "")
	list := func(t *testing.T, in *ecr.ListImagesInput) *ecr.ListImagesOutput {
		t.Helper()
		in.RepositoryName = aws.String(repo)
		out, err := c.ListImages(ctx(t), in)
		if err != nil {
			t.Fatalf("ListImages: %v", err)
		}
		return out
	}

	t.Run("OnePerTag", func(t *testing.T) {
		out := list(t, &ecr.ListImagesInput{Filter: &types.ListImagesFilter{TagStatus: types.TagStatusTagged}})
		if len(out.ImageIds) != 3 {
			t.Fatalf("imageIds %+v, want 3", out.ImageIds)
		}
		for i, tag := range []string{"a", "b", "c"} {
			if id := out.ImageIds[i]; aws.ToString(id.ImageTag) != tag || aws.ToString(id.ImageDigest) != digestOf([]byte(tagged)) {
				t.Errorf("imageIds[%d] = %+v", i, id)
			}
		}
	})

	t.Run("Untagged", func(t *testing.T) {
		out := list(t, &ecr.ListImagesInput{Filter: &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}})
		if len(out.ImageIds) != 1 || out.ImageIds[0].ImageTag != nil || aws.ToString(out.ImageIds[0].ImageDigest) != digestOf([]byte(untagged)) {
			t.Fatalf("imageIds %+v", out.ImageIds)
		}
		if body := rawOp(t, s, "ListImages", `{"repositoryName":"img/list","filter":{"tagStatus":"UNTAGGED"}}`); strings.Contains(body, "imageTag") || strings.Contains(body, "null") {
			t.Errorf("untagged entry on the wire: %s", body)
		}
	})

	t.Run("MaxResultsOne", func(t *testing.T) {
		var got []types.ImageIdentifier
		in := &ecr.ListImagesInput{MaxResults: aws.Int32(1)}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			out := list(t, in)
			if len(out.ImageIds) > 1 {
				t.Fatalf("page of %d", len(out.ImageIds))
			}
			got = append(got, out.ImageIds...)
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		if len(got) != 4 {
			t.Errorf("listed %+v, want 4 entries", got)
		}
	})

	t.Run("UnknownRepository", func(t *testing.T) {
		_, err := c.ListImages(ctx(t), &ecr.ListImagesInput{RepositoryName: aws.String("no/such")})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "no/such")
	})
}

func TestDeleteRepositoryWithImages(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	const repo = "img/full"
	createRepos(t, c, repo)
	cfg := pushConfig(t, c, repo, 1)
	putImage(t, c, repo, ociManifest(cfg, "x", pushBlob(t, c, repo, layerBytes(100, 1))), "v1")
	_, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String(repo)})
	wantAPIError[*types.RepositoryNotEmptyException](t, err, repo)
	if _, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String(repo), Force: true}); err != nil {
		t.Fatalf("DeleteRepository force: %v", err)
	}
	_, err = c.DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	wantAPIError[*types.RepositoryNotFoundException](t, err, repo)
}

// rawOp calls an operation with a hand-written, signed body and returns
// the 200 response body as sent.
func rawOp(t *testing.T, s *server, op, body string) string {
	t.Helper()
	req := newAPIRequest(t, s.URL, op, body)
	signRequest(t, req, []byte(body), testCreds, "us-east-1", time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", op, resp.StatusCode, data)
	}
	return string(data)
}
