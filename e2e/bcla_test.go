package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// bclaLayer and bclaFailure are a BatchCheckLayerAvailability answer's
// entries, read the same way from either SDK.
type bclaLayer struct {
	Digest, Availability string
	Size                 int64
	MediaType            *string
}

type bclaFailure struct{ Digest, Code, Reason string }

// bclaCall calls one API's BatchCheckLayerAvailability on repo.
type bclaCall func(t *testing.T, repo string, digests ...string) ([]bclaLayer, []bclaFailure, error)

// testBCLACases runs the cases ECR and ECR Public share (one core answers
// both): pd is a 2777-byte layer of check/a that no image refers to,
// check/b exists and does not hold it.
func testBCLACases(t *testing.T, call bclaCall, pd string) {
	absent := digestOf([]byte("never uploaded"))
	check := func(t *testing.T, repo string, digests ...string) ([]bclaLayer, []bclaFailure) {
		t.Helper()
		layers, failures, err := call(t, repo, digests...)
		if err != nil {
			t.Fatal(err)
		}
		return layers, failures
	}

	t.Run("Mixed", func(t *testing.T) {
		malformed := []string{"not-a-digest", "sha256:" + strings.ToUpper(pd[7:]), "sha256:abc", "md5:" + strings.Repeat("a", 32), ""}
		in := append([]string{pd, absent, pd}, malformed...)
		in = append(in, absent)
		layers, failures := check(t, "check/a", in...)
		if len(layers) != 2 {
			t.Fatalf("layers = %+v, want the present digest twice", layers)
		}
		for _, l := range layers {
			if l.Digest != pd || l.Availability != "AVAILABLE" || l.Size != 2777 {
				t.Errorf("layer %+v, want %s AVAILABLE 2777 bytes", l, pd)
			}
			if l.MediaType != nil {
				t.Errorf("mediaType = %q for a layer no image refers to, want none", *l.MediaType)
			}
		}
		want := []string{absent + "=MissingLayerDigest"}
		for _, m := range malformed {
			want = append(want, m+"=InvalidLayerDigest")
		}
		want = append(want, absent+"=MissingLayerDigest")
		var got []string
		for _, f := range failures {
			got = append(got, f.Digest+"="+f.Code)
			if f.Reason == "" {
				t.Errorf("failure for %q has no reason", f.Digest)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("failures in order:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("PerRepository", func(t *testing.T) {
		layers, failures := check(t, "check/b", pd)
		if len(layers) != 0 || len(failures) != 1 || failures[0].Code != "MissingLayerDigest" {
			t.Fatalf("a layer of check/a seen from check/b: %+v %+v", layers, failures)
		}
	})

	t.Run("Hundred", func(t *testing.T) {
		digests := make([]string, 100)
		for i := range digests {
			digests[i] = digestOf([]byte(fmt.Sprint(i)))
		}
		digests[50] = pd
		layers, failures := check(t, "check/a", digests...)
		if len(layers) != 1 || len(failures) != 99 {
			t.Fatalf("got %d layers, %d failures; want 1 and 99", len(layers), len(failures))
		}
	})

	t.Run("HundredAndOne", func(t *testing.T) {
		digests := make([]string, 101)
		for i := range digests {
			digests[i] = pd
		}
		_, _, err := call(t, "check/a", digests...)
		wantCode(t, err, "InvalidParameterException", "Invalid parameter at 'layerDigests' failed to satisfy constraint: 'must have length less than or equal to 100'")
	})

	t.Run("Empty", func(t *testing.T) {
		_, _, err := call(t, "check/a")
		wantCode(t, err, "InvalidParameterException", "'layerDigests'")
	})

	t.Run("DigestTooLong", func(t *testing.T) {
		_, _, err := call(t, "check/a", strings.Repeat("a", 1001))
		wantCode(t, err, "InvalidParameterException", "must have length less than or equal to 1000")
	})

	t.Run("RepositoryNotFound", func(t *testing.T) {
		_, _, err := call(t, "no/such", pd)
		wantCode(t, err, "RepositoryNotFoundException", "The repository with name 'no/such' does not exist in the registry with id '"+testAccount+"'")
	})
}

func TestBatchCheckLayerAvailability(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "check/a", "check/b")
	pd := pushLayer(t, c, "check/a", layerBytes(2777, 3))
	testBCLACases(t, func(t *testing.T, repo string, digests ...string) ([]bclaLayer, []bclaFailure, error) {
		// An empty list is sent as one: the SDK refuses a missing one itself.
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: append([]string{}, digests...)})
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

	t.Run("OtherAccount", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RegistryId: aws.String("999999999999"), RepositoryName: aws.String("check/a"), LayerDigests: []string{pd}})
		wantCode(t, err, "AccessDeniedException", "on resource: arn:aws:ecr:us-east-1:999999999999:repository/check/a because no resource-based policy allows the ecr:BatchCheckLayerAvailability action")
	})

	t.Run("BadRegistryID", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RegistryId: aws.String("12345"), RepositoryName: aws.String("check/a"), LayerDigests: []string{pd}})
		wantAPIError[*types.InvalidParameterException](t, err, "registryId")
	})
}
