package registry

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Scanning: the core keeps each registry's configuration and each image's
// scan, decides which pushes are scanned, and answers for the quota; a
// scanner (internal/scan), in whichever process, takes the scans that are
// due and records what it found. A push that is to be scanned records its
// scan in its own transaction, so no acknowledged push goes unscanned.

// scanQuota is how often an image may be scanned on request: once a
// rolling day, the scan on push included.
const scanQuota = 24 * time.Hour

// Image config media types a scan reads; any other artifact is not an
// image.
var scannableConfigs = map[string]bool{
	"application/vnd.docker.container.image.v1+json": true,
	"application/vnd.oci.image.config.v1+json":       true,
}

// unscannable answers for an image the scanner cannot read: an index, or
// an artifact that is not a container image.
func unscannable(img Image) error {
	mt := img.MediaType
	if !isIndex(img.MediaType) && len(img.Children) == 0 {
		if scannableConfigs[img.ArtifactMediaType] {
			return nil
		}
		mt = img.ArtifactMediaType
	}
	return Errorf(CodeUnsupportedImageType, "An artifact with media type '%s' cannot be scanned. For more information, see the Amazon ECR documentation.", mt)
}

func scanningConfig(tx Tx, reg RegistryID) (ScanningConfig, error) {
	c, err := tx.ScanningConfig(reg)
	if c.ScanType == "" {
		c.ScanType = ScanTypeBasic
	}
	return c, err
}

// RegistryScanningConfig returns the caller's registry's configuration.
func (r *Registry) RegistryScanningConfig(ctx context.Context) (RegistryID, ScanningConfig, error) {
	reg := Caller(ctx).Account
	if err := r.authorizeRegistry(ctx, "GetRegistryScanningConfiguration"); err != nil {
		return reg, ScanningConfig{}, err
	}
	var c ScanningConfig
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		c, err = scanningConfig(tx, reg)
		return err
	})
	return reg, c, err
}

// PutRegistryScanningConfig replaces the caller's registry's
// configuration: BASIC rules scan on push or mark repositories manual,
// ENHANCED rules scan on push or continuously. Images already scanned
// keep their scan; a change of scan type hides them until it changes back.
// Errors: InvalidParameter, AccessDenied.
func (r *Registry) PutRegistryScanningConfig(ctx context.Context, c ScanningConfig) (RegistryID, ScanningConfig, error) {
	reg := Caller(ctx).Account
	if c.ScanType == "" {
		c.ScanType = ScanTypeBasic
	}
	for _, rule := range c.Rules {
		if (c.ScanType == ScanTypeBasic && rule.Frequency == ScanContinuous) || (c.ScanType == ScanTypeEnhanced && rule.Frequency == ScanManual) {
			return reg, c, Errorf(CodeInvalidParameter,
				"Invalid parameter at 'scanFrequency' failed to satisfy constraint: 'The scan frequency %s is not supported for the scan type %s'", rule.Frequency, c.ScanType)
		}
	}
	if err := r.authorizeRegistry(ctx, "PutRegistryScanningConfiguration"); err != nil {
		return reg, c, err
	}
	return reg, c, r.meta.Update(ctx, func(tx Tx) error { return tx.PutScanningConfig(reg, c) })
}

// RepositoryScanning is how a repository's images are scanned.
type RepositoryScanning struct {
	Repository Repository
	Frequency  string
	// Filter is the rule's filter that gives the frequency, "" for none.
	Filter string
}

// RepositoriesScanning returns how each named repository of the caller's
// registry is scanned, and the names of those that do not exist.
// Errors: AccessDenied.
func (r *Registry) RepositoriesScanning(ctx context.Context, reg RegistryID, names []RepositoryName) ([]RepositoryScanning, []RepositoryName, error) {
	var out []RepositoryScanning
	var missing []RepositoryName
	err := r.meta.View(ctx, func(tx Tx) error {
		out, missing = nil, nil
		c, err := scanningConfig(tx, reg)
		if err != nil {
			return err
		}
		for _, name := range names {
			repo, err := r.access(ctx, tx, "BatchGetRepositoryScanningConfiguration", RepoKey{Registry: reg, Name: name})
			if IsCode(err, CodeRepositoryNotFound) {
				missing = append(missing, name)
				continue
			} else if err != nil {
				return err
			}
			freq, filter := c.Frequency(repo)
			out = append(out, RepositoryScanning{Repository: repo, Frequency: freq, Filter: filter})
		}
		return nil
	})
	return out, missing, err
}

// StartImageScan asks for a scan of an image, which a scanner then makes;
// the scan is returned IN_PROGRESS.
// Errors: RepositoryNotFound, ImageNotFound, UnsupportedImageType,
// ImageArchived, LimitExceeded, Validation (an ENHANCED registry scans by
// its rules only), AccessDenied.
func (r *Registry) StartImageScan(ctx context.Context, key RepoKey, id ImageID) (RepoKey, ImageID, ImageScan, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return key, id, ImageScan{}, err
	}
	var s ImageScan
	err = r.updateRepository(ctx, key, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "StartImageScan", key); err != nil {
			return err
		}
		d, err := r.lookupImage(tx, key, id)
		if err != nil {
			return err
		}
		id.Digest = string(d)
		img, err := tx.ImageManifest(key, d)
		if err != nil {
			return err
		}
		if err := unscannable(img); err != nil {
			return err
		}
		if r.effectiveStatus(img) != ImageActive {
			return Errorf(CodeImageArchived, "The image with imageId {imageDigest:'%s', imageTag:'%s'} in the repository with name '%s' is archived and cannot be scanned. Restore it first.", id.Digest, id.Tag, key.Name)
		}
		c, err := scanningConfig(tx, key.Registry)
		if err != nil {
			return err
		}
		if c.ScanType == ScanTypeEnhanced {
			return Errorf(CodeValidation, "This feature is disabled. The registry's scan type is ENHANCED: its images are scanned on push or continuously, as its rules say.")
		}
		now := r.now().UTC().Truncate(time.Microsecond)
		prev, err := tx.ImageScan(key, d)
		if err == nil && !prev.Enhanced && now.Sub(prev.RequestedAt) < scanQuota {
			return Errorf(CodeLimitExceeded, "The scan quota per image has been exceeded. Wait and try again.")
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		s = ImageScan{Key: key, Digest: d, Status: ScanInProgress, Pending: true, RequestedAt: now, NextAttempt: now, UpdatedAt: now}
		return tx.PutImageScan(s, []Finding{})
	})
	return key, id, s, err
}

// enqueueScanOnPush records, in a push's transaction, the scan of a new
// image when the registry's configuration (or the repository's own
// setting) scans its repository on push or continuously.
func (r *Registry) enqueueScanOnPush(tx Tx, key RepoKey, repo Repository, img Image) error {
	if key.Registry.IsPublic() || unscannable(img) != nil {
		return nil
	}
	c, err := scanningConfig(tx, key.Registry)
	if err != nil {
		return err
	}
	freq, _ := c.Frequency(repo)
	if freq == ScanManual {
		return nil
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	return tx.PutImageScan(ImageScan{Key: key, Digest: img.Digest, Status: ScanInProgress, Pending: true,
		Enhanced: c.ScanType == ScanTypeEnhanced, Continuous: freq == ScanContinuous,
		RequestedAt: now, NextAttempt: now, UpdatedAt: now}, []Finding{})
}

// ScanFindings is one page of a scan's findings.
type ScanFindings struct {
	Key      RepoKey
	ID       ImageID
	Scan     ImageScan
	Findings []Finding
	Next     string
	// Engine is the registry's BASIC_SCAN_TYPE_VERSION, which shapes how
	// a basic scan is reported.
	Engine string
}

// asEngine is a scan as the registry's basic engine reports it: CLAIR,
// ECR's former engine, said FAILED of an image whose OS it did not
// support, where AWS_NATIVE says UNSUPPORTED_IMAGE.
func asEngine(tx Tx, reg RegistryID, s *ImageScan) error {
	engine, err := accountSetting(tx, reg, SettingBasicScanType)
	if err == nil && engine == "CLAIR" && !s.Enhanced && s.Status == ScanUnsupportedImage {
		s.Status = ScanFailed
	}
	return err
}

// ImageScanFindings returns an image's scan and one page of its findings
// (the counts are of them all). A scan made under the other scan type
// than the registry's is not shown; an archived image's scan is
// IMAGE_ARCHIVED, without findings. A page token is good for the scan it
// came from: once the image is scanned again it is InvalidParameter.
// Errors: RepositoryNotFound, ImageNotFound, ScanNotFound,
// InvalidParameter, AccessDenied.
func (r *Registry) ImageScanFindings(ctx context.Context, key RepoKey, id ImageID, p Page) (ScanFindings, error) {
	key, err := r.resolve(ctx, key)
	if err != nil {
		return ScanFindings{Key: key, ID: id}, err
	}
	if p.Max <= 0 {
		p.Max = DefaultPageSize
	}
	pos, err := decodeToken("findings", p.Token)
	if err != nil {
		return ScanFindings{Key: key, ID: id}, err
	}
	var s ImageScan
	var findings []Finding
	next, engine := "", ""
	err = r.meta.View(ctx, func(tx Tx) error {
		if _, err := r.access(ctx, tx, "DescribeImageScanFindings", key); err != nil {
			return err
		}
		d, err := r.lookupImage(tx, key, id)
		if err != nil {
			return err
		}
		img, err := tx.ImageManifest(key, d)
		if err != nil {
			return err
		}
		c, err := scanningConfig(tx, key.Registry)
		if err != nil {
			return err
		}
		img.Status = r.effectiveStatus(img)
		shown, err := visibleScan(tx, key, img, &c)
		if err != nil {
			return err
		} else if shown == nil {
			return Errorf(CodeScanNotFound, "Image scan does not exist for the image with '{imageDigest:'%s', imageTag:'%s'}' in the repository with name '%s' in the registry with id '%s'",
				id.Digest, id.Tag, key.Name, key.Registry.Account())
		}
		s, id.Digest = *shown, string(d)
		if s.Status == ScanImageArchived {
			return nil
		}
		if engine, err = accountSetting(tx, key.Registry, SettingBasicScanType); err != nil {
			return err
		}
		if findings, err = tx.ImageScanFindings(key, d); err != nil {
			return err
		}
		findings, next, err = findingsPage(findings, s, pos, p.Max)
		return err
	})
	return ScanFindings{Key: key, ID: id, Scan: s, Findings: findings, Next: next, Engine: engine}, err
}

// findingsPage is the page of all at pos ("<completed at>:<offset>", ""
// for the first) and the token of the next.
func findingsPage(all []Finding, s ImageScan, pos string, max int) ([]Finding, string, error) {
	stamp := strconv.FormatInt(s.CompletedAt.UnixMicro(), 10)
	from := 0
	if pos != "" {
		at, off, _ := strings.Cut(pos, ":")
		n, err := strconv.Atoi(off)
		if at != stamp || err != nil || n < 0 || n > len(all) {
			return nil, "", Errorf(CodeInvalidParameter, "Invalid parameter at 'nextToken': the token is not of this image's latest scan")
		}
		from = n
	}
	to := min(from+max, len(all))
	next := ""
	if to < len(all) {
		next = encodeToken("findings", stamp+":"+strconv.Itoa(to))
	}
	return all[from:to], next, nil
}

// visibleScan is an image's scan (its status being the effective one) as
// the registry shows it, in DescribeImages and DescribeImageScanFindings
// alike: nil for none, or for one of the other scan type; an archived
// image's is IMAGE_ARCHIVED without counts; an unsupported image's reads
// as the registry's basic engine reports it (asEngine).
func visibleScan(tx Tx, key RepoKey, img Image, c *ScanningConfig) (*ImageScan, error) {
	s, err := tx.ImageScan(key, img.Digest)
	if errors.Is(err, ErrNotFound) || (err == nil && s.Enhanced != (c.ScanType == ScanTypeEnhanced)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if img.Status != ImageActive {
		s.Status, s.Description, s.Counts = ScanImageArchived, "The image is archived: restore it to see and refresh its scan.", nil
	} else if s.Status == ScanUnsupportedImage {
		err = asEngine(tx, key.Registry, &s)
	}
	return &s, err
}

// DueScans returns up to limit scans a scanner whose database is version
// should make now.
func (r *Registry) DueScans(ctx context.Context, version string, limit int) ([]ImageScan, error) {
	var out []ImageScan
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		out, err = tx.DueImageScans(r.now().UTC(), version, limit)
		return err
	})
	return out, err
}

// ClaimScan takes a due scan for at most lease: its next attempt moves
// past the lease, so no other scanner takes it meanwhile. It returns the
// scan as claimed, or false when it changed since it was read.
func (r *Registry) ClaimScan(ctx context.Context, s ImageScan, lease time.Duration) (ImageScan, bool, error) {
	claimed := false
	err := r.meta.Update(ctx, func(tx Tx) error {
		cur, err := tx.ImageScan(s.Key, s.Digest)
		if errors.Is(err, ErrNotFound) || (err == nil && !cur.UpdatedAt.Equal(s.UpdatedAt)) {
			claimed = false
			return nil
		} else if err != nil {
			return err
		}
		now := r.now().UTC().Truncate(time.Microsecond)
		cur.NextAttempt, cur.UpdatedAt = now.Add(lease), now
		s, claimed = cur, true
		return tx.PutImageScan(cur, nil)
	})
	return s, claimed, err
}

// StoredImage returns, for the core's own work (a scan, a signing), an
// image of a repository with its manifest and its status now; ErrNotFound
// when it is gone.
func (r *Registry) StoredImage(ctx context.Context, key RepoKey, d Digest) (Image, error) {
	var img Image
	err := r.meta.View(ctx, func(tx Tx) (err error) {
		img, err = tx.Image(key, d)
		img.Status = r.effectiveStatus(img)
		return err
	})
	return img, err
}

// RecordScan stores the outcome of a claimed scan (as ClaimScan returned
// it) with its findings, unless the scan changed since (a new request
// wins) or its image is gone.
func (r *Registry) RecordScan(ctx context.Context, claimed, outcome ImageScan, findings []Finding) error {
	return r.meta.Update(ctx, func(tx Tx) error {
		cur, err := tx.ImageScan(claimed.Key, claimed.Digest)
		if errors.Is(err, ErrNotFound) || (err == nil && !cur.UpdatedAt.Equal(claimed.UpdatedAt)) {
			return nil
		} else if err != nil {
			return err
		}
		outcome.UpdatedAt = r.now().UTC().Truncate(time.Microsecond)
		err = tx.PutImageScan(outcome, findings)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}
