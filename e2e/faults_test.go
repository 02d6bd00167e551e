package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/app"
	"github.com/ecrd/ecrd/internal/config"
	"github.com/ecrd/ecrd/internal/registry/registrytest"
)

// TestFaultInjection runs every operation of ECR, ECR Public and /v2/ (the
// cases of faults_cases_*_test.go) once to learn the store calls it makes,
// then once per store call and kind of failure that call can have, with
// that one call failing (registrytest.Faults), each time over a fresh copy
// of one data dir. It asserts what the client is told stays true:
//   - a conflict (the store retries the transaction, running it again) is
//     invisible: the answer and the state are those of a run without
//     faults;
//   - any other failure is answered with an error, never a 2xx, unless the
//     answer and the state are exactly those of a run without faults (a
//     pull whose pull-time bookkeeping failed; a clean-up after the fact);
//   - after an error, the state is the state before, or else the same
//     request retried succeeds with the answer and state of a run without
//     faults (the bytes of a completed upload were committed, say);
//   - every layer and blob the metadata names has its bytes, hashing to
//     its digest; every upload has its bytes so far;
//   - no panic.
func TestFaultInjection(t *testing.T) {
	tmpl := buildFaultTemplate(t)
	var mu sync.Mutex
	injections, tolerated, retried := 0, 0, 0
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) {
			base := runFaulted(t, tmpl, c, -1, "")
			calls := base.calls
			if len(calls) == 0 && !c.noStore {
				t.Fatalf("%s made no store call: the case does not reach the store", c.name)
			}
			for i, call := range calls {
				for _, kind := range call.Kinds() {
					got := runFaulted(t, tmpl, c, i, kind)
					mu.Lock()
					injections++
					mu.Unlock()
					what := fmt.Sprintf("%s with %s failing (call %d of %d) as %s", c.name, call.Name, i+1, len(calls), kind)
					if !got.fired {
						t.Errorf("%s: the call was not reached (the calls differ from run to run)", what)
						continue
					}
					switch {
					case kind == registrytest.FaultConflict:
						if got.answer != base.answer || !slices.Equal(got.after, base.after) {
							t.Errorf("%s: a retried transaction changed the outcome:\n got %s\nwant %s%s", what, got.answer, base.answer, stateDiff(base.after, got.after))
						}
					case got.answer.ok():
						if got.answer != base.answer || !slices.Equal(got.after, base.after) {
							t.Errorf("%s: answered %s, not what a run without faults answers and leaves:\nwant %s%s", what, got.answer, base.answer, stateDiff(base.after, got.after))
						} else {
							// Bookkeeping (a pull time) or a clean-up after
							// the fact: what the client was told is true.
							t.Logf("%s: answered as without faults", what)
							mu.Lock()
							tolerated++
							mu.Unlock()
						}
					case !slices.Equal(got.after, got.before):
						if got.retry != base.answer || !slices.Equal(got.retried, base.after) {
							t.Errorf("%s: answered %s and changed the state, and the same request again answered %s (want %s)%s",
								what, got.answer, got.retry, base.answer, stateDiff(base.after, got.retried))
						} else {
							mu.Lock()
							retried++
							mu.Unlock()
						}
					}
					for _, p := range got.problems {
						t.Errorf("%s: %s", what, p)
					}
				}
			}
		})
	}
	t.Logf("%d operations, %d injected faults: %d answered as without faults (bookkeeping), %d changed state and succeeded when retried, the rest answered an error and changed nothing",
		len(faultCases()), injections, tolerated, retried)
}

// faultCase is one operation, as a client sends it.
type faultCase struct {
	name string
	// run sends the request to a server over the fixture's data and
	// returns what the client was told.
	run func(t *testing.T, s *faultServer) answer
	// noStore: the operation legitimately makes no store call.
	noStore bool
}

// answer is what a client was told, with what differs from run to run
// (IDs, times, ports) left out.
type answer struct {
	status int
	code   string // the error's __type or OCI code, "" on success
	detail string // the normalized output of a success
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

func (a answer) String() string {
	if a.code != "" {
		return fmt.Sprintf("%d %s", a.status, a.code)
	}
	return fmt.Sprintf("%d %s", a.status, a.detail)
}

// volatileKeys are output members that differ between otherwise equal runs.
var volatileKeys = map[string]bool{
	"UploadId": true, "CreatedAt": true, "ImagePushedAt": true, "LastRecordedPullTime": true,
	"ExpiresAt": true, "AuthorizationToken": true, "DownloadUrl": true, "LastArchivedAt": true,
	"LastActivatedAt": true, "ResultMetadata": true, "ProxyEndpoint": true, "RepositoryUri": true,
	"RegistryUri": true, "LogoUrl": true, "UpdatedAt": true,
}

// sdkAnswer is the answer an AWS SDK call got.
func sdkAnswer(out any, err error) answer {
	if err != nil {
		var re *awshttp.ResponseError
		var ae smithy.APIError
		a := answer{status: 0, code: "transport error: " + err.Error()}
		if errors.As(err, &re) {
			a.status = re.HTTPStatusCode()
		}
		if errors.As(err, &ae) {
			a.code = ae.ErrorCode()
		}
		return a
	}
	b, _ := json.Marshal(out)
	var v any
	_ = json.Unmarshal(b, &v)
	b, _ = json.Marshal(stripVolatile(v))
	return answer{status: 200, detail: string(b)}
}

func stripVolatile(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if volatileKeys[k] {
				delete(v, k)
				continue
			}
			v[k] = stripVolatile(e)
		}
	case []any:
		for i, e := range v {
			v[i] = stripVolatile(e)
		}
	}
	return v
}

// faultRun is one run of a case.
type faultRun struct {
	calls                  []registrytest.Call
	fired                  bool
	answer, retry          answer
	before, after, retried []string
	problems               []string
}

// runFaulted runs c over a fresh copy of the template with call i failing
// as kind (none when i is -1); after an error that changed the state it
// runs c again, without faults.
func runFaulted(t *testing.T, tmpl *faultTemplate, c faultCase, i int, kind registrytest.FaultKind) faultRun {
	t.Helper()
	s := startFaultServer(t, tmpl)
	defer s.stop()
	var r faultRun
	r.before = s.state(t)
	s.faults.Reset()
	if i >= 0 {
		s.faults.Arm(i, kind)
	}
	r.answer = c.run(t, s)
	r.calls, r.fired = s.faults.Calls(), s.faults.Fired()
	s.faults.Arm(-1, "")
	r.after = s.state(t)
	r.problems = s.check(t)
	if i >= 0 && !r.answer.ok() && kind != registrytest.FaultConflict && !slices.Equal(r.after, r.before) {
		r.retry = c.run(t, s)
		r.retried = s.state(t)
		r.problems = append(r.problems, s.check(t)...)
	}
	if s.logs.panicked() {
		r.problems = append(r.problems, "the server panicked:\n"+s.logs.String())
	}
	return r
}

// faultServer is an in-process ecrd whose stores go through Faults.
type faultServer struct {
	*server
	faults *registrytest.Faults
	fx     *faultFixture
	logs   *logBuffer
}

// startFaultServer copies the template's data dir and serves it.
func startFaultServer(t *testing.T, tmpl *faultTemplate) *faultServer {
	t.Helper()
	dir := t.TempDir()
	if err := copyTree(tmpl.dir, dir); err != nil {
		t.Fatal(err)
	}
	f := registrytest.NewFaults()
	logs := &logBuffer{}
	cfg := faultConfig(dir, tmpl.upstream)
	a, err := app.New(cfg, slog.New(slog.NewTextHandler(logs, nil)), app.WithStores(f.Wrap))
	if err != nil {
		t.Fatalf("starting ecrd: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	s := &faultServer{server: &server{URL: "http://" + a.Addr().String(), DataDir: dir, app: a}, faults: f, fx: tmpl.fx, logs: logs}
	s.server.stop = func() { cancel(); <-done }
	// The upload reaper's first pass runs as the server starts: wait for
	// it, so that its calls are not counted as the operation's.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if slices.ContainsFunc(f.Calls(), func(c registrytest.Call) bool { return c.Name == "Tx.StaleUploads" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload reaper's first pass did not run")
		}
	}
	return s
}

func (s *faultServer) stop() { s.server.stop() }

// faultConfig is the configuration of the template's and the injections'
// servers: no background collection, whose store calls would interleave.
func faultConfig(dir, upstream string) config.Config {
	cfg := config.Default()
	cfg.PullThrough.Upstreams = "public.ecr.aws=" + upstream
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Public.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = dir
	cfg.Identity.AccountID = testAccount
	cfg.Images.GCInterval = 0
	cfg.Lifecycle.Interval = 0
	cfg.Replication.Interval = 0
	cfg.Scan.Interval = 0
	cfg.Signing.Interval = 0
	return cfg
}

// copyTree copies the files under src to dst.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode()|0o200)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		return errors.Join(err, out.Close())
	})
}

// logBuffer collects a server's log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) panicked() bool { return strings.Contains(l.String(), "panic") }
