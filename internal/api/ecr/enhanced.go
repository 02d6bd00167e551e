package ecr

import (
	"crypto/sha256"
	"fmt"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

// An ENHANCED registry's findings come from ecrd's own scanner too (ecrd
// has no Amazon Inspector): they are reported in the enhanced shape,
// with what the scanner knows of each finding filled in and the rest
// left out.

type enhancedFinding struct {
	AwsAccountID                string                      `json:"awsAccountId"`
	Description                 string                      `json:"description,omitempty"`
	FindingArn                  string                      `json:"findingArn"`
	FirstObservedAt             awsjson.Time                `json:"firstObservedAt,omitzero"`
	LastObservedAt              awsjson.Time                `json:"lastObservedAt,omitzero"`
	PackageVulnerabilityDetails packageVulnerabilityDetails `json:"packageVulnerabilityDetails"`
	Remediation                 remediation                 `json:"remediation"`
	Resources                   []findingResource           `json:"resources"`
	Score                       float64                     `json:"score,omitempty"`
	Severity                    string                      `json:"severity"`
	Status                      string                      `json:"status"`
	Title                       string                      `json:"title"`
	Type                        string                      `json:"type"`
	UpdatedAt                   awsjson.Time                `json:"updatedAt,omitzero"`
	FixAvailable                string                      `json:"fixAvailable"`
}

type cvssScore struct {
	BaseScore     float64 `json:"baseScore,omitempty"`
	ScoringVector string  `json:"scoringVector"`
	Source        string  `json:"source"`
	Version       string  `json:"version"`
}

type vulnerablePackage struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	PackageManager string `json:"packageManager"`
	FixedInVersion string `json:"fixedInVersion,omitempty"`
}

type packageVulnerabilityDetails struct {
	Cvss                   []cvssScore         `json:"cvss,omitempty"`
	ReferenceUrls          []string            `json:"referenceUrls,omitempty"`
	RelatedVulnerabilities []string            `json:"relatedVulnerabilities,omitempty"`
	Source                 string              `json:"source"`
	SourceURL              string              `json:"sourceUrl,omitempty"`
	VendorCreatedAt        awsjson.Time        `json:"vendorCreatedAt,omitzero"`
	VendorSeverity         string              `json:"vendorSeverity"`
	VendorUpdatedAt        awsjson.Time        `json:"vendorUpdatedAt,omitzero"`
	VulnerabilityID        string              `json:"vulnerabilityId"`
	VulnerablePackages     []vulnerablePackage `json:"vulnerablePackages"`
}

type remediation struct {
	Recommendation struct {
		Text string `json:"text"`
	} `json:"recommendation"`
}

type findingResource struct {
	Details struct {
		AwsEcrContainerImage struct {
			ImageHash      string `json:"imageHash"`
			Registry       string `json:"registry"`
			RepositoryName string `json:"repositoryName"`
		} `json:"awsEcrContainerImage"`
	} `json:"details"`
	ID   string `json:"id"`
	Type string `json:"type"`
}

func (a *API) enhancedFinding(sf registry.ScanFindings, f registry.Finding) enhancedFinding {
	account := string(sf.Key.Registry.Account())
	id := sha256.Sum256([]byte(string(sf.Key.Name) + "\x00" + sf.ID.Digest + "\x00" + f.Source + "\x00" + f.Package))
	sev := f.Severity
	if sev == "UNDEFINED" {
		sev = "UNTRIAGED"
	}
	out := enhancedFinding{
		AwsAccountID: account, Description: truncate(f.Description, 4096),
		FindingArn:      fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%x", a.region, account, id[:16]),
		FirstObservedAt: awsjson.Time{Time: sf.Scan.CompletedAt}, LastObservedAt: awsjson.Time{Time: sf.Scan.CompletedAt},
		UpdatedAt: awsjson.Time{Time: sf.Scan.CompletedAt},
		Severity:  sev, Status: "ACTIVE", Title: f.Name + " - " + f.Package, Type: "PACKAGE_VULNERABILITY", FixAvailable: "NO",
		PackageVulnerabilityDetails: packageVulnerabilityDetails{
			ReferenceUrls: f.References, RelatedVulnerabilities: f.Aliases, Source: "OSV", SourceURL: f.URI,
			VendorCreatedAt: awsjson.Time{Time: f.Published}, VendorUpdatedAt: awsjson.Time{Time: f.Modified},
			VendorSeverity: f.Severity, VulnerabilityID: f.Name,
			VulnerablePackages: []vulnerablePackage{{Name: f.Package, Version: f.Version, PackageManager: "OS", FixedInVersion: f.FixedIn}},
		},
	}
	for _, c := range f.CVSS {
		out.PackageVulnerabilityDetails.Cvss = append(out.PackageVulnerabilityDetails.Cvss, cvssScore{BaseScore: c.Score, ScoringVector: c.Vector, Source: "OSV", Version: c.Version})
		out.Score = max(out.Score, c.Score)
	}
	out.Remediation.Recommendation.Text = "None Provided"
	if f.FixedIn != "" {
		out.FixAvailable = "YES"
		out.Remediation.Recommendation.Text = fmt.Sprintf("Upgrade %s to %s or later.", f.Package, f.FixedIn)
	}
	var r findingResource
	r.Type, r.ID = "AWS_ECR_CONTAINER_IMAGE", fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s/%s", a.region, account, sf.Key.Name, sf.ID.Digest)
	img := &r.Details.AwsEcrContainerImage
	img.ImageHash, img.Registry, img.RepositoryName = sf.ID.Digest, account, string(sf.Key.Name)
	out.Resources = []findingResource{r}
	return out
}
