package e2e

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

const mib = 1 << 20

// pushLayer uploads b to the repository in 10 MiB parts and completes it.
func pushLayer(t *testing.T, c *ecr.Client, repo string, b []byte) string {
	t.Helper()
	id := initiate(t, c, repo)
	for off := 0; off < len(b); off += 10 * mib {
		end := min(off+10*mib, len(b))
		uploadPart(t, c, repo, id, int64(off), b[off:end])
	}
	out, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{
		RepositoryName: aws.String(repo), UploadId: aws.String(id), LayerDigests: []string{digestOf(b)},
	})
	if err != nil {
		t.Fatalf("CompleteLayerUpload: %v", err)
	}
	return aws.ToString(out.LayerDigest)
}

func initiate(t *testing.T, c *ecr.Client, repo string) string {
	t.Helper()
	out, err := c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatalf("InitiateLayerUpload: %v", err)
	}
	return aws.ToString(out.UploadId)
}

func uploadPart(t *testing.T, c *ecr.Client, repo, id string, first int64, part []byte) {
	t.Helper()
	out, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{
		RepositoryName: aws.String(repo), UploadId: aws.String(id),
		PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(first + int64(len(part)) - 1), LayerPartBlob: part,
	})
	if err != nil {
		t.Fatalf("UploadLayerPart at %d: %v", first, err)
	}
	if got, want := aws.ToInt64(out.LastByteReceived), first+int64(len(part))-1; got != want {
		t.Fatalf("lastByteReceived = %d, want %d", got, want)
	}
}

func TestLayerUpload(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "up/load", "other/repo")
	repo := aws.String("up/load")

	t.Run("Initiate", func(t *testing.T) {
		out, err := c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: repo})
		if err != nil {
			t.Fatal(err)
		}
		if !uuidRE.MatchString(aws.ToString(out.UploadId)) || aws.ToInt64(out.PartSize) <= 0 {
			t.Fatalf("got uploadId %q partSize %d", aws.ToString(out.UploadId), aws.ToInt64(out.PartSize))
		}
		_, err = c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("no/such")})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "'no/such'")
	})

	t.Run("MultiPart64MiB", func(t *testing.T) {
		b := layerBytes(64*mib+12345, 42)
		d := pushLayer(t, c, "up/load", b)
		if d != digestOf(b) {
			t.Fatalf("layerDigest = %s, want %s", d, digestOf(b))
		}
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: repo, LayerDigests: []string{d}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Layers) != 1 || out.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable || aws.ToInt64(out.Layers[0].LayerSize) != int64(len(b)) {
			t.Fatalf("got %+v, want the layer AVAILABLE with size %d", out.Layers, len(b))
		}
		// The stored bytes are the uploaded bytes.
		stored := readBlob(t, s, d)
		if !bytes.Equal(stored, b) {
			t.Fatal("stored blob differs from the uploaded bytes")
		}
		t.Run("AlreadyExists", func(t *testing.T) {
			id := initiate(t, c, "up/load")
			for off := 0; off < len(b); off += 20 * mib {
				uploadPart(t, c, "up/load", id, int64(off), b[off:min(off+20*mib, len(b))])
			}
			_, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{d}})
			wantAPIError[*types.LayerAlreadyExistsException](t, err, d)
			// The upload is used up.
			_, err = c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{d}})
			wantAPIError[*types.UploadNotFoundException](t, err, id)
		})
	})

	t.Run("InvalidLayerPart", func(t *testing.T) {
		id := initiate(t, c, "up/load")
		part := layerBytes(100, 7)
		uploadPart(t, c, "up/load", id, 0, part)
		cases := []struct {
			name        string
			first, last int64
			blob        []byte
			msg         string
		}{
			{"Gap", 105, 204, part, "does not follow the last valid byte received, 99"},
			{"Overlap", 50, 149, part, "does not follow"},
			{"LastBeforeFirst", 100, 98, part, "is before its first byte"},
			{"LengthMismatch", 100, 150, part, "carries 100 bytes"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(id),
					PartFirstByte: aws.Int64(tc.first), PartLastByte: aws.Int64(tc.last), LayerPartBlob: tc.blob})
				e := wantAPIError[*types.InvalidLayerPartException](t, err, tc.msg)
				if aws.ToInt64(e.LastValidByteReceived) != 99 || aws.ToString(e.UploadId) != id ||
					aws.ToString(e.RepositoryName) != "up/load" || aws.ToString(e.RegistryId) != testAccount {
					t.Fatalf("exception members: lastValidByteReceived=%d uploadId=%q repositoryName=%q registryId=%q",
						aws.ToInt64(e.LastValidByteReceived), aws.ToString(e.UploadId), aws.ToString(e.RepositoryName), aws.ToString(e.RegistryId))
				}
			})
		}
		// The refused parts changed nothing: the upload goes on from byte 100.
		uploadPart(t, c, "up/load", id, 100, part)
		_, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{digestOf(append(append([]byte{}, part...), part...))}})
		wantAPIError[*types.LayerPartTooSmallException](t, err, "at least")
	})

	t.Run("PartTooLarge", func(t *testing.T) {
		id := initiate(t, c, "up/load")
		big := make([]byte, 20*mib+1)
		_, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(id),
			PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(big)) - 1), LayerPartBlob: big})
		wantAPIError[*types.InvalidParameterException](t, err, "layerPartBlob")
	})

	t.Run("UploadNotFound", func(t *testing.T) {
		unknown := "0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70"
		_, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(unknown),
			PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
		wantAPIError[*types.UploadNotFoundException](t, err, unknown)
		_, err = c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(unknown), LayerDigests: []string{digestOf(nil)}})
		wantAPIError[*types.UploadNotFoundException](t, err, unknown)
		// An upload of another repository is not found here either.
		id := initiate(t, c, "other/repo")
		_, err = c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(id),
			PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
		wantAPIError[*types.UploadNotFoundException](t, err, id)
		_, err = c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String("not-a-uuid"),
			PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
		wantAPIError[*types.InvalidParameterException](t, err, "uploadId")
	})

	t.Run("EmptyUpload", func(t *testing.T) {
		id := initiate(t, c, "up/load")
		_, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{digestOf(nil)}})
		wantAPIError[*types.EmptyUploadException](t, err, "does not contain any layer parts")
	})

	t.Run("InvalidLayer", func(t *testing.T) {
		b := layerBytes(3000, 9)
		id := initiate(t, c, "up/load")
		uploadPart(t, c, "up/load", id, 0, b)
		wrong := digestOf([]byte("something else"))
		_, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{wrong}})
		wantAPIError[*types.InvalidLayerException](t, err, "does not match the digest specified, '"+wrong+"'")
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: repo, LayerDigests: []string{digestOf(b), wrong}})
		if err != nil || len(out.Layers) != 0 || len(out.Failures) != 2 {
			t.Fatalf("after a refused complete: %+v, %v; want nothing available", out, err)
		}
		// The right digest still completes it, and a second complete finds nothing.
		if _, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{digestOf(b)}}); err != nil {
			t.Fatal(err)
		}
		_, err = c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{digestOf(b)}})
		wantAPIError[*types.UploadNotFoundException](t, err, "")
	})

	t.Run("LayerPartTooSmall", func(t *testing.T) {
		b := layerBytes(6*mib, 11)
		id := initiate(t, c, "up/load")
		uploadPart(t, c, "up/load", id, 0, b[:1*mib])
		uploadPart(t, c, "up/load", id, 1*mib, b[1*mib:])
		_, err := c.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(id), LayerDigests: []string{digestOf(b)}})
		wantAPIError[*types.LayerPartTooSmallException](t, err, "Layer parts must be at least")
		// A small last part is fine.
		d := pushLayer(t, c, "up/load", b)
		if d != digestOf(b) {
			t.Fatal(d)
		}
	})

	t.Run("TooManyParts", func(t *testing.T) {
		if testing.Short() {
			t.Skip("4,201 requests")
		}
		id := initiate(t, c, "up/load")
		for i := 0; i < 4200; i++ {
			uploadPart(t, c, "up/load", id, int64(i), []byte{byte(i)})
		}
		_, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(id),
			PartFirstByte: aws.Int64(4200), PartLastByte: aws.Int64(4200), LayerPartBlob: []byte{1}})
		wantAPIError[*types.LimitExceededException](t, err, "at most 4200 parts")
	})
}

// readBlob reads a blob straight from the server's data dir, where the
// filesystem blob store keeps it under its digest.
func readBlob(t *testing.T, s *server, digest string) []byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("%s/blobs/sha256/%s/%s", s.DataDir, digest[7:9], digest[7:]))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("sha256:%x", sha256.Sum256(b)); got != digest {
		t.Fatalf("blob %s hashes to %s", digest, got)
	}
	return b
}
