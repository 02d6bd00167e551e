package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// ecrdBinary builds cmd/ecrd once per test run, so restarts exercise the
// real binary and a real kill -9.
func ecrdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ecrd-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ecrd")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/ecrd").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build ./cmd/ecrd: " + e.err.Error() + "\n" + e.out }

var servingRE = regexp.MustCompile(`msg="ecrd serving" addr=(\S+)`)

// process is ecrd running as a child process.
type process struct {
	cmd *exec.Cmd
	// log is the file its log goes to.
	log string
	*server
}

// startProcess runs the ecrd binary on a free port over dataDir, its log
// in a file of its own, and waits until it serves.
func startProcess(t *testing.T, dataDir string) *process {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "ecrd.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(ecrdBinary(t), "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--account-id", testAccount, "--metrics")
	cmd.Stderr = f // a file, not a pipe: what ecrd logged is there when its answer arrives
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		if m := servingRE.FindSubmatch(b); m != nil {
			return &process{cmd: cmd, log: logFile, server: &server{URL: "http://" + string(m[1]), DataDir: dataDir}}
		}
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("ecrd did not start within 30s; its log:\n%s", b)
	return nil
}

func TestRestart(t *testing.T) {
	for _, stop := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGKILL", syscall.SIGKILL}} {
		t.Run(stop.name, func(t *testing.T) {
			dir := t.TempDir()
			p := startProcess(t, dir)
			c := p.client()
			if _, err := c.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("keep/me"),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
				t.Fatal(err)
			}
			layer := layerBytes(12*mib, 5)
			d := pushLayer(t, c, "keep/me", layer)
			// An upload in progress, one part acknowledged.
			partial := layerBytes(7*mib, 6)
			id := initiate(t, c, "keep/me")
			uploadPart(t, c, "keep/me", id, 0, partial[:5*mib])

			if err := p.cmd.Process.Signal(stop.sig); err != nil {
				t.Fatal(err)
			}
			err := p.cmd.Wait()
			if stop.sig == syscall.SIGTERM && err != nil {
				t.Fatalf("ecrd exited with %v after SIGTERM, want status 0", err)
			}

			p = startProcess(t, dir)
			c = p.client()
			out, err := c.DescribeRepositories(ctx(t), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"keep/me"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Repositories) != 1 {
				t.Fatalf("got %+v", out.Repositories)
			}
			check, err := c.BatchCheckLayerAvailability(ctx(t), &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("keep/me"), LayerDigests: []string{d}})
			if err != nil || len(check.Layers) != 1 || aws.ToInt64(check.Layers[0].LayerSize) != int64(len(layer)) {
				t.Fatalf("layer after restart: %+v, %v", check, err)
			}
			if got := readBlob(t, p.server, d); len(got) != len(layer) {
				t.Fatalf("blob has %d bytes, want %d", len(got), len(layer))
			}
			// The upload goes on where it stood.
			uploadPart(t, c, "keep/me", id, 5*mib, partial[5*mib:])
			done, err := c.CompleteLayerUpload(context.Background(), &ecr.CompleteLayerUploadInput{RepositoryName: aws.String("keep/me"), UploadId: aws.String(id), LayerDigests: []string{digestOf(partial)}})
			if err != nil || aws.ToString(done.LayerDigest) != digestOf(partial) {
				t.Fatalf("completing the upload begun before the restart: %v, %v", done, err)
			}
		})
	}
}
