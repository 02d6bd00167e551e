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

func TestBatchCheckLayerAvailability(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "check/a", "check/b")
	present := layerBytes(2777, 3)
	pd := pushLayer(t, c, "check/a", present)
	absent := digestOf([]byte("never uploaded"))
	check := func(t *testing.T, repo string, digests ...string) *ecr.BatchCheckLayerAvailabilityOutput {
		t.Helper()
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("Mixed", func(t *testing.T) {
		malformed := []string{"not-a-digest", "sha256:" + strings.ToUpper(pd[7:]), "sha256:abc", "md5:" + strings.Repeat("a", 32), ""}
		in := append([]string{pd, absent, pd}, malformed...)
		in = append(in, absent)
		out := check(t, "check/a", in...)
		if len(out.Layers) != 2 {
			t.Fatalf("layers = %+v, want the present digest twice", out.Layers)
		}
		for _, l := range out.Layers {
			if aws.ToString(l.LayerDigest) != pd || l.LayerAvailability != types.LayerAvailabilityAvailable || aws.ToInt64(l.LayerSize) != 2777 {
				t.Errorf("layer %+v, want %s AVAILABLE 2777 bytes", l, pd)
			}
			if l.MediaType != nil {
				t.Errorf("mediaType = %q for a layer no image refers to, want none", aws.ToString(l.MediaType))
			}
		}
		var want []string
		want = append(want, absent+"=MissingLayerDigest")
		for _, m := range malformed {
			want = append(want, m+"=InvalidLayerDigest")
		}
		want = append(want, absent+"=MissingLayerDigest")
		var got []string
		for _, f := range out.Failures {
			got = append(got, aws.ToString(f.LayerDigest)+"="+string(f.FailureCode))
			if aws.ToString(f.FailureReason) == "" {
				t.Errorf("failure for %q has no reason", aws.ToString(f.LayerDigest))
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("failures in order:\n got %v\nwant %v", got, want)
		}
	})

	t.Run("PerRepository", func(t *testing.T) {
		out := check(t, "check/b", pd)
		if len(out.Layers) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest {
			t.Fatalf("a layer of check/a seen from check/b: %+v", out)
		}
	})

	t.Run("Hundred", func(t *testing.T) {
		digests := make([]string, 100)
		for i := range digests {
			digests[i] = digestOf([]byte(fmt.Sprint(i)))
		}
		digests[50] = pd
		out := check(t, "check/a", digests...)
		if len(out.Layers) != 1 || len(out.Failures) != 99 {
			t.Fatalf("got %d layers, %d failures; want 1 and 99", len(out.Layers), len(out.Failures))
		}
	})

	t.Run("HundredAndOne", func(t *testing.T) {
		digests := make([]string, 101)
		for i := range digests {
			digests[i] = pd
		}
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("check/a"), LayerDigests: digests})
		wantAPIError[*types.InvalidParameterException](t, err, "Invalid parameter at 'layerDigests' failed to satisfy constraint: 'must have length less than or equal to 100'")
	})

	t.Run("Empty", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("check/a"), LayerDigests: []string{}})
		wantAPIError[*types.InvalidParameterException](t, err, "'layerDigests'")
	})

	t.Run("DigestTooLong", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("check/a"), LayerDigests: []string{strings.Repeat("a", 1001)}})
		wantAPIError[*types.InvalidParameterException](t, err, "must have length less than or equal to 1000")
	})

	t.Run("RepositoryNotFound", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("no/such"), LayerDigests: []string{pd}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "The repository with name 'no/such' does not exist in the registry with id '"+testAccount+"'")
	})

	t.Run("OtherAccount", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RegistryId: aws.String("999999999999"), RepositoryName: aws.String("check/a"), LayerDigests: []string{pd}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "registry with id '999999999999'")
	})

	t.Run("BadRegistryID", func(t *testing.T) {
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RegistryId: aws.String("12345"), RepositoryName: aws.String("check/a"), LayerDigests: []string{pd}})
		wantAPIError[*types.InvalidParameterException](t, err, "registryId")
	})
}
