package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/blobstore/s3/s3test"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/metastore/postgres/pgtest"
)

// scaleOut returns the option that puts a server on the scale-out stores:
// a fresh PostgreSQL database (pgtest) and a fresh prefix of the test
// bucket (ECRD_TEST_S3_ENDPOINT, ECRD_TEST_S3_BUCKET; test.sh starts both).
// Servers given the same option share both, as replicas do.
func scaleOut(t *testing.T) func(*config.Config) {
	t.Helper()
	dsn := pgtest.FreshDatabase(t)
	srv := s3test.Find(t)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "e2e-" + hex.EncodeToString(b) + "/"
	return func(c *config.Config) {
		c.Store.Meta, c.Store.PostgresDSN = config.MetaPostgres, dsn
		c.Store.Blob = config.BlobS3
		c.Store.S3 = config.S3{Bucket: srv.Bucket, Prefix: prefix, Endpoint: srv.Endpoint, Region: srv.Region,
			PathStyle: true, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	}
}

// TestReplicas: two servers on one database and one bucket are one
// registry. A layer uploaded through replica A in parts spread over both
// is AVAILABLE on B at once; an image pushed through A pulls from B; a
// /v2/ chunked upload whose chunks go to alternate replicas completes; a
// tag moved on B is seen on A.
func TestReplicas(t *testing.T) {
	stores := scaleOut(t)
	a := startServer(t, "", stores)
	b := startServer(t, "", stores)
	ca, cb := a.client(), b.client()
	createRepos(t, ca, "replicas/app")

	// The ECR layer API, parts alternating between the replicas.
	data := layerBytes(11<<20, 21)
	up, err := ca.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("replicas/app")})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []*ecr.Client{ca, cb, ca} {
		lo, hi := i*(5<<20), min((i+1)*(5<<20), len(data))
		if _, err := c.UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{RepositoryName: aws.String("replicas/app"),
			UploadId: up.UploadId, PartFirstByte: aws.Int64(int64(lo)), PartLastByte: aws.Int64(int64(hi - 1)),
			LayerPartBlob: data[lo:hi]}); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if _, err := cb.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String("replicas/app"),
		UploadId: up.UploadId, LayerDigests: []string{digestOf(data)}}); err != nil {
		t.Fatalf("complete on replica B: %v", err)
	}
	out, err := ca.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("replicas/app"), LayerDigests: []string{digestOf(data)}})
	if err != nil || len(out.Layers) != 1 || out.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable {
		t.Fatalf("availability on replica A: %+v, %v", out, err)
	}

	// /v2/: a chunked upload, chunks alternating between the replicas
	// (each below S3's 5 MiB part minimum), then a manifest on A and a
	// pull from B.
	authz := privateBasic(t, ca)
	layer := layerBytes(3<<20+17, 22)
	loc := startV2Upload(t, a.URL, authz, "replicas/app")
	for i, base := range []string{b.URL, a.URL, b.URL} {
		lo, hi := i*len(layer)/3, (i+1)*len(layer)/3
		u := base + loc[len(a.URL):]
		resp, body := sendV2(t, http.MethodPatch, u, authz, layer[lo:hi], false, "Content-Range", rangeOf(lo, hi))
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("chunk %d on %s: %d %s", i, base, resp.StatusCode, body)
		}
		if loc, err = resolveLocation(a.URL, resp.Header.Get("Location")); err != nil {
			t.Fatal(err)
		}
	}
	if resp, body := sendV2(t, http.MethodPut, withDigest(loc, digestOf(layer)), authz, nil, false); resp.StatusCode != http.StatusCreated {
		t.Fatalf("finish on A: %d %s", resp.StatusCode, body)
	}
	cfg := pushConfig(t, ca, "replicas/app", 1)
	manifest := ociManifest(cfg, "", blob{digestOf(data), len(data)}, blob{digestOf(layer), len(layer)})
	putImage(t, ca, "replicas/app", manifest, "v1")
	if resp, body := v2Do(t, http.MethodGet, b.URL+"/v2/replicas/app/manifests/v1", authz, "", nil); resp.StatusCode != http.StatusOK || string(body) != manifest {
		t.Fatalf("manifest from B: %d", resp.StatusCode)
	}
	for _, l := range [][]byte{data, layer} {
		resp, body := v2Do(t, http.MethodGet, b.URL+"/v2/replicas/app/blobs/"+digestOf(l), authz, "", nil)
		if resp.StatusCode != http.StatusOK || digestOf(body) != digestOf(l) {
			t.Fatalf("blob %s from B: %d, %d bytes", digestOf(l), resp.StatusCode, len(body))
		}
	}

	// A tag moved on B is where A sees it.
	putImage(t, cb, "replicas/app", ociManifest(cfg, "second", blob{digestOf(layer), len(layer)}), "v1")
	img, err := ca.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String("replicas/app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(img.Images) != 1 || aws.ToString(img.Images[0].ImageManifest) == manifest {
		t.Fatalf("v1 on A after B moved it: %+v, %v", img, err)
	}
}

// rangeOf is a /v2/ Content-Range for bytes lo to hi-1.
func rangeOf(lo, hi int) string { return strconv.Itoa(lo) + "-" + strconv.Itoa(hi-1) }
