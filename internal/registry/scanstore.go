package registry

import (
	"strings"
	"time"
)

// The registry's scan types and the frequencies its rules give.
const (
	ScanTypeBasic    = "BASIC"
	ScanTypeEnhanced = "ENHANCED"

	ScanOnPush     = "SCAN_ON_PUSH"
	ScanContinuous = "CONTINUOUS_SCAN"
	ScanManual     = "MANUAL"
)

// The statuses of an image's scan, ECR's ScanStatus.
const (
	ScanInProgress          = "IN_PROGRESS"
	ScanComplete            = "COMPLETE"
	ScanFailed              = "FAILED"
	ScanUnsupportedImage    = "UNSUPPORTED_IMAGE"
	ScanActive              = "ACTIVE"
	ScanFindingsUnavailable = "FINDINGS_UNAVAILABLE"
	ScanImageArchived       = "IMAGE_ARCHIVED"
)

// ScanningRule scans the repositories any of its filters matches at its
// frequency.
type ScanningRule struct {
	Frequency string
	Filters   []string
}

// ScanningConfig is a registry's scanning configuration; the zero value
// (BASIC, no rules) is what a registry that never put one has.
type ScanningConfig struct {
	ScanType string
	Rules    []ScanningRule
}

// ScanFilterMatches is ECR's WILDCARD filter: without '*' a substring of
// the name; with '*' the whole name, each '*' any run of characters
// ('/' included).
func ScanFilterMatches(filter string, name RepositoryName) bool {
	if !strings.Contains(filter, "*") {
		return strings.Contains(string(name), filter)
	}
	return WildcardMatch(filter, string(name))
}

// Frequency is how the configuration scans a repository, and the filter
// that decided it ("" when none did). ENHANCED: a CONTINUOUS_SCAN rule's
// match beats a SCAN_ON_PUSH rule's, and a repository no rule matches is
// not scanned (MANUAL, which ENHANCED does not run). BASIC: once the
// registry has rules they decide (the repository's own scanOnPush, the
// deprecated setting, is read only by a registry without any), and a
// repository no rule matches is scanned manually.
func (c ScanningConfig) Frequency(repo Repository) (string, string) {
	order := []string{ScanOnPush, ScanManual}
	if c.ScanType == ScanTypeEnhanced {
		order = []string{ScanContinuous, ScanOnPush}
	}
	for _, freq := range order {
		for _, rule := range c.Rules {
			if rule.Frequency != freq {
				continue
			}
			for _, f := range rule.Filters {
				if ScanFilterMatches(f, repo.Name) {
					return freq, f
				}
			}
		}
	}
	if c.ScanType != ScanTypeEnhanced && len(c.Rules) == 0 && repo.ScanOnPush {
		return ScanOnPush, ""
	}
	return ScanManual, ""
}

// Finding is one vulnerability a scan found in one package.
type Finding struct {
	// Name is the vulnerability's ID (a CVE where it has one).
	Name        string
	Description string
	URI         string
	// Severity is one of ECR's FindingSeverity values.
	Severity string
	Package  string
	Version  string
	// FixedIn is the first version without it ("" if none is known).
	FixedIn string
	// PackageManager is dpkg, apk or rpm; Source the database's name for
	// the advisory's origin.
	PackageManager string
	Source         string
	CVSS           []CVSSScore
	References     []string
	Aliases        []string
	Published      time.Time
	Modified       time.Time
}

// CVSSScore is one CVSS rating of a finding.
type CVSSScore struct {
	Version string // "2.0", "3.1", ...
	Vector  string
	Score   float64
}

// ImageScan is the scan of one image of a repository: its latest outcome
// and whether a scan is wanted. A scanner (internal/scan) takes those
// Pending, or Continuous ones whose findings came from another version of
// its database, once NextAttempt has come.
type ImageScan struct {
	Key    RepoKey
	Digest Digest
	// Status and Description are what DescribeImageScanFindings reports.
	Status      string
	Description string
	// Enhanced: the scan was made under the ENHANCED scan type; Continuous:
	// the database's changes rescan the image.
	Enhanced   bool
	Continuous bool
	Pending    bool
	// RequestedAt is when the last scan on push or manual scan was asked
	// for: the one-scan-a-day quota counts from it.
	RequestedAt     time.Time
	CompletedAt     time.Time // zero before the first scan completes
	SourceUpdatedAt time.Time
	// SourceVersion identifies the vulnerability database of the findings.
	SourceVersion string
	// Counts are the findings by severity.
	Counts      map[string]int
	Attempts    int
	NextAttempt time.Time
	UpdatedAt   time.Time
}

// ScanTx keeps each registry's scanning configuration and its images'
// scans. Deleting an image deletes its scan.
type ScanTx interface {
	// ScanningConfig returns the registry's configuration (the zero value
	// when it has none).
	ScanningConfig(reg RegistryID) (ScanningConfig, error)
	// PutScanningConfig replaces it.
	PutScanningConfig(reg RegistryID, c ScanningConfig) error
	// ImageScan returns an image's scan, or ErrNotFound.
	ImageScan(key RepoKey, d Digest) (ImageScan, error)
	// ImageScanFindings returns the findings of an image's scan, in the
	// order stored (none for no scan).
	ImageScanFindings(key RepoKey, d Digest) ([]Finding, error)
	// PutImageScan creates or replaces an existing image's scan, and with
	// findings non-nil its findings; ErrNotFound when the image is gone.
	PutImageScan(s ImageScan, findings []Finding) error
	// DueImageScans returns up to limit scans whose NextAttempt is at or
	// before now and that are Pending, or Continuous with a SourceVersion
	// other than version; the longest due first.
	DueImageScans(now time.Time, version string, limit int) ([]ImageScan, error)
}
