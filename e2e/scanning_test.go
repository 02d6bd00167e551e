package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// layerFile is one entry of a test layer: a file, or with link a symlink.
type layerFile struct{ name, body, link string }

// tarLayer is a gzipped tar of files, as an image layer.
func tarLayer(t *testing.T, files ...layerFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if f.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dpkgStatus is a Debian 12 image's package database: openssl, zlib
// (zlib1g), curl and libfoo (libfoo1) are vulnerable in the fixture, bash
// is fixed, and the removed oldpkg does not count.
const dpkgStatus = `Package: openssl
Status: install ok installed
Version: 3.0.11-1~deb12u1

Package: zlib1g
Status: install ok installed
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: bash
Status: install ok installed
Version: 5.2.15-2+b2

Package: curl
Status: install ok installed
Version: 7.88.1-10
Description: a tool
 with a continuation line: Version: 0

Package: libfoo1
Status: install ok installed
Source: libfoo (1.0-1)
Version: 1.0-1+b1

Package: oldpkg
Status: deinstall ok config-files
Source: openssl
Version: 3.0.0-1
`

const apkInstalled = `C:Q1abc=
P:musl
V:1.2.4_git20230717-r4
o:musl

P:musl-utils
V:1.2.4_git20230717-r4
o:musl

P:busybox
V:1.36.1-r15
o:busybox
`

// debianLayers and alpineLayers are the two scannable test images; the
// Debian one's os-release is the usual symlink, its status file replaced
// by a second layer after a first that the second whites out.
func debianLayers(t *testing.T) [][]byte {
	return [][]byte{
		tarLayer(t, layerFile{name: "etc/os-release", link: "../usr/lib/os-release"},
			layerFile{name: "usr/lib/os-release", body: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"},
			layerFile{name: "var/lib/dpkg/status", body: "Package: openssl\nStatus: install ok installed\nVersion: 1.0.0-1\n"},
			layerFile{name: "var/lib/dpkg/status.d/gone", body: "Package: zlib-old\nSource: zlib\nVersion: 1:1.2.0-1\n"}),
		tarLayer(t, layerFile{name: "./var/lib/dpkg/status", body: dpkgStatus}, layerFile{name: "var/lib/dpkg/status.d/.wh.gone"},
			layerFile{name: "usr/bin/curl", body: "binary"}),
	}
}

func alpineLayers(t *testing.T) [][]byte {
	return [][]byte{tarLayer(t, layerFile{name: "etc/os-release", body: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"},
		layerFile{name: "lib/apk/db/installed", body: apkInstalled})}
}

// pushLayered pushes an image of layers and returns its digest.
func pushLayered(t *testing.T, c *ecr.Client, repo, tag string, seed int, layers [][]byte) string {
	t.Helper()
	var blobs []blob
	for _, l := range layers {
		blobs = append(blobs, pushBlob(t, c, repo, l))
	}
	return aws.ToString(putImage(t, c, repo, ociManifest(pushConfig(t, c, repo, seed), tag, blobs...), tag).ImageId.ImageDigest)
}

// copyFixture copies the OSV fixture to a directory the test may change.
func copyFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata/osv")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata/osv", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func scanServer(t *testing.T, db string) *server {
	return startServer(t, "", func(c *config.Config) {
		c.Scan.VulnDB, c.Scan.Interval, c.Scan.DBInterval = db, 0, time.Nanosecond
	})
}

func findings(t *testing.T, c *ecr.Client, repo string, id types.ImageIdentifier, max int32) (*ecr.DescribeImageScanFindingsOutput, []types.ImageScanFinding) {
	t.Helper()
	in := &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(repo), ImageId: &id}
	if max > 0 {
		in.MaxResults = aws.Int32(max)
	}
	var first *ecr.DescribeImageScanFindingsOutput
	var all []types.ImageScanFinding
	p := ecr.NewDescribeImageScanFindingsPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("findings of %s: %v", repo, err)
		}
		if first == nil {
			first = out
		}
		if out.ImageScanFindings != nil {
			all = append(all, out.ImageScanFindings.Findings...)
		}
	}
	return first, all
}

func attr(f types.ImageScanFinding, key string) string {
	for _, a := range f.Attributes {
		if aws.ToString(a.Key) == key {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// TestBasicScanning: scans on push (a BASIC rule) and on request, of a
// Debian image (dpkg), an Alpine image (apk) and one with no OS, against
// the OSV fixture: findings, counts, statuses, the daily quota,
// pagination, the waiter, and the refusals (ecr-semantics-2.md §5.5).
func TestBasicScanning(t *testing.T) {
	t.Parallel()
	s := scanServer(t, copyFixture(t))
	c := s.client()
	createRepos(t, c, "os/debian", "os/alpine", "os/none", "os/index", "os/rocky")

	cfg, err := c.GetRegistryScanningConfiguration(ctx(t), &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil || cfg.ScanningConfiguration.ScanType != types.ScanTypeBasic || len(cfg.ScanningConfiguration.Rules) != 0 || aws.ToString(cfg.RegistryId) != testAccount {
		t.Fatalf("a fresh registry's configuration: %+v, %v", cfg, err)
	}
	put, err := c.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeBasic,
		Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("debian"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}}})
	if err != nil || put.RegistryScanningConfiguration == nil || len(put.RegistryScanningConfiguration.Rules) != 1 {
		t.Fatalf("put: %+v, %v", put, err)
	}

	// Scan on push: IN_PROGRESS until a scanner runs, and it counts
	// against the day's quota.
	deb := pushLayered(t, c, "os/debian", "12", 1, debianLayers(t))
	if st := describe(t, c, "os/debian", byTag("12")).ImageScanStatus; st == nil || st.Status != types.ScanStatusInProgress {
		t.Fatalf("describe-images after the push: %+v", st)
	}
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/debian"), ImageId: ptr(byDigest(deb))})
	wantCode(t, err, "LimitExceededException", "The scan quota per image has been exceeded. Wait and try again.")
	if n := s.app.ScanImages(ctx(t)); n != 1 {
		t.Fatalf("scanned %d images, want 1", n)
	}
	out, all := findings(t, c, "os/debian", byTag("12"), 3)
	if out.ImageScanStatus.Status != types.ScanStatusComplete || aws.ToString(out.ImageScanStatus.Description) != "The scan was completed successfully." {
		t.Fatalf("status: %+v", out.ImageScanStatus)
	}
	sf := out.ImageScanFindings
	wantCounts := map[string]int32{"CRITICAL": 1, "MEDIUM": 1, "LOW": 1, "UNDEFINED": 5}
	if !maps.Equal(sf.FindingSeverityCounts, wantCounts) || len(sf.Findings) != 3 || out.NextToken == nil {
		t.Errorf("first page: counts %v (want %v), %d findings, next %v", sf.FindingSeverityCounts, wantCounts, len(sf.Findings), out.NextToken)
	}
	if sf.ImageScanCompletedAt == nil || !sf.VulnerabilitySourceUpdatedAt.Equal(time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("times: completed %v, source updated %v", sf.ImageScanCompletedAt, sf.VulnerabilitySourceUpdatedAt)
	}
	var names []string
	for _, f := range all {
		names = append(names, aws.ToString(f.Name)+"/"+attr(f, "package_name")+"/"+string(f.Severity))
	}
	want := []string{"CVE-2023-0001/openssl/CRITICAL", "CVE-2023-0004/curl/MEDIUM", "CVE-2023-0002/zlib1g/LOW",
		"CVE-2023-1001/libfoo1/UNDEFINED", "CVE-2023-1002/libfoo1/UNDEFINED", "CVE-2023-1003/libfoo1/UNDEFINED",
		"CVE-2023-1004/libfoo1/UNDEFINED", "CVE-2023-1005/libfoo1/UNDEFINED"}
	if !slices.Equal(names, want) {
		t.Errorf("findings over the pages:\n got %v\nwant %v", names, want)
	}
	if f := all[0]; attr(f, "package_version") != "3.0.11-1~deb12u1" || attr(f, "CVSS3_SCORE") != "9.8" ||
		attr(f, "CVSS3_VECTOR") != "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" ||
		aws.ToString(f.Uri) != "https://security-tracker.debian.org/tracker/CVE-2023-0001" || !strings.Contains(aws.ToString(f.Description), "crafted certificate") {
		t.Errorf("the openssl finding: %+v", f)
	}
	summary := describe(t, c, "os/debian", byTag("12"))
	if summary.ImageScanStatus.Status != types.ScanStatusComplete || !maps.Equal(summary.ImageScanFindingsSummary.FindingSeverityCounts, wantCounts) {
		t.Errorf("describe-images: %+v %+v", summary.ImageScanStatus, summary.ImageScanFindingsSummary)
	}
	_, err = c.DescribeImageScanFindings(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("os/debian"),
		ImageId: ptr(byTag("12")), NextToken: aws.String("bogus")})
	wantCode(t, err, "InvalidParameterException", "nextToken")

	// A manual scan of a repository no rule matches; the waiter waits it out.
	alp := pushLayered(t, c, "os/alpine", "3.19", 2, alpineLayers(t))
	_, err = c.DescribeImageScanFindings(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("os/alpine"), ImageId: ptr(byTag("3.19"))})
	wantCode(t, err, "ScanNotFoundException", "Image scan does not exist for the image with '{imageDigest:'', imageTag:'3.19'}' in the repository with name 'os/alpine' in the registry with id '"+testAccount+"'")
	if describe(t, c, "os/alpine", byTag("3.19")).ImageScanStatus != nil {
		t.Error("an image never scanned has a scan status")
	}
	st, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/alpine"), ImageId: ptr(byTag("3.19"))})
	if err != nil || st.ImageScanStatus.Status != types.ScanStatusInProgress || aws.ToString(st.ImageId.ImageDigest) != alp || aws.ToString(st.ImageId.ImageTag) != "3.19" {
		t.Fatalf("start-image-scan: %+v, %v", st, err)
	}
	go func() { time.Sleep(300 * time.Millisecond); s.app.ScanImages(ctx(t)) }()
	waiter := ecr.NewImageScanCompleteWaiter(c, func(o *ecr.ImageScanCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := waiter.Wait(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("os/alpine"), ImageId: ptr(byTag("3.19"))}, 30*time.Second); err != nil {
		t.Fatalf("image-scan-complete: %v", err)
	}
	_, all = findings(t, c, "os/alpine", byTag("3.19"), 0)
	names = nil
	for _, f := range all {
		names = append(names, aws.ToString(f.Name)+"/"+attr(f, "package_name")+"/"+attr(f, "package_version")+"/"+string(f.Severity))
	}
	want = []string{"CVE-2024-0005/musl/1.2.4_git20230717-r4/HIGH", "CVE-2024-0005/musl-utils/1.2.4_git20230717-r4/HIGH"}
	if !slices.Equal(names, want) {
		t.Errorf("alpine findings:\n got %v\nwant %v", names, want)
	}
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/alpine"), ImageId: ptr(byDigest(alp))})
	wantCode(t, err, "LimitExceededException", "quota")

	// A Rocky Linux 9 image: rpm's SQLite database.
	rpmdb, err := os.ReadFile("testdata/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pushLayered(t, c, "os/rocky", "9", 5, [][]byte{tarLayer(t,
		layerFile{name: "etc/os-release", body: "NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"},
		layerFile{name: "var/lib/rpm/rpmdb.sqlite", body: string(rpmdb)})})
	if _, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/rocky"), ImageId: ptr(byTag("9"))}); err != nil {
		t.Fatal(err)
	}
	s.app.ScanImages(ctx(t))
	_, all = findings(t, c, "os/rocky", byTag("9"), 0)
	names = nil
	for _, f := range all {
		names = append(names, aws.ToString(f.Name)+"/"+attr(f, "package_name")+"/"+attr(f, "package_version")+"/"+string(f.Severity))
	}
	want = []string{"CVE-2024-0010/openssl/1:3.0.7-24.el9/HIGH", "CVE-2024-0010/openssl-libs/1:3.0.7-24.el9/HIGH"}
	if !slices.Equal(names, want) {
		t.Errorf("rocky findings:\n got %v\nwant %v", names, want)
	}

	// No OS ecrd knows: UNSUPPORTED_IMAGE.
	pushLayered(t, c, "os/none", "x", 3, [][]byte{tarLayer(t, layerFile{name: "hello", body: "static binary"})})
	if _, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/none"), ImageId: ptr(byTag("x"))}); err != nil {
		t.Fatal(err)
	}
	s.app.ScanImages(ctx(t))
	out, _ = findings(t, c, "os/none", byTag("x"), 0)
	if out.ImageScanStatus.Status != types.ScanStatusUnsupportedImage ||
		aws.ToString(out.ImageScanStatus.Description) != "UnsupportedImageError: The operating system and/or package manager are not supported." {
		t.Errorf("no OS: %+v", out.ImageScanStatus)
	}

	// BASIC_SCAN_TYPE_VERSION CLAIR reports as ECR's former engine did:
	// an unsupported OS is FAILED, and findings carry no CVSS v3.
	setEngine := func(v string) {
		if _, err := c.PutAccountSetting(ctx(t), &ecr.PutAccountSettingInput{Name: aws.String("BASIC_SCAN_TYPE_VERSION"), Value: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	setEngine("CLAIR")
	if out, _ = findings(t, c, "os/none", byTag("x"), 0); out.ImageScanStatus.Status != types.ScanStatusFailed {
		t.Errorf("no OS under CLAIR: %+v", out.ImageScanStatus)
	}
	if st := describe(t, c, "os/none", byTag("x")).ImageScanStatus; st.Status != types.ScanStatusFailed {
		t.Errorf("describe-images, no OS under CLAIR: %+v", st)
	}
	if _, all = findings(t, c, "os/alpine", byTag("3.19"), 0); attr(all[0], "CVSS3_SCORE") != "" || attr(all[0], "package_name") != "musl" {
		t.Errorf("a finding under CLAIR: %+v", all[0].Attributes)
	}
	setEngine("AWS_NATIVE")
	if _, all = findings(t, c, "os/alpine", byTag("3.19"), 0); attr(all[0], "CVSS3_SCORE") != "7.5" {
		t.Errorf("a finding under AWS_NATIVE: %+v", all[0].Attributes)
	}

	// Refusals.
	childManifest := ociManifest(pushConfig(t, c, "os/index", 4), "", pushBlob(t, c, "os/index", alpineLayers(t)[0]))
	putImage(t, c, "os/index", childManifest, "")
	putImage(t, c, "os/index", indexManifest(ociIndexType, ociManifestType, childManifest), "multi")
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/index"), ImageId: ptr(byTag("multi"))})
	wantCode(t, err, "UnsupportedImageTypeException", "An artifact with media type 'application/vnd.oci.image.index.v1+json' cannot be scanned. For more information, see the Amazon ECR documentation.")
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/alpine"), ImageId: ptr(byTag("nope"))})
	wantCode(t, err, "ImageNotFoundException", "nope")
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/gone"), ImageId: ptr(byTag("x"))})
	wantCode(t, err, "RepositoryNotFoundException", "os/gone")
	_, err = c.DescribeImageScanFindings(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("os/alpine"), ImageId: ptr(byTag("nope"))})
	wantCode(t, err, "ImageNotFoundException", "nope")

	// An archived image: no scan, and its scan reads IMAGE_ARCHIVED.
	if _, err := c.UpdateImageStorageClass(ctx(t), &ecr.UpdateImageStorageClassInput{RepositoryName: aws.String("os/debian"), ImageId: ptr(byTag("12")),
		TargetStorageClass: types.TargetStorageClassArchive}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("os/debian"), ImageId: ptr(byTag("12"))})
	wantCode(t, err, "ImageArchivedException", "archived")
	out, _ = findings(t, c, "os/debian", byTag("12"), 0)
	if out.ImageScanStatus.Status != types.ScanStatusImageArchived || out.ImageScanFindings != nil {
		t.Errorf("an archived image's scan: %+v %+v", out.ImageScanStatus, out.ImageScanFindings)
	}
}

// TestScanningWithoutDatabase: with no --vuln-db a scan ends
// FINDINGS_UNAVAILABLE, saying why; an image with no OS is still
// UNSUPPORTED_IMAGE.
func TestScanningWithoutDatabase(t *testing.T) {
	t.Parallel()
	s := scanServer(t, "")
	c := s.client()
	createRepos(t, c, "app")
	pushLayered(t, c, "app", "deb", 1, debianLayers(t))
	if _, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("app"), ImageId: ptr(byTag("deb"))}); err != nil {
		t.Fatal(err)
	}
	s.app.ScanImages(ctx(t))
	out, all := findings(t, c, "app", byTag("deb"), 0)
	if out.ImageScanStatus.Status != types.ScanStatusFindingsUnavailable || !strings.Contains(aws.ToString(out.ImageScanStatus.Description), "--vuln-db") || len(all) != 0 {
		t.Errorf("no database: %+v, %d findings", out.ImageScanStatus, len(all))
	}
}

// TestContinuousScanning: an ENHANCED registry scans CONTINUOUS_SCAN
// repositories on push and again whenever the database changes, reports
// the enhanced shape, hides the BASIC scans and refuses manual ones.
func TestContinuousScanning(t *testing.T) {
	t.Parallel()
	db := copyFixture(t)
	s := scanServer(t, db)
	c := s.client()
	createRepos(t, c, "cont/deb", "basic/alp")
	pushLayered(t, c, "basic/alp", "1", 2, alpineLayers(t))
	if _, err := c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("basic/alp"), ImageId: ptr(byTag("1"))}); err != nil {
		t.Fatal(err)
	}
	s.app.ScanImages(ctx(t))

	_, err := c.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeEnhanced,
		Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyContinuousScan,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("cont/*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}}})
	if err != nil {
		t.Fatal(err)
	}
	pushLayered(t, c, "cont/deb", "1", 1, debianLayers(t))
	pushLayered(t, c, "cont/deb", "none", 2, [][]byte{tarLayer(t, layerFile{name: "hello", body: "static binary"})})
	if n := s.app.ScanImages(ctx(t)); n != 2 {
		t.Fatalf("scanned %d images on push, want 2", n)
	}
	get := func() *ecr.DescribeImageScanFindingsOutput {
		out, err := c.DescribeImageScanFindings(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("cont/deb"), ImageId: ptr(byTag("1")), MaxResults: aws.Int32(1000)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := get()
	if out.ImageScanStatus.Status != types.ScanStatusActive || aws.ToString(out.ImageScanStatus.Description) != "Continuous scan is selected for image." ||
		len(out.ImageScanFindings.EnhancedFindings) != 8 || len(out.ImageScanFindings.Findings) != 0 {
		t.Fatalf("continuous scan: %+v, %d enhanced findings", out.ImageScanStatus, len(out.ImageScanFindings.EnhancedFindings))
	}
	ef := out.ImageScanFindings.EnhancedFindings[0]
	if d := ef.PackageVulnerabilityDetails; aws.ToString(d.VulnerabilityId) != "CVE-2023-0001" || aws.ToString(d.VulnerablePackages[0].Name) != "openssl" ||
		aws.ToString(d.VulnerablePackages[0].FixedInVersion) != "3.0.11-1~deb12u2" || aws.ToString(ef.FixAvailable) != "YES" || aws.ToString(ef.Severity) != "CRITICAL" || ef.Score != 9.8 {
		t.Errorf("the enhanced openssl finding: %+v", ef)
	}
	// Nothing changed: no rescan.
	if n := s.app.ScanImages(ctx(t)); n != 0 {
		t.Errorf("rescanned %d images with an unchanged database", n)
	}

	// The database gains an advisory for bash: the image is scanned again.
	entry := `{"id": "CVE-2025-0009", "modified": "2025-03-01T00:00:00Z", "details": "bash: a new flaw.", "database_specific": {"severity": "HIGH"},
	 "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.2.15-3"}]}]}]}`
	if err := os.WriteFile(filepath.Join(db, "CVE-2025-0009.json"), []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := s.app.ScanImages(ctx(t)); n != 2 {
		t.Fatalf("rescanned %d images after the database changed, want 2 (one unsupported)", n)
	}
	if n := s.app.ScanImages(ctx(t)); n != 0 {
		t.Errorf("rescanned %d images again", n)
	}
	out = get()
	if len(out.ImageScanFindings.EnhancedFindings) != 9 || out.ImageScanFindings.FindingSeverityCounts["HIGH"] != 1 ||
		!out.ImageScanFindings.VulnerabilitySourceUpdatedAt.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after the change: %d findings, counts %v, source updated %v", len(out.ImageScanFindings.EnhancedFindings),
			out.ImageScanFindings.FindingSeverityCounts, out.ImageScanFindings.VulnerabilitySourceUpdatedAt)
	}

	// The BASIC scan is hidden under ENHANCED; manual scans are refused.
	_, err = c.DescribeImageScanFindings(ctx(t), &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("basic/alp"), ImageId: ptr(byTag("1"))})
	wantCode(t, err, "ScanNotFoundException", "Image scan does not exist")
	_, err = c.StartImageScan(ctx(t), &ecr.StartImageScanInput{RepositoryName: aws.String("basic/alp"), ImageId: ptr(byTag("1"))})
	wantCode(t, err, "ValidationException", "ENHANCED")
	// Back to BASIC: it shows again.
	if _, err := c.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeBasic}); err != nil {
		t.Fatal(err)
	}
	if out, _ := findings(t, c, "basic/alp", byTag("1"), 0); out.ImageScanStatus.Status != types.ScanStatusComplete {
		t.Errorf("the BASIC scan back: %+v", out.ImageScanStatus)
	}
}

// TestScanningConfiguration: the registry configuration's validation,
// and BatchGetRepositoryScanningConfiguration's precedence: ENHANCED's
// CONTINUOUS_SCAN over SCAN_ON_PUSH; BASIC rules over the repository's
// own scanOnPush, which decides only without rules; the filters' two
// forms (ecr-semantics-2.md §5.3).
func TestScanningConfiguration(t *testing.T) {
	t.Parallel()
	s := scanServer(t, "")
	c := s.client()
	createRepos(t, c, "repo-prod-repo", "prodrepo", "repo-prod", "other")
	if _, err := c.PutImageScanningConfiguration(ctx(t), &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("other"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}}); err != nil {
		t.Fatal(err)
	}
	batch := func() map[string]string {
		t.Helper()
		out, err := c.BatchGetRepositoryScanningConfiguration(ctx(t), &ecr.BatchGetRepositoryScanningConfigurationInput{
			RepositoryNames: []string{"repo-prod-repo", "prodrepo", "repo-prod", "other", "nope"}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, sc := range out.ScanningConfigurations {
			f := ""
			if len(sc.AppliedScanFilters) == 1 {
				f = aws.ToString(sc.AppliedScanFilters[0].Filter)
			}
			got[aws.ToString(sc.RepositoryName)] = string(sc.ScanFrequency) + " " + f
			if (sc.ScanFrequency != types.ScanFrequencyManual) != sc.ScanOnPush || !strings.HasSuffix(aws.ToString(sc.RepositoryArn), ":repository/"+aws.ToString(sc.RepositoryName)) {
				t.Errorf("%+v", sc)
			}
		}
		if len(out.Failures) != 1 || aws.ToString(out.Failures[0].RepositoryName) != "nope" || out.Failures[0].FailureCode != types.ScanningConfigurationFailureCodeRepositoryNotFound {
			t.Errorf("failures: %+v", out.Failures)
		}
		return got
	}
	want := map[string]string{"repo-prod-repo": "MANUAL ", "prodrepo": "MANUAL ", "repo-prod": "MANUAL ", "other": "SCAN_ON_PUSH "}
	if got := batch(); !maps.Equal(got, want) {
		t.Errorf("no rules: %v, want %v", got, want)
	}
	filter := func(f string) types.ScanningRepositoryFilter {
		return types.ScanningRepositoryFilter{Filter: aws.String(f), FilterType: types.ScanningRepositoryFilterTypeWildcard}
	}
	if _, err := c.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeBasic,
		Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{filter("prod*")}}}}); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"repo-prod-repo": "MANUAL ", "prodrepo": "SCAN_ON_PUSH prod*", "repo-prod": "MANUAL ", "other": "MANUAL "}
	if got := batch(); !maps.Equal(got, want) {
		t.Errorf("BASIC prod*: %v, want %v", got, want)
	}
	if _, err := c.PutRegistryScanningConfiguration(ctx(t), &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeEnhanced,
		Rules: []types.RegistryScanningRule{
			{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{filter("prod")}},
			{ScanFrequency: types.ScanFrequencyContinuousScan, RepositoryFilters: []types.ScanningRepositoryFilter{filter("*prod")}}}}); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"repo-prod-repo": "SCAN_ON_PUSH prod", "prodrepo": "SCAN_ON_PUSH prod", "repo-prod": "CONTINUOUS_SCAN *prod", "other": "MANUAL "}
	if got := batch(); !maps.Equal(got, want) {
		t.Errorf("ENHANCED prod and *prod: %v, want %v", got, want)
	}

	for name, in := range map[string]*ecr.PutRegistryScanningConfigurationInput{
		"BASIC continuous": {ScanType: types.ScanTypeBasic, Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyContinuousScan, RepositoryFilters: []types.ScanningRepositoryFilter{filter("*")}}}},
		"ENHANCED manual":  {ScanType: types.ScanTypeEnhanced, Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyManual, RepositoryFilters: []types.ScanningRepositoryFilter{filter("*")}}}},
		"upper case":       {ScanType: types.ScanTypeBasic, Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{filter("Prod")}}}},
		"three rules": {ScanType: types.ScanTypeEnhanced, Rules: []types.RegistryScanningRule{
			{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{filter("a")}},
			{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{filter("b")}},
			{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{filter("c")}}}},
	} {
		if _, err := c.PutRegistryScanningConfiguration(ctx(t), in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	got, err := c.GetRegistryScanningConfiguration(ctx(t), &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil || got.ScanningConfiguration.ScanType != types.ScanTypeEnhanced || len(got.ScanningConfiguration.Rules) != 2 {
		t.Errorf("a refused put changed the configuration: %+v, %v", got.ScanningConfiguration, err)
	}
	names := make([]string, 26)
	for i := range names {
		names[i] = "other"
	}
	_, err = c.BatchGetRepositoryScanningConfiguration(ctx(t), &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: names})
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) {
		t.Errorf("26 names: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
