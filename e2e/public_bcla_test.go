package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
)

// TestPublicBatchCheckLayerAvailability runs the cases the private API's
// test runs (testBCLACases) through the ECR Public SDK, plus what only ECR
// Public has: registryId as an alias, RegistryNotFoundException, and an
// availability enum without ARCHIVED.
func TestPublicBatchCheckLayerAvailability(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "check/a", "check/b")
	present := layerBytes(2777, 3)
	pd := pushPublicLayer(t, c, "check/a", present)
	check := func(t *testing.T, registryID, repo string, digests ...string) *ecrpublic.BatchCheckLayerAvailabilityOutput {
		t.Helper()
		in := &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests}
		if registryID != "" {
			in.RegistryId = aws.String(registryID)
		}
		out, err := c.BatchCheckLayerAvailability(ctx(t), in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	bcla := func(registryID, repo string, digests ...string) error {
		in := &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests}
		if registryID != "" {
			in.RegistryId = aws.String(registryID)
		}
		_, err := c.BatchCheckLayerAvailability(ctx(t), in)
		return err
	}
	testBCLACases(t, func(t *testing.T, repo string, digests ...string) ([]bclaLayer, []bclaFailure, error) {
		// An empty list is sent as one: the SDK refuses a missing one itself.
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: append([]string{}, digests...)})
		if err != nil {
			return nil, nil, err
		}
		var layers []bclaLayer
		for _, l := range out.Layers {
			layers = append(layers, bclaLayer{aws.ToString(l.LayerDigest), string(l.LayerAvailability), aws.ToInt64(l.LayerSize), l.MediaType})
		}
		var failures []bclaFailure
		for _, f := range out.Failures {
			failures = append(failures, bclaFailure{aws.ToString(f.LayerDigest), string(f.FailureCode), aws.ToString(f.FailureReason)})
		}
		return layers, failures, nil
	}, pd)

	t.Run("RegistryIDOrAlias", func(t *testing.T) {
		for _, id := range []string{testAccount, publicAlias} {
			out := check(t, id, "check/a", pd)
			if len(out.Layers) != 1 || aws.ToString(out.Layers[0].LayerDigest) != pd {
				t.Errorf("registryId %q: layers %+v failures %+v, want %s", id, out.Layers, out.Failures, pd)
			}
		}
	})

	t.Run("OnlyAvailableOrUnavailable", func(t *testing.T) {
		// ECR Public's LayerAvailability has no ARCHIVED: a layer an image
		// refers to is AVAILABLE, with the media type the manifest gives it.
		cfg := pushPublicConfig(t, c, "check/a", 1)
		putPublicImage(t, c, "check/a", dockerManifest(cfg, blob{Digest: pd, Size: len(present)}), "v1")
		out := check(t, "", "check/a", pd, cfg.Digest)
		if len(out.Layers) != 2 {
			t.Fatalf("layers %+v failures %+v", out.Layers, out.Failures)
		}
		want := map[string]string{pd: dockerLayerType, cfg.Digest: dockerConfigType}
		for _, l := range out.Layers {
			if !slices.Contains(types.LayerAvailability("").Values(), l.LayerAvailability) || l.LayerAvailability != types.LayerAvailabilityAvailable {
				t.Errorf("layer %s availability %q, want AVAILABLE", aws.ToString(l.LayerDigest), l.LayerAvailability)
			}
			if got := aws.ToString(l.MediaType); got != want[aws.ToString(l.LayerDigest)] {
				t.Errorf("layer %s mediaType %q, want %q", aws.ToString(l.LayerDigest), got, want[aws.ToString(l.LayerDigest)])
			}
		}
	})

	t.Run("PrivateNameIsNoPublicRepository", func(t *testing.T) {
		createRepos(t, s.client(), "private/only")
		wantAPIError[*types.RepositoryNotFoundException](t, bcla("", "private/only", pd), "")
	})

	t.Run("RegistryNotFound", func(t *testing.T) {
		for _, id := range []string{"nosuchalias", "999999999999"} {
			wantAPIError[*types.RegistryNotFoundException](t, bcla(id, "check/a", pd), "")
		}
	})

	t.Run("BadRegistryID", func(t *testing.T) {
		// RegistryIdOrAlias is 2 to 50 characters.
		for _, id := range []string{"x", strings.Repeat("a", 51)} {
			wantAPIError[*types.InvalidParameterException](t, bcla(id, "check/a", pd), "")
		}
	})
}

// TestPublicLayerUpload repeats TestLayerUpload's exceptions for ECR
// Public, whose upload part quota is 1,000 rather than private ECR's 4,200.
func TestPublicLayerUpload(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := s.publicClient()
	createPublicRepos(t, c, "up/load", "other/repo")
	repo := aws.String("up/load")
	complete := func(id string, digests ...string) error {
		_, err := c.CompleteLayerUpload(ctx(t), &ecrpublic.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: digests})
		return err
	}
	upload := func(id string, first, last int64, blob []byte) error {
		_, err := c.UploadLayerPart(ctx(t), &ecrpublic.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(id),
			PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(last), LayerPartBlob: blob})
		return err
	}

	t.Run("Initiate", func(t *testing.T) {
		for _, id := range []*string{nil, aws.String(testAccount), aws.String(publicAlias)} {
			out, err := c.InitiateLayerUpload(ctx(t), &ecrpublic.InitiateLayerUploadInput{RegistryId: id, RepositoryName: repo})
			if err != nil {
				t.Fatalf("registryId %v: %v", aws.ToString(id), err)
			}
			if !uuidRE.MatchString(aws.ToString(out.UploadId)) || aws.ToInt64(out.PartSize) <= 0 {
				t.Fatalf("got uploadId %q partSize %d", aws.ToString(out.UploadId), aws.ToInt64(out.PartSize))
			}
		}
		_, err := c.InitiateLayerUpload(ctx(t), &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String("no/such")})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})

	t.Run("InvalidLayerPart", func(t *testing.T) {
		id := pubInitiate(t, c, "up/load")
		part := layerBytes(100, 7)
		pubUploadPart(t, c, "up/load", id, 0, part)
		e := wantAPIError[*types.InvalidLayerPartException](t, upload(id, 105, 204, part), "")
		if aws.ToInt64(e.LastValidByteReceived) != 99 || aws.ToString(e.UploadId) != id ||
			aws.ToString(e.RepositoryName) != "up/load" || aws.ToString(e.RegistryId) != testAccount {
			t.Fatalf("exception members: lastValidByteReceived=%d uploadId=%q repositoryName=%q registryId=%q",
				aws.ToInt64(e.LastValidByteReceived), aws.ToString(e.UploadId), aws.ToString(e.RepositoryName), aws.ToString(e.RegistryId))
		}
		// The refused part changed nothing: the upload goes on from byte 100.
		pubUploadPart(t, c, "up/load", id, 100, part)
	})

	t.Run("UploadNotFound", func(t *testing.T) {
		unknown := "0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70"
		wantAPIError[*types.UploadNotFoundException](t, upload(unknown, 0, 0, []byte{1}), "")
		wantAPIError[*types.UploadNotFoundException](t, complete(unknown, digestOf(nil)), "")
		// An upload of another repository is not found here either.
		other := pubInitiate(t, c, "other/repo")
		wantAPIError[*types.UploadNotFoundException](t, upload(other, 0, 0, []byte{1}), "")
		// Nor is one of a private repository of the same name.
		createRepos(t, s.client(), "up/load")
		private := initiate(t, s.client(), "up/load")
		wantAPIError[*types.UploadNotFoundException](t, upload(private, 0, 0, []byte{1}), "")
	})

	t.Run("EmptyUpload", func(t *testing.T) {
		wantAPIError[*types.EmptyUploadException](t, complete(pubInitiate(t, c, "up/load"), digestOf(nil)), "")
	})

	t.Run("InvalidLayer", func(t *testing.T) {
		b := layerBytes(3000, 9)
		id := pubInitiate(t, c, "up/load")
		pubUploadPart(t, c, "up/load", id, 0, b)
		wantAPIError[*types.InvalidLayerException](t, complete(id, digestOf([]byte("something else"))), "")
		// The right digest still completes it, and a second complete finds nothing.
		if err := complete(id, digestOf(b)); err != nil {
			t.Fatal(err)
		}
		wantAPIError[*types.UploadNotFoundException](t, complete(id, digestOf(b)), "")
	})

	t.Run("LayerPartTooSmall", func(t *testing.T) {
		b := layerBytes(6*mib, 11)
		id := pubInitiate(t, c, "up/load")
		pubUploadPart(t, c, "up/load", id, 0, b[:1*mib])
		pubUploadPart(t, c, "up/load", id, 1*mib, b[1*mib:])
		wantAPIError[*types.LayerPartTooSmallException](t, complete(id, digestOf(b)), "")
	})

	t.Run("LayerAlreadyExists", func(t *testing.T) {
		b := layerBytes(1234, 13)
		d := pushPublicLayer(t, c, "up/load", b)
		id := pubInitiate(t, c, "up/load")
		pubUploadPart(t, c, "up/load", id, 0, b)
		wantAPIError[*types.LayerAlreadyExistsException](t, complete(id, d), "")
		wantAPIError[*types.UploadNotFoundException](t, complete(id, d), "")
	})

	t.Run("TooManyParts", func(t *testing.T) {
		if testing.Short() {
			t.Skip("1,001 requests")
		}
		id := pubInitiate(t, c, "up/load")
		for i := range 1000 {
			pubUploadPart(t, c, "up/load", id, int64(i), []byte{byte(i)})
		}
		wantAPIError[*types.LimitExceededException](t, upload(id, 1000, 1000, []byte{1}), "")
	})

	t.Run("RegistryNotFound", func(t *testing.T) {
		id := pubInitiate(t, c, "up/load")
		for _, reg := range []string{"nosuchalias", "999999999999"} {
			r := aws.String(reg)
			_, err := c.InitiateLayerUpload(ctx(t), &ecrpublic.InitiateLayerUploadInput{RegistryId: r, RepositoryName: repo})
			wantAPIError[*types.RegistryNotFoundException](t, err, "")
			_, err = c.UploadLayerPart(ctx(t), &ecrpublic.UploadLayerPartInput{RegistryId: r, RepositoryName: repo, UploadId: aws.String(id),
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
			wantAPIError[*types.RegistryNotFoundException](t, err, "")
			_, err = c.CompleteLayerUpload(ctx(t), &ecrpublic.CompleteLayerUploadInput{RegistryId: r, RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{digestOf([]byte{1})}})
			wantAPIError[*types.RegistryNotFoundException](t, err, "")
			_, err = c.PutImage(ctx(t), &ecrpublic.PutImageInput{RegistryId: r, RepositoryName: repo, ImageManifest: aws.String(ociManifest(blob{Digest: digestOf(nil)}, "x"))})
			wantAPIError[*types.RegistryNotFoundException](t, err, "")
		}
		// The refused calls left the upload as it was.
		pubUploadPart(t, c, "up/load", id, 0, []byte{1})
	})
}
