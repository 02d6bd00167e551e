package ecr

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
	"github.com/ecrd/ecrd/internal/registry"
)

// The scanning operations: the registry's configuration, how it applies
// to repositories, and the scans of images (the core keeps them; the
// scanner in internal/scan makes them).

type scanningFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type scanningRule struct {
	ScanFrequency     string           `json:"scanFrequency"`
	RepositoryFilters []scanningFilter `json:"repositoryFilters"`
}

type registryScanningConfig struct {
	ScanType string         `json:"scanType"`
	Rules    []scanningRule `json:"rules"`
}

type putRegistryScanningConfigurationInput struct {
	ScanType string         `json:"scanType"`
	Rules    []scanningRule `json:"rules"`
}

type getRegistryScanningConfigurationOutput struct {
	RegistryID            string                 `json:"registryId"`
	ScanningConfiguration registryScanningConfig `json:"scanningConfiguration"`
}

// ECR answers Put under another key than Get.
type putRegistryScanningConfigurationOutput struct {
	RegistryScanningConfiguration registryScanningConfig `json:"registryScanningConfiguration"`
}

func wireScanningConfig(c registry.ScanningConfig) registryScanningConfig {
	out := registryScanningConfig{ScanType: c.ScanType, Rules: []scanningRule{}}
	for _, r := range c.Rules {
		rule := scanningRule{ScanFrequency: r.Frequency, RepositoryFilters: []scanningFilter{}}
		for _, f := range r.Filters {
			rule.RepositoryFilters = append(rule.RepositoryFilters, scanningFilter{Filter: f, FilterType: "WILDCARD"})
		}
		out.Rules = append(out.Rules, rule)
	}
	return out
}

func (a *API) getRegistryScanningConfiguration(ctx context.Context, _ *emptyInput) (*getRegistryScanningConfigurationOutput, error) {
	reg, c, err := a.reg.RegistryScanningConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &getRegistryScanningConfigurationOutput{RegistryID: string(reg), ScanningConfiguration: wireScanningConfig(c)}, nil
}

func (a *API) putRegistryScanningConfiguration(ctx context.Context, in *putRegistryScanningConfigurationInput) (*putRegistryScanningConfigurationOutput, error) {
	c := registry.ScanningConfig{ScanType: in.ScanType}
	for _, r := range in.Rules {
		rule := registry.ScanningRule{Frequency: r.ScanFrequency}
		for _, f := range r.RepositoryFilters {
			rule.Filters = append(rule.Filters, f.Filter)
		}
		c.Rules = append(c.Rules, rule)
	}
	_, c, err := a.reg.PutRegistryScanningConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	return &putRegistryScanningConfigurationOutput{RegistryScanningConfiguration: wireScanningConfig(c)}, nil
}

type batchGetRepositoryScanningConfigurationInput struct {
	RepositoryNames []string `json:"repositoryNames"`
}

type repositoryScanningConfig struct {
	RepositoryArn      string           `json:"repositoryArn"`
	RepositoryName     string           `json:"repositoryName"`
	ScanOnPush         bool             `json:"scanOnPush"`
	ScanFrequency      string           `json:"scanFrequency"`
	AppliedScanFilters []scanningFilter `json:"appliedScanFilters"`
}

type repositoryScanningFailure struct {
	RepositoryName string `json:"repositoryName"`
	FailureCode    string `json:"failureCode"`
	FailureReason  string `json:"failureReason"`
}

type batchGetRepositoryScanningConfigurationOutput struct {
	ScanningConfigurations []repositoryScanningConfig  `json:"scanningConfigurations"`
	Failures               []repositoryScanningFailure `json:"failures"`
}

func (a *API) batchGetRepositoryScanningConfiguration(ctx context.Context, in *batchGetRepositoryScanningConfigurationInput) (*batchGetRepositoryScanningConfigurationOutput, error) {
	reg := registry.Caller(ctx).Account
	names := make([]registry.RepositoryName, 0, len(in.RepositoryNames))
	for _, n := range in.RepositoryNames {
		names = append(names, registry.RepositoryName(n))
	}
	found, missing, err := a.reg.RepositoriesScanning(ctx, reg, names)
	if err != nil {
		return nil, err
	}
	out := &batchGetRepositoryScanningConfigurationOutput{ScanningConfigurations: []repositoryScanningConfig{}, Failures: []repositoryScanningFailure{}}
	for _, s := range found {
		c := repositoryScanningConfig{RepositoryArn: a.repositoryARN(s.Repository), RepositoryName: string(s.Repository.Name),
			ScanOnPush: s.Frequency != registry.ScanManual, ScanFrequency: s.Frequency, AppliedScanFilters: []scanningFilter{}}
		if s.Filter != "" {
			c.AppliedScanFilters = append(c.AppliedScanFilters, scanningFilter{Filter: s.Filter, FilterType: "WILDCARD"})
		}
		out.ScanningConfigurations = append(out.ScanningConfigurations, c)
	}
	for _, n := range missing {
		out.Failures = append(out.Failures, repositoryScanningFailure{RepositoryName: string(n), FailureCode: "REPOSITORY_NOT_FOUND",
			FailureReason: fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", n, reg.Account())})
	}
	return out, nil
}

type startImageScanInput struct {
	RegistryID     string                    `json:"registryId"`
	RepositoryName string                    `json:"repositoryName"`
	ImageID        ecrshared.ImageIdentifier `json:"imageId"`
}

type describeImageScanFindingsInput struct {
	RegistryID     string                    `json:"registryId"`
	RepositoryName string                    `json:"repositoryName"`
	ImageID        ecrshared.ImageIdentifier `json:"imageId"`
	NextToken      *string                   `json:"nextToken"`
	MaxResults     *int                      `json:"maxResults"`
}

type imageScanStatus struct {
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
}

type startImageScanOutput struct {
	RegistryID      string                    `json:"registryId"`
	RepositoryName  string                    `json:"repositoryName"`
	ImageID         ecrshared.ImageIdentifier `json:"imageId"`
	ImageScanStatus imageScanStatus           `json:"imageScanStatus"`
}

func (a *API) startImageScan(ctx context.Context, in *startImageScanInput) (*startImageScanOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	key, id, s, err := a.reg.StartImageScan(ctx, key, ecrshared.ImageIDs([]ecrshared.ImageIdentifier{in.ImageID})[0])
	if err != nil {
		return nil, err
	}
	return &startImageScanOutput{RegistryID: string(key.Registry.Account()), RepositoryName: string(key.Name),
		ImageID:         ecrshared.ImageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag},
		ImageScanStatus: imageScanStatus{Status: s.Status, Description: s.Description}}, nil
}

type findingAttribute struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

type imageScanFinding struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	URI         string             `json:"uri,omitempty"`
	Severity    string             `json:"severity"`
	Attributes  []findingAttribute `json:"attributes"`
}

type imageScanFindings struct {
	ImageScanCompletedAt         awsjson.Time       `json:"imageScanCompletedAt,omitzero"`
	VulnerabilitySourceUpdatedAt awsjson.Time       `json:"vulnerabilitySourceUpdatedAt,omitzero"`
	FindingSeverityCounts        map[string]int     `json:"findingSeverityCounts,omitempty"`
	Findings                     []imageScanFinding `json:"findings,omitempty"`
	EnhancedFindings             []enhancedFinding  `json:"enhancedFindings,omitempty"`
}

// imageScanFindingsSummary is what DescribeImages tells of a scan.
type imageScanFindingsSummary struct {
	ImageScanCompletedAt         awsjson.Time   `json:"imageScanCompletedAt,omitzero"`
	VulnerabilitySourceUpdatedAt awsjson.Time   `json:"vulnerabilitySourceUpdatedAt,omitzero"`
	FindingSeverityCounts        map[string]int `json:"findingSeverityCounts,omitempty"`
}

type describeImageScanFindingsOutput struct {
	RegistryID        string                    `json:"registryId"`
	RepositoryName    string                    `json:"repositoryName"`
	ImageID           ecrshared.ImageIdentifier `json:"imageId"`
	ImageScanStatus   imageScanStatus           `json:"imageScanStatus"`
	ImageScanFindings *imageScanFindings        `json:"imageScanFindings,omitempty"`
	NextToken         string                    `json:"nextToken,omitempty"`
}

func (a *API) describeImageScanFindings(ctx context.Context, in *describeImageScanFindingsInput) (*describeImageScanFindingsOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	sf, err := a.reg.ImageScanFindings(ctx, key, ecrshared.ImageIDs([]ecrshared.ImageIdentifier{in.ImageID})[0], ecrshared.Page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	s := sf.Scan
	out := &describeImageScanFindingsOutput{RegistryID: string(sf.Key.Registry.Account()), RepositoryName: string(sf.Key.Name),
		ImageID:         ecrshared.ImageIdentifier{ImageDigest: sf.ID.Digest, ImageTag: sf.ID.Tag},
		ImageScanStatus: imageScanStatus{Status: s.Status, Description: s.Description}, NextToken: sf.Next}
	if s.CompletedAt.IsZero() || s.Status == registry.ScanImageArchived {
		return out, nil
	}
	f := &imageScanFindings{ImageScanCompletedAt: awsjson.Time{Time: s.CompletedAt},
		VulnerabilitySourceUpdatedAt: awsjson.Time{Time: s.SourceUpdatedAt}, FindingSeverityCounts: s.Counts}
	for _, fd := range sf.Findings {
		if s.Enhanced {
			f.EnhancedFindings = append(f.EnhancedFindings, a.enhancedFinding(sf, fd))
		} else {
			f.Findings = append(f.Findings, basicFinding(fd, sf.Engine))
		}
	}
	out.ImageScanFindings = f
	return out, nil
}

// basicFinding is a finding in ECR's basic-scan shape, its attributes
// those ECR's engine gives: CLAIR reported CVSS v2 only, AWS_NATIVE adds
// v3.
func basicFinding(f registry.Finding, engine string) imageScanFinding {
	out := imageScanFinding{Name: f.Name, Description: truncate(f.Description, 4096), URI: f.URI, Severity: f.Severity,
		Attributes: []findingAttribute{{Key: "package_name", Value: f.Package}, {Key: "package_version", Value: f.Version}}}
	for _, c := range f.CVSS {
		prefix := "CVSS3"
		if c.Version == "2.0" {
			prefix = "CVSS2"
		} else if engine == "CLAIR" {
			continue
		}
		out.Attributes = append(out.Attributes, findingAttribute{Key: prefix + "_VECTOR", Value: truncate(c.Vector, 256)})
		if c.Score > 0 {
			out.Attributes = append(out.Attributes, findingAttribute{Key: prefix + "_SCORE", Value: strconv.FormatFloat(c.Score, 'f', 1, 64)})
		}
	}
	if f.FixedIn != "" {
		out.Attributes = append(out.Attributes, findingAttribute{Key: "fixed_in_version", Value: truncate(f.FixedIn, 256)})
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
