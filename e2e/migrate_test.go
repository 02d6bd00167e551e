package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/blobstore/s3"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/migrate"
)

// migrationTarget is a fresh pair of scale-out stores (scaleOut) to
// migrate into, and the ways to name it.
type migrationTarget struct {
	stores func(*config.Config)
	store  config.Store
}

func newMigrationTarget(t *testing.T) migrationTarget {
	t.Helper()
	stores := scaleOut(t)
	c := config.Default()
	stores(&c)
	return migrationTarget{stores: stores, store: c.Store}
}

// options are migrate.Options from dataDir into the target.
func (m migrationTarget) options(dataDir string) migrate.Options {
	b := m.store.S3
	return migrate.Options{DataDir: dataDir, PostgresDSN: m.store.PostgresDSN,
		S3: s3.Options{Bucket: b.Bucket, Prefix: b.Prefix, Endpoint: b.Endpoint, Region: b.Region,
			PathStyle: b.PathStyle, AccessKey: b.AccessKey, SecretKey: b.SecretKey}}
}

// command is `ecrd migrate` from dataDir into the target, its keys in the
// environment as a user gives them.
func (m migrationTarget) command(t *testing.T, dataDir string) *exec.Cmd {
	b := m.store.S3
	cmd := exec.Command(ecrdBinary(t), "migrate", "--from-data-dir", dataDir, "--to-postgres", m.store.PostgresDSN,
		"--s3-bucket", b.Bucket, "--s3-prefix", b.Prefix, "--s3-endpoint", b.Endpoint, "--s3-path-style")
	cmd.Env = append(os.Environ(), "ECRD_S3_ACCESS_KEY="+b.AccessKey, "ECRD_S3_SECRET_KEY="+b.SecretKey)
	return cmd
}

// source is a populated embedded registry, stopped, and what it answered.
type source struct {
	dataDir string
	m       migrated
	before  answers
	// onItsPorts starts a server on the listeners' addresses the source
	// had, so that repository URIs are the same.
	onItsPorts func(*config.Config)
	// auth are docker logins the source issued, by account.
	auth map[string]string
}

// populatedSource populates an embedded registry, records its answers,
// and stops it.
func populatedSource(t *testing.T) source {
	t.Helper()
	creds := withPublicCredentials(t)
	old := startServer(t, "", creds, func(c *config.Config) { c.Public.Listen = "127.0.0.1:0" })
	m := populate(t, old)
	// A first round of reads records the images' pulls (BatchGetImage), at
	// most once a minute: the second round, and the migrated registry's,
	// then see the same pull times.
	src := source{dataDir: old.DataDir, m: m, auth: map[string]string{
		"A": privateBasic(t, old.clientAs("AKIAONE", "s1", "us-east-1")),
		"B": privateBasic(t, old.clientAs("AKIATWO", "s2", "us-east-1")),
	}}
	snapshot(t, old, m, src.auth)
	src.before = snapshot(t, old, m, src.auth)
	listen, public := old.app.Addr().String(), publicHost(old)
	src.onItsPorts = func(c *config.Config) {
		creds(c)
		c.Server.Listen, c.Public.Listen = listen, public
	}
	old.stop()
	return src
}

// checkMigrated starts a server on the target and checks that it answers
// as the source did, serves every blob as it did to the source's docker
// logins, and has forgotten the upload in progress.
func checkMigrated(t *testing.T, src source, to migrationTarget) {
	t.Helper()
	s := startServer(t, "", to.stores, src.onItsPorts)
	after := snapshot(t, s, src.m, src.auth)
	for k, want := range src.before {
		if got, ok := after[k]; !ok {
			t.Errorf("%s: no answer after migration", k)
		} else if got != want {
			t.Errorf("%s after migration:\n got %s\nwant %s", k, got, want)
		}
	}
	for k := range after {
		if _, ok := src.before[k]; !ok {
			t.Errorf("%s: answered only after migration: %s", k, after[k])
		}
	}
	_, err := s.clientAs("AKIAONE", "s1", "us-east-1").UploadLayerPart(ctx(t), &ecr.UploadLayerPartInput{
		RepositoryName: aws.String("app/api"), UploadId: aws.String(src.m.uploadID),
		PartFirstByte: aws.Int64(6 << 20), PartLastByte: aws.Int64(6<<20 + 9), LayerPartBlob: make([]byte, 10)})
	wantAPIError[*types.UploadNotFoundException](t, err, "")
}

// progressLine is a plain progress line of `ecrd migrate`.
var progressLine = regexp.MustCompile(`^ecrd migrate: (\d+)/(\d+) objects, [0-9.]+ [KMGT]?i?B/[0-9.]+ [KMGT]?i?B, [0-9.]+ [KMGT]?i?B/s, (ETA \S+|done in \S+)$`)

// TestMigrate: `ecrd migrate` copies a populated embedded registry into
// PostgreSQL and S3 (a database on which a server had started, so holding
// its secrets only), and a server on them answers every read API of both
// accounts, ECR and ECR Public, as the embedded one did; the docker
// logins the embedded registry issued still pull every blob. Progress on a
// pipe is plain lines ending with a "done" line. A second run finds the
// registry migrated and changes nothing.
func TestMigrate(t *testing.T) {
	// Built first: between the source's answers and the target's, the
	// images' recorded pulls must not age past a minute (populatedSource).
	ecrdBinary(t)
	src := populatedSource(t)
	to := newMigrationTarget(t)
	startServer(t, "", to.stores).stop()

	cmd := to.command(t, src.dataDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ecrd migrate: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Logf("ecrd migrate:\n%s%s", stderr.String(), stdout.String())
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	for _, l := range lines {
		if !progressLine.MatchString(l) {
			t.Errorf("progress line %q is not of the plain form", l)
		}
	}
	if last := progressLine.FindStringSubmatch(lines[len(lines)-1]); last == nil || last[1] != last[2] || !strings.HasPrefix(last[3], "done") {
		t.Errorf("last progress line %q: want every object done", lines[len(lines)-1])
	}
	if !regexp.MustCompile(`^migrated \d+ records and \d+ blobs`).MatchString(stdout.String()) {
		t.Errorf("stdout %q: want the summary", stdout.String())
	}
	checkMigrated(t, src, to)

	again := to.command(t, src.dataDir)
	out, err := again.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "holds this registry already; checked its") {
		t.Fatalf("second ecrd migrate: %v\n%s", err, out)
	}
}

// TestMigrateResumes: a migration interrupted after three blobs, then
// again just before its metadata commits, completes when run again: the
// blobs copied stay and are not sent again, the metadata is all there
// once, and the registry answers as before.
func TestMigrateResumes(t *testing.T) {
	src := populatedSource(t)
	to := newMigrationTarget(t)
	interrupted := errors.New("interrupted")

	o := to.options(src.dataDir)
	o.AfterBlob = func(n int) error {
		if n == 3 {
			return interrupted
		}
		return nil
	}
	sum, err := migrate.Run(context.Background(), o)
	if !errors.Is(err, interrupted) {
		t.Fatalf("interrupted after 3 blobs: %+v, %v", sum, err)
	}
	first := sum.Copied
	if first < 3 || first >= sum.Blobs {
		t.Fatalf("copied %d of %d blobs before the interruption, want 3 or a few more", first, sum.Blobs)
	}

	o = to.options(src.dataDir)
	o.BeforeCommit = func() error { return interrupted }
	sum, err = migrate.Run(context.Background(), o)
	// A blob whose commit was in flight when the first run stopped may
	// have landed though that run counted it failed: this run finds it
	// in the bucket and skips it, so it copies at most the rest.
	if left := sum.Blobs - first; !errors.Is(err, interrupted) || sum.Copied > left || sum.Copied < left-4 { // 4: the blobs migrate copies at once
		t.Fatalf("interrupted before the commit: %+v, %v; want the %d blobs left copied (less the few in flight at the interruption)", sum, err, left)
	}

	sum, err = migrate.Run(context.Background(), to.options(src.dataDir))
	if err != nil || sum.Copied != 0 || sum.Records == 0 || sum.AlreadyMigrated {
		t.Fatalf("resumed: %+v, %v; want no blob copied again and every record", sum, err)
	}
	checkMigrated(t, src, to)
}

// TestMigrateRefuses: no migration from a data dir a server runs on, nor
// into a database that holds another registry; neither writes anything.
func TestMigrateRefuses(t *testing.T) {
	running := startServer(t, "")
	createRepos(t, running.client(), "busy")
	to := newMigrationTarget(t)
	if _, err := migrate.Run(context.Background(), to.options(running.DataDir)); !errors.Is(err, migrate.ErrServerRunning) {
		t.Fatalf("from a running server's data dir: %v, want ErrServerRunning", err)
	}
	running.stop()

	other := startServer(t, "", to.stores)
	createRepos(t, other.client(), "elsewhere")
	other.stop()
	if _, err := migrate.Run(context.Background(), to.options(running.DataDir)); !errors.Is(err, migrate.ErrTargetHoldsRegistry) {
		t.Fatalf("into a database holding another registry: %v, want ErrTargetHoldsRegistry", err)
	}
	s := startServer(t, "", to.stores)
	out, err := s.client().DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{})
	if err != nil || len(out.Repositories) != 1 || aws.ToString(out.Repositories[0].RepositoryName) != "elsewhere" {
		t.Fatalf("the target after the refusal: %+v, %v; want its own repository only", out, err)
	}
}

// TestMigrateRate measures `ecrd migrate`'s Go entry point on
// ECRD_MIGRATE_MEASURE_MIB MiB of blobs (20 layers, one image): a
// measurement run by hand, not a check, so it is skipped without the
// variable.
func TestMigrateRate(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("ECRD_MIGRATE_MEASURE_MIB"))
	if mib <= 0 {
		t.Skip("ECRD_MIGRATE_MEASURE_MIB is not set: a measurement, run by hand")
	}
	s := startServer(t, "")
	c := s.client()
	createRepos(t, c, "big")
	authz := privateBasic(t, c)
	const layers = 20
	var ls []blob
	for i := range layers {
		ls = append(ls, v2PushBlob(t, s.URL, authz, "big", layerBytes(mib<<20/layers, uint64(1000+i))))
	}
	putImage(t, c, "big", ociManifest(pushConfig(t, c, "big", 1), "", ls...), "v1")
	s.stop()

	to := newMigrationTarget(t)
	o := to.options(s.DataDir)
	o.Progress = testWriter{t}
	sum, err := migrate.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated %d blobs, %.1f MiB, %d records in %s: %.1f MiB/s", sum.Blobs, float64(sum.Bytes)/(1<<20), sum.Records,
		sum.Elapsed, float64(sum.Bytes)/(1<<20)/sum.Elapsed.Seconds())
	again, err := migrate.Run(context.Background(), to.options(s.DataDir))
	if err != nil || !again.AlreadyMigrated || again.Copied != 0 {
		t.Fatalf("second run: %+v, %v", again, err)
	}
	t.Logf("second run (every blob present, metadata there): %s", again.Elapsed)
}

// TestMigrateConcurrently: two migrations of one registry (from two copies
// of its data dir: a migration holds its data dir as a server does) into
// one target at once both succeed; one writes the metadata, the other
// finds it written (before it starts, or waiting on the first's lock).
func TestMigrateConcurrently(t *testing.T) {
	src := populatedSource(t)
	dup := t.TempDir()
	if err := os.CopyFS(dup, os.DirFS(src.dataDir)); err != nil {
		t.Fatal(err)
	}
	to := newMigrationTarget(t)
	sums := make([]migrate.Summary, 2)
	errs := make([]error, 2)
	done := make(chan int)
	for i, dir := range []string{src.dataDir, dup} {
		go func() {
			sums[i], errs[i] = migrate.Run(context.Background(), to.options(dir))
			done <- i
		}()
	}
	<-done
	<-done
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migration %d: %v", i, err)
		}
	}
	if sums[0].AlreadyMigrated == sums[1].AlreadyMigrated || sums[0].Records+sums[1].Records == 0 {
		t.Fatalf("summaries %+v: want one migration that wrote the records and one that found them", sums)
	}
	checkMigrated(t, src, to)
}
