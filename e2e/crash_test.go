package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"

	// The driver registers itself as "sqlite", for the integrity check.
	_ "modernc.org/sqlite"
)

var (
	crashIterations = flag.Int("crash.iterations", 20, "kill -9 rounds of TestCrashLoop")
	crashSeed       = flag.Uint64("crash.seed", 0, "random seed of TestCrashLoop (0: from the clock)")
)

// crashPushers is how many pushers run at each kill.
const crashPushers = 6

// TestCrashLoop kills ecrd with SIGKILL while six pushers push images
// through every upload path and a few uploads are held open, one with a
// request writing to it. After each kill the metadata database passes
// SQLite's integrity check and every acknowledged blob has its file; after
// each restart over the same data dir every acknowledged blob and manifest
// is served with its exact bytes, and every upload that was open at the
// kill goes on at once from where the server says it stands.
func TestCrashLoop(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("-crash.seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	led := &ledger{lost: map[string]bool{}}
	var open []*openUpload // held open at the last kill
	var resumed, blocked, caught int
	var problems []string // error lines of every process
	start := time.Now()
	var bases [][]byte
	for i := 0; ; i++ {
		t0 := time.Now()
		p := startCrashProcess(t, dir)
		e, err := newCrashEnv(p)
		if err != nil {
			t.Fatalf("restart %d: %v", i, err)
		}
		if i == 0 {
			bases = crashSetup(t, e, led)
		}
		t1 := time.Now()
		// At once, before anything else: the uploads open at the kill go on.
		for _, u := range open {
			before := u.String()
			if err := e.resume(u, led, i); err != nil {
				blocked++
				t.Errorf("upload %s blocked after restart %d: %v", before, i, err)
				continue
			}
			resumed++
			if u.reported != u.ackedAtKill {
				t.Logf("upload %s: the server held %d bytes after the restart", before, u.reported)
			}
		}
		last := i == *crashIterations
		t2 := time.Now()
		led.verify(t, e, i-1, last, rng)
		t.Logf("restart %d: serving in %v, held uploads finished in %v, writes checked in %v", i,
			t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
		if last {
			if err := p.kill(); err != nil {
				t.Error(err)
			}
			break
		}
		held := crashRun(t, p, e, led, bases, i, rng)
		problems = append(problems, p.log.errorLines()...)
		open = held.uploads
		if held.stalled.writing {
			caught++
		}
		if held.writer.writing {
			caught++
		}
		checkDataDir(t, dir, led, i)
	}
	blobs, manifests := led.counts()
	t.Logf("%d iterations in %v: %d acknowledged writes (%d blobs, %d manifests) checked with %d checks, %d lost; "+
		"%d uploads open at a kill resumed, %d blocked; %d kills landed while a request was writing",
		*crashIterations, time.Since(start).Round(time.Millisecond), blobs+manifests, blobs, manifests, led.checks.Load(),
		len(led.lost), resumed, blocked, caught)
	if len(led.lost) > 0 {
		t.Errorf("%d acknowledged writes lost", len(led.lost))
	}
	if len(problems) > 0 {
		t.Logf("ecrd logged %d error or warning lines; the first:\n%s", len(problems), strings.Join(problems[:min(5, len(problems))], "\n"))
	}
	uploads, temps := leftovers(t, dir)
	t.Logf("the data dir holds %d upload directories (uploads abandoned at the kills, for the reaper) and %d files in blobs/ not named by a digest", uploads, temps)
}

// leftovers counts the upload directories and the files in blobs/ that
// are not a blob named by its digest (temporary files a kill left).
func leftovers(t *testing.T, dir string) (uploads, temps int) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(filepath.Join(dir, "blobs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !sha256HexRE.MatchString(d.Name()) {
			temps++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(ents), temps
}

var sha256HexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// crashSetup creates the repositories and pushes the shared base layers.
func crashSetup(t *testing.T, e *crashEnv, led *ledger) [][]byte {
	t.Helper()
	createRepos(t, e.ecr, append([]string{crashBaseRepo}, crashRepos...)...)
	// The pushes mount base layers: ECR mounts only with BLOB_MOUNTING on.
	if _, err := e.ecr.PutAccountSetting(ctx(t), &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.public.CreateRepository(ctx(t), &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String(crashPubRepo)}); err != nil {
		t.Fatalf("ecr-public CreateRepository %s: %v", crashPubRepo, err)
	}
	bases := make([][]byte, 4)
	for i := range bases {
		bases[i] = layerBytes((i+1)<<18-i, uint64(7000+i))
		if err := e.ecrPushLayer(crashBaseRepo, bases[i]); err != nil {
			t.Fatalf("base layer %d: %v", i, err)
		}
		led.addBlob(ackedBlob{repo: crashBaseRepo, digest: digestOf(bases[i]), size: int64(len(bases[i])), ecrAPI: true, how: "ecr-api"})
	}
	return bases
}

// crashRun runs the pushers and the held uploads for a random short time
// and kills the process, a request writing to a held upload if it can.
func crashRun(t *testing.T, p *crashProcess, e *crashEnv, led *ledger, bases [][]byte, iter int, rng *rand.Rand) *held {
	t.Helper()
	runFor := time.Duration(300+rng.IntN(1200)) * time.Millisecond
	deadline := time.Now().Add(runFor)
	var killed atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, crashPushers)
	for id := range crashPushers {
		ps := &pusher{id: id, iter: iter, e: e, led: led, bases: bases, rng: rand.New(rand.NewPCG(rng.Uint64(), uint64(id)))}
		wg.Add(1)
		go func() { defer wg.Done(); errs <- ps.run(&killed) }()
	}
	h, err := holdUploads(e, iter, rng, &killed)
	if err == nil {
		time.Sleep(time.Until(deadline)) // the random run time, not a synchronisation
		err = h.catchWriting(e)
	}
	killed.Store(true)
	killedAt := time.Now()
	kerr := p.kill()
	if h != nil {
		close(h.release)
		h.wg.Wait() // their requests fail with the connection; each is bounded by crashTimeout
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(crashTimeout):
		t.Fatalf("iteration %d: pushers still running %v after the kill", iter, crashTimeout)
	}
	close(errs)
	for perr := range errs {
		if perr != nil {
			t.Errorf("iteration %d, before the kill: %v", iter, perr)
		}
	}
	e.hc.CloseIdleConnections()
	if err != nil || kerr != nil {
		t.Fatalf("iteration %d: %v", iter, errors.Join(err, kerr))
	}
	blobs, manifests := led.countsOf(iter)
	t.Logf("iteration %d: killed after %v with %d blobs and %d manifests acknowledged (clients stopped %v later); a request writing when the kill landed: /v2/ %v, ECR %v",
		iter, killedAt.Sub(deadline.Add(-runFor)).Round(time.Millisecond), blobs, manifests, time.Since(killedAt).Round(time.Millisecond), h.stalled.writing, h.writer.writing)
	return h
}

// checkDataDir checks the data dir of the killed process: the metadata
// database is sound and every blob acknowledged since the last restart
// has its file, of its size.
func checkDataDir(t *testing.T, dir string, led *ledger, iter int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "metadata.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	var res []string
	rows, err := db.QueryContext(c, "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("kill %d: PRAGMA integrity_check: %v", iter, err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		res = append(res, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil || len(res) != 1 || res[0] != "ok" {
		t.Fatalf("kill %d: PRAGMA integrity_check: %q, %v; want ok", iter, res, err)
	}
	// An empty database would pass too: make sure it is ecrd's.
	var tables int
	if err := db.QueryRowContext(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&tables); err != nil || tables == 0 {
		t.Fatalf("kill %d: metadata.db has %d tables (%v): not the database ecrd wrote", iter, tables, err)
	}
	for _, b := range led.blobsOf(iter) {
		fi, err := os.Stat(filepath.Join(dir, "blobs", "sha256", b.digest[7:9], b.digest[7:]))
		if err != nil || fi.Size() != b.size {
			led.markLost(b.key())
			t.Errorf("kill %d: acknowledged blob %s (%s to %s) on disk: %v, want %d bytes", iter, b.digest, b.how, b.repo, err, b.size)
		}
	}
}

// ackedBlob is a blob the server acknowledged.
type ackedBlob struct {
	public bool   // pushed through the public listener
	repo   string // its /v2/ name
	digest string
	size   int64
	ecrAPI bool // uploaded with the ECR layer API
	iter   int  // the iteration whose kill followed the acknowledgment
	how    string
}

func (b ackedBlob) key() string {
	return fmt.Sprint("blob ", b.public, b.repo, "@", b.digest, b.ecrAPI)
}

// ackedManifest is a manifest the server acknowledged under a tag.
type ackedManifest struct {
	public         bool
	repo, tag, how string
	body           string
	iter           int
}

func (m ackedManifest) key() string { return fmt.Sprint("manifest ", m.public, m.repo, ":", m.tag) }

// ledger is every write the server acknowledged, and the ones found lost.
type ledger struct {
	mu        sync.Mutex
	blobs     map[string]ackedBlob // by key, the latest acknowledgment
	manifests []ackedManifest
	lost      map[string]bool
	checks    atomic.Int64
}

func (l *ledger) addBlob(b ackedBlob) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.blobs == nil {
		l.blobs = map[string]ackedBlob{}
	}
	if old, ok := l.blobs[b.key()]; !ok || old.iter < b.iter {
		l.blobs[b.key()] = b // the latest acknowledgment is checked in full at the next restart
	}
}

func (l *ledger) addManifest(m ackedManifest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.manifests = append(l.manifests, m)
}

func (l *ledger) markLost(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lost[key] = true
}

func (l *ledger) counts() (blobs, manifests int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.blobs), len(l.manifests)
}

func (l *ledger) countsOf(iter int) (blobs, manifests int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.manifests {
		if m.iter == iter {
			manifests++
		}
	}
	for _, b := range l.blobs {
		if b.iter == iter {
			blobs++
		}
	}
	return blobs, manifests
}

func (l *ledger) blobsOf(iter int) []ackedBlob {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []ackedBlob
	for _, b := range l.blobs {
		if b.iter == iter {
			out = append(out, b)
		}
	}
	return out
}

// crashSample is how many older writes each restart checks again.
const crashSample = 48

// verify checks acknowledged writes through the API of the restarted
// process: those of iteration iter (the kill just survived) in full, a
// sample of older ones lightly (blobs by HEAD, manifests by tag), and with
// all every one in full.
func (l *ledger) verify(t *testing.T, e *crashEnv, iter int, all bool, rng *rand.Rand) {
	t.Helper()
	type job struct {
		key string
		run func() error
	}
	var jobs, older []job
	l.mu.Lock()
	byRepo := map[string][]string{} // ECR-API layers to check with BatchCheckLayerAvailability
	for _, b := range l.blobs {
		full := all || b.iter == iter
		j := job{b.key(), func() error { return e.checkBlob(b, full) }}
		if full {
			jobs = append(jobs, j)
			if b.ecrAPI {
				byRepo[b.repo] = append(byRepo[b.repo], b.digest)
			}
		} else {
			older = append(older, j)
		}
	}
	for _, m := range l.manifests {
		full := all || m.iter == iter
		j := job{m.key(), func() error { return e.checkManifest(m, full) }}
		if full {
			jobs = append(jobs, j)
		} else {
			older = append(older, j)
		}
	}
	l.mu.Unlock()
	rng.Shuffle(len(older), func(i, j int) { older[i], older[j] = older[j], older[i] })
	jobs = append(jobs, older[:min(crashSample, len(older))]...)
	for repo, ds := range byRepo {
		for len(ds) > 0 {
			batch := ds[:min(100, len(ds))]
			ds = ds[len(batch):]
			jobs = append(jobs, job{"", func() error { return e.checkAvailable(l, repo, batch) }})
		}
	}
	var mu sync.Mutex
	var fails []string
	work := make(chan job)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				l.checks.Add(1)
				if err := j.run(); err != nil {
					if j.key != "" {
						l.markLost(j.key)
					}
					mu.Lock()
					fails = append(fails, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	for i, f := range fails {
		if i == 20 {
			t.Errorf("... and %d more", len(fails)-20)
			break
		}
		t.Errorf("after kill %d: acknowledged write lost: %s", iter, f)
	}
}

// checkBlob asserts the blob is in its repository (HEAD 200 with its
// size) and, in full, that its bytes hash to its digest. Public blobs are
// pulled anonymously.
func (e *crashEnv) checkBlob(b ackedBlob, full bool) error {
	base, auth := e.listener(b.public)
	if b.public {
		auth = ""
	}
	u := v2Path(base, b.repo, "blobs/"+b.digest)
	what := fmt.Sprintf("blob %s (%d bytes, %s) in %s", b.digest, b.size, b.how, b.repo)
	resp, body, err := e.do(http.MethodHead, u, auth, nil)
	if err := statusErr("HEAD "+what, resp, body, err, http.StatusOK); err != nil {
		return err
	}
	if resp.ContentLength != b.size {
		return fmt.Errorf("HEAD %s: Content-Length %d", what, resp.ContentLength)
	}
	if !full {
		return nil
	}
	resp, body, err = e.do(http.MethodGet, u, auth, nil)
	if err := statusErr("GET "+what, resp, body, err, http.StatusOK); err != nil {
		return err
	}
	if got := fmt.Sprintf("sha256:%x", sha256.Sum256(body)); got != b.digest || int64(len(body)) != b.size {
		return fmt.Errorf("GET %s: %d bytes hashing to %s", what, len(body), got)
	}
	return nil
}

// checkAvailable asserts that BatchCheckLayerAvailability finds layers
// uploaded with the ECR layer API AVAILABLE.
func (e *crashEnv) checkAvailable(l *ledger, repo string, digests []string) error {
	c, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	out, err := e.ecr.BatchCheckLayerAvailability(c, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests})
	if err != nil {
		return fmt.Errorf("BatchCheckLayerAvailability in %s: %w", repo, err)
	}
	var bad []string
	for _, f := range out.Failures {
		bad = append(bad, fmt.Sprintf("%s: %s %s", aws.ToString(f.LayerDigest), f.FailureCode, aws.ToString(f.FailureReason)))
		l.markLost(ackedBlob{repo: repo, digest: aws.ToString(f.LayerDigest), ecrAPI: true}.key())
	}
	for _, ly := range out.Layers {
		if ly.LayerAvailability != types.LayerAvailabilityAvailable {
			bad = append(bad, fmt.Sprintf("%s: %s", aws.ToString(ly.LayerDigest), ly.LayerAvailability))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("BatchCheckLayerAvailability in %s: %s", repo, strings.Join(bad, "; "))
	}
	return nil
}

// checkManifest asserts the manifest is served by its tag and, in full,
// by its digest, with its exact bytes.
func (e *crashEnv) checkManifest(m ackedManifest, full bool) error {
	base, auth := e.listener(m.public)
	if m.public {
		auth = ""
	}
	d := digestOf([]byte(m.body))
	refs := []string{m.tag}
	if full {
		refs = append(refs, d)
	}
	for _, ref := range refs {
		resp, body, err := e.do(http.MethodGet, v2Path(base, m.repo, "manifests/"+ref), auth, nil, "Accept", ociManifestType)
		what := fmt.Sprintf("GET %s manifests/%s (%s, tag %s)", m.repo, ref, m.how, m.tag)
		if err := statusErr(what, resp, body, err, http.StatusOK); err != nil {
			return err
		}
		if string(body) != m.body || resp.Header.Get("Docker-Content-Digest") != d {
			return fmt.Errorf("%s: %d other bytes, Docker-Content-Digest %q; want %s", what, len(body), resp.Header.Get("Docker-Content-Digest"), d)
		}
	}
	return nil
}

// resume finishes an upload held open at the kill, at once: from where
// the server says it stands, which must be at least what it acknowledged.
// The finished blob joins the ledger as a write of iteration iter.
func (e *crashEnv) resume(u *openUpload, led *ledger, iter int) error {
	d := digestOf(u.data)
	acked := u.acked.Load()
	u.reported, u.ackedAtKill = acked, acked
	if u.ecrAPI {
		c, cancel := context.WithTimeout(context.Background(), crashTimeout)
		defer cancel()
		for i, first := range u.parts {
			if first < acked {
				continue
			}
			err := e.uploadPart(c, u, i)
			var ilp *types.InvalidLayerPartException
			if errors.As(err, &ilp) && !strings.Contains(ilp.ErrorMessage(), anotherWriter) && aws.ToInt64(ilp.LastValidByteReceived)+1 > first {
				// The part the kill cut short was taken after all: go on after it.
				acked = aws.ToInt64(ilp.LastValidByteReceived) + 1
				u.reported = acked
				continue
			}
			if err != nil {
				return err
			}
		}
		_, err := e.ecr.CompleteLayerUpload(c, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(u.name), UploadId: aws.String(u.ref), LayerDigests: []string{d}})
		if err != nil {
			return fmt.Errorf("CompleteLayerUpload: %w", err)
		}
		led.addBlob(ackedBlob{repo: u.name, digest: d, size: int64(len(u.data)), ecrAPI: true, iter: iter, how: "ECR upload resumed after a kill"})
		return nil
	}
	base, auth := e.listener(u.public)
	resp, body, err := e.do(http.MethodGet, base+u.ref, auth, nil)
	if err := statusErr("GET the upload", resp, body, err, http.StatusNoContent); err != nil {
		return err
	}
	n, err := uploadRange(resp.Header.Get("Range"))
	if err != nil {
		return fmt.Errorf("GET the upload: %w", err)
	}
	u.reported = n
	if n < acked || n > int64(len(u.data)) {
		return fmt.Errorf("GET the upload: it holds %d bytes; %d were acknowledged of %d", n, acked, len(u.data))
	}
	loc := base + u.ref
	if n < int64(len(u.data)) {
		if loc, err = e.patchChunk(base, auth, loc, u.data, int(n), len(u.data)); err != nil {
			return fmt.Errorf("resuming at the reported Range 0-%d: %w", n-1, err)
		}
	}
	if err := e.finishV2Upload(loc, auth, d, nil); err != nil {
		return err
	}
	led.addBlob(ackedBlob{public: u.public, repo: u.name, digest: d, size: int64(len(u.data)), iter: iter, how: "/v2/ upload resumed after a kill"})
	return nil
}

var publicServingRE = regexp.MustCompile(`msg="ECR Public /v2/ serving \(anonymous pulls\)" addr=(\S+)`)

// crashProcess is the ecrd binary serving both listeners over a data dir.
type crashProcess struct {
	cmd      *exec.Cmd
	api, pub string        // base URLs of the private and public listeners
	exited   chan struct{} // closed once the process is reaped
	log      *logWatch
}

// startCrashProcess runs the binary on free ports over dataDir and waits
// until both listeners serve.
func startCrashProcess(t *testing.T, dataDir string) *crashProcess {
	t.Helper()
	w := &logWatch{pub: make(chan string, 1), api: make(chan string, 1)}
	cmd := exec.Command(ecrdBinary(t), "serve", "--listen", "127.0.0.1:0", "--public-listen", "127.0.0.1:0",
		"--data-dir", dataDir, "--account-id", testAccount)
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &crashProcess{cmd: cmd, exited: make(chan struct{}), log: w}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	timeout := time.After(crashTimeout)
	for p.api == "" || p.pub == "" {
		select {
		case a := <-w.api:
			p.api = "http://" + a
		case a := <-w.pub:
			p.pub = "http://" + a
		case <-p.exited:
			t.Fatalf("ecrd exited before serving; its log ends:\n%s", w.tail())
		case <-timeout:
			t.Fatalf("ecrd did not serve both listeners within %v; its log ends:\n%s", crashTimeout, w.tail())
		}
	}
	return p
}

// kill sends SIGKILL and waits (boundedly) until the process is gone.
func (p *crashProcess) kill() error {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("ecrd still runs 10s after SIGKILL")
	}
}

// logWatch is the process's stderr: it finds the listeners' addresses
// and keeps the last lines and every error line for failure messages.
type logWatch struct {
	mu       sync.Mutex
	partial  []byte
	last     []string
	problems []string // level=ERROR and WARN lines, panics
	api, pub chan string
}

func (w *logWatch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		// Never blocking: a blocked Write would stall the process's stderr.
		if m := servingRE.FindStringSubmatch(line); m != nil {
			trySend(w.api, m[1])
		}
		if m := publicServingRE.FindStringSubmatch(line); m != nil {
			trySend(w.pub, m[1])
		}
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") && !strings.Contains(line, "no --credentials file") ||
			strings.HasPrefix(line, "panic:") || strings.HasPrefix(line, "fatal error:") {
			w.problems = append(w.problems, line)
		}
		if w.last = append(w.last, line); len(w.last) > 40 {
			w.last = w.last[1:]
		}
	}
}

func trySend(c chan string, s string) {
	select {
	case c <- s:
	default:
	}
}

func (w *logWatch) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}

func (w *logWatch) errorLines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}
