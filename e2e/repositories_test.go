package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestCreateRepository(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	before := time.Now().Add(-time.Second)

	t.Run("Defaults", func(t *testing.T) {
		out, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
		if err != nil {
			t.Fatal(err)
		}
		r := out.Repository
		host := strings.TrimPrefix(s.URL, "http://")
		checks := map[string][2]string{
			"repositoryArn":      {aws.ToString(r.RepositoryArn), "arn:aws:ecr:us-east-1:" + testAccount + ":repository/team/app"},
			"registryId":         {aws.ToString(r.RegistryId), testAccount},
			"repositoryName":     {aws.ToString(r.RepositoryName), "team/app"},
			"repositoryUri":      {aws.ToString(r.RepositoryUri), host + "/team/app"},
			"imageTagMutability": {string(r.ImageTagMutability), "MUTABLE"},
			"encryptionType":     {string(r.EncryptionConfiguration.EncryptionType), "AES256"},
		}
		for field, v := range checks {
			if v[0] != v[1] {
				t.Errorf("%s = %q, want %q", field, v[0], v[1])
			}
		}
		if r.ImageScanningConfiguration == nil || r.ImageScanningConfiguration.ScanOnPush {
			t.Errorf("imageScanningConfiguration = %+v, want scanOnPush false", r.ImageScanningConfiguration)
		}
		if r.CreatedAt == nil || r.CreatedAt.Before(before) || r.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("createdAt = %v, want about now", r.CreatedAt)
		}
	})

	t.Run("Settings", func(t *testing.T) {
		out, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{
			RepositoryName:                     aws.String("team/locked"),
			ImageTagMutability:                 types.ImageTagMutabilityImmutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("dev-*")}},
			ImageScanningConfiguration:         &types.ImageScanningConfiguration{ScanOnPush: true},
			EncryptionConfiguration:            &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms},
			Tags:                               []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		r := out.Repository
		if r.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || len(r.ImageTagMutabilityExclusionFilters) != 1 ||
			aws.ToString(r.ImageTagMutabilityExclusionFilters[0].Filter) != "dev-*" || !r.ImageScanningConfiguration.ScanOnPush {
			t.Errorf("settings not kept: %+v", r)
		}
		if !regexp.MustCompile(`^arn:aws:kms:us-east-1:` + testAccount + `:key/[0-9a-f-]{36}$`).MatchString(aws.ToString(r.EncryptionConfiguration.KmsKey)) {
			t.Errorf("kmsKey = %q, want the account's managed key ARN", aws.ToString(r.EncryptionConfiguration.KmsKey))
		}
		tags, err := c.ListTagsForResource(ctx(t), &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "infra" {
			t.Errorf("tags = %+v, want team=infra", tags.Tags)
		}
	})

	t.Run("AlreadyExists", func(t *testing.T) {
		_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
		wantAPIError[*types.RepositoryAlreadyExistsException](t, err, "The repository with name 'team/app' already exists in the registry with id '"+testAccount+"'")
	})

	t.Run("InvalidNames", func(t *testing.T) {
		for _, name := range []string{"Team/App", "-x", "a//b", "a___b", "x/", strings.Repeat("a", 257)} {
			_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
			wantAPIError[*types.InvalidParameterException](t, err, "Invalid parameter at 'repositoryName' failed to satisfy constraint")
		}
		// botocore checks the minimum length client side; the Go SDK does not.
		_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("a")})
		wantAPIError[*types.InvalidParameterException](t, err, "'must have length greater than or equal to 2'")
	})

	t.Run("Tags", func(t *testing.T) {
		many := make([]types.Tag, 51)
		for i := range many {
			many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
		}
		_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("tags/many"), Tags: many})
		wantAPIError[*types.TooManyTagsException](t, err, "at most 50 tags")
		_, err = c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("tags/long"),
			Tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}})
		wantAPIError[*types.InvalidTagParameterException](t, err, "between 1 and 128")
		// Nothing was created by the refused calls.
		_, err = c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"tags/many"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})

	t.Run("OtherAccount", func(t *testing.T) {
		_, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RegistryId: aws.String("999999999999"), RepositoryName: aws.String("x/y")})
		wantCode(t, err, "AccessDeniedException", "on resource: arn:aws:ecr:us-east-1:999999999999:repository/x/y because no resource-based policy allows the ecr:CreateRepository action")
	})
}

func TestDescribeRepositories(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	names := []string{"a/one", "b/two", "c/three", "d/four", "e/five"}
	for _, n := range names {
		if _, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("ByName", func(t *testing.T) {
		out, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"c/three", "a/one"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Repositories) != 2 || aws.ToString(out.Repositories[0].RepositoryName) != "c/three" || out.NextToken != nil {
			t.Fatalf("got %+v", out)
		}
	})

	t.Run("OneMissingFailsAll", func(t *testing.T) {
		_, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"a/one", "nope"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "The repository with name 'nope' does not exist in the registry with id '"+testAccount+"'")
	})

	t.Run("Paginated", func(t *testing.T) {
		var got []string
		pages := 0
		p := ecr.NewDescribeRepositoriesPaginator(c, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Repositories) > 2 {
				t.Fatalf("page of %d repositories, want at most 2", len(out.Repositories))
			}
			for _, r := range out.Repositories {
				got = append(got, aws.ToString(r.RepositoryName))
			}
		}
		if pages != 3 || strings.Join(got, ",") != strings.Join(names, ",") {
			t.Fatalf("got %v in %d pages, want %v in 3", got, pages, names)
		}
	})

	t.Run("NamesWithPaging", func(t *testing.T) {
		_, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"a/one"}, MaxResults: aws.Int32(1)})
		wantAPIError[*types.InvalidParameterException](t, err, "cannot be used when repositoryNames are given")
	})

	t.Run("BadToken", func(t *testing.T) {
		_, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{NextToken: aws.String("garbage")})
		wantAPIError[*types.InvalidParameterException](t, err, "nextToken")
	})

	t.Run("MaxResultsRange", func(t *testing.T) {
		for _, n := range []int32{0, 1001} {
			_, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(n)})
			wantAPIError[*types.InvalidParameterException](t, err, "maxResults")
		}
	})

	t.Run("OtherAccountIsRefused", func(t *testing.T) {
		_, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RegistryId: aws.String("999999999999"), RepositoryNames: []string{"a/one"}})
		wantCode(t, err, "AccessDeniedException", "on resource: arn:aws:ecr:us-east-1:999999999999:repository/a/one because no resource-based policy allows")
		_, err = c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RegistryId: aws.String("999999999999")})
		wantCode(t, err, "AccessDeniedException", "on resource: arn:aws:ecr:us-east-1:999999999999:repository/* because no resource-based policy allows")
	})
}

func TestDeleteRepository(t *testing.T) {
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "empty/repo", "full/repo")
	pushLayer(t, c, "full/repo", layerBytes(1000, 1))

	t.Run("Empty", func(t *testing.T) {
		out, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("empty/repo")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Repository.RepositoryName) != "empty/repo" {
			t.Fatalf("deleted %+v", out.Repository)
		}
		_, err = c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"empty/repo"}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
	})

	t.Run("NotEmpty", func(t *testing.T) {
		_, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full/repo")})
		wantAPIError[*types.RepositoryNotEmptyException](t, err, "The repository with name 'full/repo' in registry with id '"+testAccount+"' cannot be deleted because it still contains images")
	})

	t.Run("Force", func(t *testing.T) {
		if _, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full/repo"), Force: true}); err != nil {
			t.Fatal(err)
		}
		_, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("full/repo"), LayerDigests: []string{digestOf(layerBytes(1000, 1))}})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "")
		// A repository of the same name starts empty.
		if _, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("full/repo")}); err != nil {
			t.Fatal(err)
		}
		out, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("full/repo"), LayerDigests: []string{digestOf(layerBytes(1000, 1))}})
		if err != nil || len(out.Layers) != 0 || len(out.Failures) != 1 {
			t.Fatalf("recreated repository: got %+v, %v; want the layer missing", out, err)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		_, err := c.DeleteRepository(ctx(t), &ecr.DeleteRepositoryInput{RepositoryName: aws.String("never/was")})
		wantAPIError[*types.RepositoryNotFoundException](t, err, "'never/was'")
	})
}
