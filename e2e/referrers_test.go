package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// artifactManifest is an OCI artifact of artifactType that refers to
// subject, with the empty config, one layer (note) and one annotation.
func artifactManifest(t *testing.T, c *ecr.Client, repo string, empty blob, artifactType string, subject *types.Image, note string) string {
	t.Helper()
	layer := pushBlob(t, c, repo, []byte(note))
	m := aws.ToString(subject.ImageManifest)
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":%q,"config":%s,"layers":[%s],"subject":{"mediaType":%q,"digest":%q,"size":%d},"annotations":{"note":%q}}`,
		ociManifestType, artifactType, empty.descriptor("application/vnd.oci.empty.v1+json"), layer.descriptor("text/plain"),
		aws.ToString(subject.ImageManifestMediaType), digestOf([]byte(m)), len(m), note)
}

func TestListImageReferrers(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	const repo = "ref/app"
	createRepos(t, c, repo)
	subject := putImage(t, c, repo, ociManifest(pushConfig(t, c, repo, 1), "app", pushBlob(t, c, repo, []byte("app layer"))), "v1")
	other := putImage(t, c, repo, ociManifest(pushConfig(t, c, repo, 2), "other"), "v2")
	empty := pushBlob(t, c, repo, []byte("{}"))
	const sbom, sig = "application/vnd.example.sbom+json", "application/vnd.example.signature"
	var sbomDigests []string
	for i := range 3 {
		img := putImage(t, c, repo, artifactManifest(t, c, repo, empty, sbom, subject, fmt.Sprint("sbom ", i)), "")
		sbomDigests = append(sbomDigests, aws.ToString(img.ImageId.ImageDigest))
	}
	sigManifest := artifactManifest(t, c, repo, empty, sig, subject, "signature")
	sigImg := putImage(t, c, repo, sigManifest, "")
	putImage(t, c, repo, artifactManifest(t, c, repo, empty, sbom, other, "other's sbom"), "")
	subjectDigest := aws.String(aws.ToString(subject.ImageId.ImageDigest))

	list := func(t *testing.T, f *types.ListImageReferrersFilter, max *int32, token *string) *ecr.ListImageReferrersOutput {
		t.Helper()
		out, err := c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: subjectDigest}, Filter: f, MaxResults: max, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	digests := func(out *ecr.ListImageReferrersOutput) []string {
		var ds []string
		for _, r := range out.Referrers {
			ds = append(ds, aws.ToString(r.Digest))
		}
		return ds
	}

	t.Run("All", func(t *testing.T) {
		out := list(t, nil, nil, nil)
		if len(out.Referrers) != 4 || out.NextToken != nil {
			t.Fatalf("%d referrers, next %v; want 4 on one page", len(out.Referrers), out.NextToken)
		}
		var got *types.ImageReferrer
		for i, r := range out.Referrers {
			if i > 0 && aws.ToString(out.Referrers[i-1].Digest) >= aws.ToString(r.Digest) {
				t.Fatalf("referrers not in digest order: %v", digests(out))
			}
			if aws.ToString(r.Digest) == aws.ToString(sigImg.ImageId.ImageDigest) {
				got = &out.Referrers[i]
			}
		}
		if got == nil {
			t.Fatalf("the signature is missing from %v", digests(out))
		}
		if aws.ToString(got.MediaType) != ociManifestType || aws.ToString(got.ArtifactType) != sig || aws.ToInt64(got.Size) != int64(len(sigManifest)) ||
			got.ArtifactStatus != types.ArtifactStatusActive || got.Annotations["note"] != "signature" {
			t.Fatalf("signature referrer %+v", got)
		}
	})

	t.Run("ArtifactTypes", func(t *testing.T) {
		out := list(t, &types.ListImageReferrersFilter{ArtifactTypes: []string{sbom}}, nil, nil)
		if got := strings.Join(digests(out), ","); len(out.Referrers) != 3 || !containsAll(got, sbomDigests) {
			t.Fatalf("sbom referrers %s, want %v", got, sbomDigests)
		}
		out = list(t, &types.ListImageReferrersFilter{ArtifactTypes: []string{sbom, sig}}, nil, nil)
		if len(out.Referrers) != 4 {
			t.Fatalf("%d referrers of either type, want 4", len(out.Referrers))
		}
		out = list(t, &types.ListImageReferrersFilter{ArtifactTypes: []string{"application/x-none"}}, nil, nil)
		if len(out.Referrers) != 0 || out.Referrers == nil {
			t.Fatalf("referrers of an absent type: %+v, want []", out.Referrers)
		}
	})

	// pages lists every referrer passing f, max at a time, following
	// the tokens.
	pages := func(t *testing.T, f *types.ListImageReferrersFilter, max int32) []string {
		t.Helper()
		var all []string
		var token *string
		for range 10 {
			out := list(t, f, aws.Int32(max), token)
			all = append(all, digests(out)...)
			if out.NextToken == nil {
				return all
			}
			token = out.NextToken
		}
		t.Fatal("too many pages")
		return nil
	}

	t.Run("Pages", func(t *testing.T) {
		if all := pages(t, nil, 3); len(all) != 4 || strings.Join(all, ",") != strings.Join(digests(list(t, nil, nil, nil)), ",") {
			t.Fatalf("pages of 3 gave %v", all)
		}
		_, err := c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: subjectDigest}, NextToken: aws.String("forged")})
		wantAPIError[*types.InvalidParameterException](t, err, "")
		// A token is for the subject it was issued for.
		first := list(t, nil, aws.Int32(1), nil)
		_, err = c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: other.ImageId.ImageDigest}, NextToken: first.NextToken})
		wantAPIError[*types.InvalidParameterException](t, err, "")
		// Pages of a filtered listing skip what the filter leaves out.
		all := pages(t, &types.ListImageReferrersFilter{ArtifactTypes: []string{sbom}}, 1)
		if got := strings.Join(all, ","); len(all) != 3 || !containsAll(got, sbomDigests) {
			t.Fatalf("sbom referrers one per page: %s, want %v", got, sbomDigests)
		}
		_, err = c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: subjectDigest}, MaxResults: aws.Int32(51)})
		wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
	})

	t.Run("Status", func(t *testing.T) {
		if _, err := storageClass(t, c, repo, byDigest(sbomDigests[0]), types.TargetStorageClassArchive); err != nil {
			t.Fatal(err)
		}
		if out := list(t, nil, nil, nil); len(out.Referrers) != 3 {
			t.Fatalf("%d active referrers after archiving one, want 3", len(out.Referrers))
		}
		out := list(t, &types.ListImageReferrersFilter{ArtifactStatus: types.ArtifactStatusFilterArchived}, nil, nil)
		if len(out.Referrers) != 1 || aws.ToString(out.Referrers[0].Digest) != sbomDigests[0] || out.Referrers[0].ArtifactStatus != types.ArtifactStatusArchived {
			t.Fatalf("archived referrers %+v", out.Referrers)
		}
		out = list(t, &types.ListImageReferrersFilter{ArtifactStatus: types.ArtifactStatusFilterAny, ArtifactTypes: []string{sbom}}, nil, nil)
		if len(out.Referrers) != 3 {
			t.Fatalf("%d sbom referrers of any status, want 3", len(out.Referrers))
		}
	})

	t.Run("Errors", func(t *testing.T) {
		out, err := c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(digestOf([]byte("no such image")))}})
		if err != nil || len(out.Referrers) != 0 {
			t.Fatalf("referrers of an absent subject: %+v, %v; want none", out, err)
		}
		_, err = c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
			SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String("sha256:nothex")}})
		wantAPIError[*types.InvalidParameterException](t, err, "imageDigest")
		_, err = c.ListImageReferrers(ctx(t), &ecr.ListImageReferrersInput{RepositoryName: aws.String("no/such"),
			SubjectId: &types.SubjectIdentifier{ImageDigest: subjectDigest}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "no/such")
		// The SDK checks required members itself; a hand-written request
		// without subjectId meets the server's check.
		wantRawError(t, s, "ListImageReferrers", `{"repositoryName":"ref/app"}`, "InvalidParameterException", "subjectId")
	})
}

// TestListImageReferrersDefaultPage: without maxResults a page holds 20
// referrers, as the model documents.
func TestListImageReferrersDefaultPage(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.client()
	const repo = "ref/many"
	createRepos(t, c, repo)
	subject := putImage(t, c, repo, ociManifest(pushConfig(t, c, repo, 1), "app"), "v1")
	empty := pushBlob(t, c, repo, []byte("{}"))
	for i := range 21 {
		putImage(t, c, repo, artifactManifest(t, c, repo, empty, "application/vnd.example.sbom", subject, fmt.Sprint("sbom ", i)), "")
	}
	in := &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo), SubjectId: &types.SubjectIdentifier{ImageDigest: subject.ImageId.ImageDigest}}
	out, err := c.ListImageReferrers(ctx(t), in)
	if err != nil || len(out.Referrers) != 20 || out.NextToken == nil {
		t.Fatalf("first page: %d referrers, next %v, %v; want 20 and a token", len(out.Referrers), out.NextToken, err)
	}
	in.NextToken = out.NextToken
	if out, err = c.ListImageReferrers(ctx(t), in); err != nil || len(out.Referrers) != 1 || out.NextToken != nil {
		t.Fatalf("second page: %+v, %v; want the last one", out, err)
	}
	in.NextToken, in.MaxResults = nil, aws.Int32(50)
	if out, err = c.ListImageReferrers(ctx(t), in); err != nil || len(out.Referrers) != 21 || out.NextToken != nil {
		t.Fatalf("maxResults 50: %d referrers, %v; want all 21", len(out.Referrers), err)
	}
}

// containsAll reports whether every one of want is in the comma list got.
func containsAll(got string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(","+got+",", ","+w+",") {
			return false
		}
	}
	return true
}
