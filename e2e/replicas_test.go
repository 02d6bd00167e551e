package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ecrd/ecrd/internal/config"
)

// cluster is three ecrd processes on one PostgreSQL database and one
// bucket prefix, each with a data dir and port of its own.
type cluster struct {
	t      *testing.T    // the test the replicas live as long as
	bin    string        // the ecrd binary
	stores config.Config // the scale-out settings every replica gets
	r      [3]*replica
	authz  string // a /v2/ Basic header, good on every replica
}

// replica is one ecrd process of a cluster.
type replica struct {
	p   *crashProcess
	dir string    // its data dir
	env *crashEnv // its URL, ECR client and /v2/ Authorization
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t}
	scaleOut(t)(&c.stores)
	c.bin = ecrdBinary(t)
	for i := range c.r {
		c.r[i] = c.start(t)
	}
	c.authz = c.r[0].env.v2Auth
	return c
}

// storeArgs are the flags that put a process on the cluster's stores, and
// the environment that carries the bucket's keys.
func (c *cluster) storeArgs() (args, env []string) {
	s := c.stores.Store
	args = []string{"--meta", "postgres", "--postgres-dsn", s.PostgresDSN, "--blob", "s3",
		"--s3-bucket", s.S3.Bucket, "--s3-prefix", s.S3.Prefix, "--s3-endpoint", s.S3.Endpoint,
		"--s3-region", s.S3.Region, "--s3-path-style"}
	env = append(os.Environ(), "ECRD_S3_ACCESS_KEY="+s.S3.AccessKey, "ECRD_S3_SECRET_KEY="+s.S3.SecretKey)
	return args, env
}

// start runs one more replica, on a fresh data dir, and waits until it
// serves. It runs until the cluster's test ends; t (a subtest's) hears of
// failures to start it.
func (c *cluster) start(t *testing.T) *replica {
	t.Helper()
	args, env := c.storeArgs()
	w := &logWatch{pub: make(chan string, 1), api: make(chan string, 1)}
	dir := c.t.TempDir()
	cmd := exec.Command(c.bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--public-listen", "off",
		"--data-dir", dir, "--account-id", testAccount}, args...)...)
	cmd.Env, cmd.Stderr = env, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &crashProcess{cmd: cmd, exited: make(chan struct{}), log: w}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	c.t.Cleanup(func() {
		p.kill()
		if lines := w.errorLines(); len(lines) > 0 {
			c.t.Logf("replica %s logged %d warnings or errors; the first:\n%s", p.api, len(lines), strings.Join(lines[:min(5, len(lines))], "\n"))
		}
	})
	select {
	case a := <-w.api:
		p.api = "http://" + a
	case <-p.exited:
		t.Fatalf("ecrd exited before serving; its log ends:\n%s", w.tail())
	case <-time.After(crashTimeout):
		t.Fatalf("ecrd did not serve within %v; its log ends:\n%s", crashTimeout, w.tail())
	}
	s := &server{URL: p.api}
	e := &crashEnv{api: p.api, ecr: s.client(), hc: &http.Client{Timeout: crashTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	out, err := e.ecr.GetAuthorizationToken(ctx(t), &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(out.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken on %s: %v", p.api, err)
	}
	e.v2Auth = "Basic " + aws.ToString(out.AuthorizationData[0].AuthorizationToken)
	return &replica{p: p, dir: dir, env: e}
}

// TestThreeReplicas runs three ecrd processes as one registry: uploads
// whose requests go to different replicas, pulls from a third, a replica
// killed mid-push whose uploads go on elsewhere within seconds, tag races
// across replicas, and garbage collection on one replica while the others
// push and delete. At the end every image listed verifies digest by
// digest, and no blob it references is missing.
func TestThreeReplicas(t *testing.T) {
	start := time.Now()
	c := newCluster(t)
	t.Logf("three replicas serving in %v", time.Since(start).Round(time.Millisecond))
	r0, r1, r2 := c.r[0].env, c.r[1].env, c.r[2].env
	const repo = "three/app"
	createRepos(t, r0.ecr, repo, "three/race", "three/gc")
	if _, err := r1.ecr.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("three/immutable"),
		ImageTagMutability: types.ImageTagMutabilityImmutable}); err != nil {
		t.Fatal(err)
	}

	var chunked, parted []byte // the layers the first two cases push
	t.Run("V2ChunkedAcrossReplicas", func(t *testing.T) {
		// Each chunk is on another replica, each below S3's 5 MiB part
		// minimum; the Location each answers is followed on the next.
		chunked = layerBytes(2<<20+33, 301)
		loc, err := r0.startV2Upload(r0.api, c.authz, repo)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range []*crashEnv{r1, r2, r0} {
			lo, hi := i*len(chunked)/3, (i+1)*len(chunked)/3
			if loc, err = e.patchChunk(e.api, c.authz, onReplica(loc, e), chunked, lo, hi); err != nil {
				t.Fatalf("chunk %d on replica %d: %v", i, (i+1)%3, err)
			}
		}
		if err := r1.finishV2Upload(onReplica(loc, r1), c.authz, digestOf(chunked), nil); err != nil {
			t.Fatalf("PUT on replica 1: %v", err)
		}
	})

	t.Run("LayerPartsAcrossReplicas", func(t *testing.T) {
		parted = layerBytes(11<<20+5, 302)
		up, err := r0.ecr.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
		if err != nil {
			t.Fatal(err)
		}
		u := &openUpload{ecrAPI: true, name: repo, ref: aws.ToString(up.UploadId), data: parted, parts: []int64{0, 5 << 20, 10 << 20}}
		for i, e := range []*crashEnv{r1, r2, r1} {
			if err := e.uploadPart(ctx(t), u, i); err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
		}
		if _, err := r0.ecr.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo),
			UploadId: up.UploadId, LayerDigests: []string{digestOf(parted)}}); err != nil {
			t.Fatalf("CompleteLayerUpload on replica 0: %v", err)
		}
		// At once on another replica: no cache stands between them.
		out, err := r1.ecr.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{
			RepositoryName: aws.String(repo), LayerDigests: []string{digestOf(parted), digestOf(chunked)}})
		if err != nil || len(out.Layers) != 2 {
			t.Fatalf("BatchCheckLayerAvailability on replica 1: %+v, %v", out, err)
		}
		for _, l := range out.Layers {
			if l.LayerAvailability != types.LayerAvailabilityAvailable {
				t.Errorf("layer %s on replica 1: %s, want AVAILABLE", aws.ToString(l.LayerDigest), l.LayerAvailability)
			}
		}
	})

	t.Run("PullFromThird", func(t *testing.T) {
		if chunked == nil || parted == nil {
			t.Fatal("needs the layers of the cases before")
		}
		cfg := pushConfig(t, r0.ecr, repo, 303)
		manifest := ociManifest(cfg, "pull", blob{digestOf(chunked), len(chunked)}, blob{digestOf(parted), len(parted)})
		putImage(t, r0.ecr, repo, manifest, "v1")
		resp, body, err := r2.do(http.MethodGet, v2Path(r2.api, repo, "manifests/v1"), c.authz, nil, "Accept", ociManifestType)
		if err := statusErr("GET manifests/v1 on replica 2", resp, body, err, http.StatusOK); err != nil {
			t.Fatal(err)
		}
		if string(body) != manifest {
			t.Fatalf("manifest on replica 2: %s, want %s", body, manifest)
		}
		for _, d := range []string{cfg.Digest, digestOf(chunked), digestOf(parted)} {
			if err := c.checkBlob(r2, repo, d); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("KillMidPush", func(t *testing.T) { c.killMidPush(t, repo) })
	t.Run("TagRace", func(t *testing.T) { c.tagRace(t, "three/race", false) })
	t.Run("ImmutableTagRace", func(t *testing.T) { c.tagRace(t, "three/immutable", true) })
	t.Run("GCWhilePushing", func(t *testing.T) { c.gcWhilePushing(t, "three/gc") })
	images, blobs := c.verifyAll(t)
	t.Logf("%d images and %d blobs verified on three replicas; the test ran %v", images, blobs, time.Since(start).Round(time.Millisecond))
}

// onReplica is the upload URL loc on replica e.
func onReplica(loc string, e *crashEnv) string {
	u, _ := url.Parse(loc) // made by resolveLocation
	return e.api + u.RequestURI()
}

// checkBlob downloads a blob from replica e and checks its digest.
func (c *cluster) checkBlob(e *crashEnv, repo, digest string) error {
	resp, body, err := e.do(http.MethodGet, v2Path(e.api, repo, "blobs/"+digest), c.authz, nil)
	if err := statusErr("GET blob "+digest+" from "+e.api, resp, body, err, http.StatusOK); err != nil {
		return err
	}
	if got := digestOf(body); got != digest {
		return fmt.Errorf("blob %s of %s from %s: %d bytes hashing to %s", digest, repo, e.api, len(body), got)
	}
	return nil
}

// killMidPush kills replica 1 with SIGKILL while it writes a /v2/ chunk
// and an ECR layer part, and goes on with both uploads on replica 2. Its
// leases hold the uploads until the others take it for dead: the database
// heartbeat's expiry (about 10 s), not the one-minute lease timeout.
func (c *cluster) killMidPush(t *testing.T, repo string) {
	r0, r1, r2 := c.r[0].env, c.r[1].env, c.r[2].env
	// A /v2/ PATCH that sends half its body, then stalls until the kill.
	v2 := &openUpload{name: repo, data: layerBytes(3<<20, 311)}
	loc, err := r1.startV2Upload(r1.api, c.authz, repo)
	if err == nil {
		loc, err = r1.patchChunk(r1.api, c.authz, loc, v2.data, 0, 1<<20)
	}
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(loc)
	v2.ref = pu.RequestURI()
	v2.acked.Store(1 << 20)
	release := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	defer releaseAll()
	wg.Add(1)
	go func() {
		defer wg.Done()
		rest := v2.data[1<<20:]
		body := io.MultiReader(bytes.NewReader(rest[:len(rest)/2]), releaseReader(release))
		req, err := http.NewRequest(http.MethodPatch, r1.api+v2.ref, body)
		if err != nil {
			return
		}
		req.ContentLength = int64(len(rest))
		req.Header.Set("Authorization", c.authz)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", 1<<20, len(v2.data)-1))
		if resp, err := r1.hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	// An ECR upload begun on replica 0 whose 5 MiB parts go to replica 1
	// one after another until the kill.
	up, err := r0.ecr.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	const parts = 5
	ecrUp := &openUpload{ecrAPI: true, name: repo, ref: aws.ToString(up.UploadId), data: layerBytes(parts*(5<<20)-7, 312)}
	for i := range parts {
		ecrUp.parts = append(ecrUp.parts, int64(i)*(5<<20))
	}
	waitLeased := func(u *openUpload, what string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			ok, err := r2.leased(u)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				return
			}
		}
		t.Fatalf("replica 1 not seen writing %s within 10s", what)
	}
	waitLeased(v2, "the stalled /v2/ PATCH")
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, cancel := context.WithTimeout(context.Background(), crashTimeout)
		defer cancel()
		for i := range ecrUp.parts {
			if r1.uploadPart(c, ecrUp, i) != nil {
				return // the kill
			}
		}
	}()
	waitLeased(ecrUp, "an ECR layer part")
	killedAt := time.Now()
	if err := c.r[1].p.kill(); err != nil {
		t.Fatal(err)
	}
	// Three replicas again for the cases after, whatever becomes of this one.
	defer func() { c.r[1] = c.start(t) }()
	releaseAll()
	t.Logf("replica 1 killed with %d of %d ECR bytes acknowledged, while writing a part and a /v2/ chunk", ecrUp.acked.Load(), len(ecrUp.data))

	// The client retries the part it was sending on replica 2 until the
	// dead replica's lease is let go.
	i := 0
	for ecrUp.parts[i] < ecrUp.acked.Load() {
		i++
	}
	blocked, takenBefore := 0, false
	for {
		cc, cancel := context.WithTimeout(context.Background(), crashTimeout)
		err := r2.uploadPart(cc, ecrUp, i)
		cancel()
		var ilp *types.InvalidLayerPartException
		var re *awshttp.ResponseError
		switch {
		case err == nil:
		case errors.As(err, &ilp) && strings.Contains(ilp.ErrorMessage(), anotherWriter):
			blocked++
		case errors.As(err, &ilp) && aws.ToInt64(ilp.LastValidByteReceived)+1 > ecrUp.parts[i]:
			// The kill landed after the part was taken, before its answer.
			t.Logf("part %d was taken before the kill: %v", i, err)
			ecrUp.acked.Store(aws.ToInt64(ilp.LastValidByteReceived) + 1)
			err, takenBefore = nil, true
		case errors.As(err, &re) && re.HTTPStatusCode() >= 500:
			// Retried as the SDK's retryer would (versitygw's posix
			// backend fails a PutObject racing a DeleteObject now and
			// then: ExistingObjectIsDirectory).
			t.Logf("retrying part %d on replica 2: %v", i, err)
		default:
			t.Fatalf("retrying part %d on replica 2: %v", i, err)
		}
		if err == nil {
			break
		}
		if time.Since(killedAt) > 20*time.Second {
			t.Fatalf("part %d still held by the killed replica %v after the kill", i, time.Since(killedAt).Round(time.Millisecond))
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(killedAt)
	t.Logf("the part cut off by the kill was taken on replica 2 %v after it (%d retries refused while the lease stood)", took.Round(time.Millisecond), blocked)
	if blocked == 0 && !takenBefore {
		t.Error("the retry was never refused: the killed replica's lease did not hold the upload")
	}
	for i++; i < len(ecrUp.parts); i++ {
		if err := []*crashEnv{r0, r2}[i%2].uploadPart(ctx(t), ecrUp, i); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if _, err := r0.ecr.CompleteLayerUpload(ctx(t), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo),
		UploadId: up.UploadId, LayerDigests: []string{digestOf(ecrUp.data)}}); err != nil {
		t.Fatalf("CompleteLayerUpload on replica 0: %v", err)
	}
	// The /v2/ upload goes on at once: the holder is known dead by now.
	resp, body, err := r2.do(http.MethodGet, r2.api+v2.ref, c.authz, nil)
	if err := statusErr("GET the /v2/ upload on replica 2", resp, body, err, http.StatusNoContent); err != nil {
		t.Fatal(err)
	}
	n, err := uploadRange(resp.Header.Get("Range"))
	if err != nil || n < v2.acked.Load() || n > int64(len(v2.data)) {
		t.Fatalf("the /v2/ upload on replica 2 holds %d bytes (%v); %d were acknowledged", n, err, v2.acked.Load())
	}
	loc = r2.api + v2.ref
	if n < int64(len(v2.data)) {
		if loc, err = r2.patchChunk(r2.api, c.authz, loc, v2.data, int(n), len(v2.data)); err != nil {
			t.Fatalf("the /v2/ upload from byte %d on replica 2: %v", n, err)
		}
	}
	if err := r2.finishV2Upload(loc, c.authz, digestOf(v2.data), nil); err != nil {
		t.Fatal(err)
	}
	if took > 20*time.Second {
		t.Errorf("the upload was held %v after its replica died, want < 20s", took)
	}
	for _, d := range []string{digestOf(ecrUp.data), digestOf(v2.data)} {
		if err := c.checkBlob(r0, repo, d); err != nil {
			t.Error(err)
		}
	}
}

// tagRace has replicas 1 and 2 put the same tag to different manifests at
// once, round after round. In a mutable repository the tag ends on one of
// the images acknowledged; in an immutable one exactly one put succeeds
// and the other is ImageTagAlreadyExistsException.
func (c *cluster) tagRace(t *testing.T, repo string, immutable bool) {
	r0, r1, r2 := c.r[0].env, c.r[1].env, c.r[2].env
	cfg := pushConfig(t, r0.ecr, repo, 320)
	layer := pushBlob(t, r0.ecr, repo, layerBytes(4096, 321))
	const rounds = 12
	for round := range rounds {
		tag := fmt.Sprintf("race-%d", round)
		var manifests [2]string
		var errs [2]error
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i, e := range []*crashEnv{r1, r2} {
			manifests[i] = ociManifest(cfg, fmt.Sprintf("%s by %d", tag, i), layer)
			wg.Add(1)
			go func() {
				defer wg.Done()
				cc, cancel := context.WithTimeout(context.Background(), crashTimeout)
				defer cancel()
				<-gate
				_, errs[i] = e.ecr.PutImage(cc, &ecr.PutImageInput{RepositoryName: aws.String(repo),
					ImageManifest: aws.String(manifests[i]), ImageTag: aws.String(tag)})
			}()
		}
		close(gate)
		wg.Wait()
		out, err := r0.ecr.BatchGetImage(ctx(t), &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
			ImageIds: []types.ImageIdentifier{byTag(tag)}})
		if err != nil || len(out.Images) != 1 {
			t.Fatalf("round %d: BatchGetImage %s: %+v, %v", round, tag, out, err)
		}
		got := aws.ToString(out.Images[0].ImageManifest)
		var acked []string
		for i, err := range errs {
			var exists *types.ImageTagAlreadyExistsException
			switch {
			case err == nil:
				acked = append(acked, manifests[i])
			case immutable && errors.As(err, &exists):
			default:
				t.Errorf("round %d: PutImage %s on replica %d: %v", round, tag, i+1, err)
			}
		}
		if immutable && len(acked) != 1 {
			t.Errorf("round %d: %d of two puts of immutable tag %s succeeded, want exactly one (%v)", round, len(acked), tag, errs)
		}
		if len(acked) == 0 || (got != acked[0] && (len(acked) < 2 || got != acked[1])) {
			t.Errorf("round %d: tag %s ends on %s, not on an image acknowledged for it", round, tag, got)
		}
	}
}
