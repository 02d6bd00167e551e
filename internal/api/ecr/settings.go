package ecr

import (
	"context"
	"fmt"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// ECR's own part of the repository settings operations: the scanning
// configuration, and the ARN by which the tag operations, shared with ECR
// Public in ecrshared, name a repository.

type putImageScanningConfigurationInput struct {
	RegistryID                 string         `json:"registryId"`
	RepositoryName             string         `json:"repositoryName"`
	ImageScanningConfiguration scanningConfig `json:"imageScanningConfiguration"`
}

type putImageScanningConfigurationOutput struct {
	RegistryID                 string         `json:"registryId"`
	RepositoryName             string         `json:"repositoryName"`
	ImageScanningConfiguration scanningConfig `json:"imageScanningConfiguration"`
}

// arnKey parses a repository's ARN in this region,
// arn:aws:ecr:<region>:<account>:repository/<name>; only repositories carry
// tags here.
func (a *API) arnKey(_ context.Context, arn string) (registry.RepoKey, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "ecr" || parts[3] != a.region || !strings.HasPrefix(parts[5], "repository/") {
		return registry.RepoKey{}, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'resourceArn': '%s' is not the ARN of a repository in %s", arn, a.region)
	}
	if _, err := registry.ParseRegistryID(parts[4]); err != nil {
		return registry.RepoKey{}, registry.Errorf(registry.CodeInvalidParameter, "Invalid parameter at 'resourceArn': '%s' does not name an account", arn)
	}
	return repoKey(parts[4], strings.TrimPrefix(parts[5], "repository/"))
}

func (a *API) putImageScanningConfiguration(ctx context.Context, in *putImageScanningConfigurationInput) (*putImageScanningConfigurationOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	repo, err := a.reg.PutImageScanningConfiguration(ctx, key, in.ImageScanningConfiguration.ScanOnPush)
	if err != nil {
		return nil, err
	}
	return &putImageScanningConfigurationOutput{RegistryID: string(repo.Registry), RepositoryName: string(repo.Name),
		ImageScanningConfiguration: scanningConfig{ScanOnPush: repo.ScanOnPush}}, nil
}

// repositoryARN is a private repository's ARN in this region.
func (a *API) repositoryARN(r registry.Repository) string {
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", a.region, r.Registry, r.Name)
}
