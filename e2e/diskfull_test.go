package e2e

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// mountSmall mounts a tmpfs of size bytes at a new directory and returns
// it. CI runs as root and must be able to; elsewhere the test is skipped
// when it cannot.
func mountSmall(t *testing.T, size int64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mounting a %d-byte tmpfs (CI runs as root and must): %v %s", size, err, out)
		}
		t.Skipf("cannot mount a tmpfs here (%v %s); CI does", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFull fills a small file system under a running ecrd: the pushes
// that cannot be stored are refused, each with an answer naming the cause,
// and the cause is logged once, not once per request; nothing acknowledged
// is lost; pulls keep working (their pull-time bookkeeping cannot be
// written), also after a restart while the disk is still full; and when
// space returns, pushes work again without a restart.
func TestDiskFull(t *testing.T) {
	dir := mountSmall(t, 24<<20)
	data := filepath.Join(dir, "data")
	p := startProcess(t, data)
	c := p.client()
	createRepos(t, c, "full/app")
	authz := privateBasic(t, c)
	cfg := pushConfig(t, c, "full/app", 1)
	l1 := pushBlob(t, c, "full/app", layerBytes(100<<10, 1))
	manifest := dockerManifest(cfg, l1)
	putImage(t, c, "full/app", manifest, "v1")
	acked := map[string][]byte{}

	// A filler takes most of the space, so that the pushes fill the rest
	// quickly; removing it is the operator freeing space.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := 0; refused < 8 && i < 200; i++ {
		b := layerBytes(512<<10, uint64(100+i))
		resp, body := v2Do(t, http.MethodPost, p.URL+"/v2/full/app/blobs/uploads/?digest="+digestOf(b), authz, "application/octet-stream", b)
		switch {
		case resp.StatusCode == http.StatusCreated:
			acked[digestOf(b)] = b
		case resp.StatusCode == http.StatusInsufficientStorage && strings.Contains(string(body), "out of space"):
			refused++
		default:
			t.Fatalf("push %d on a filling disk: %d %s, want 201 or 507 naming the cause", i, resp.StatusCode, body)
		}
	}
	if refused < 8 {
		t.Fatalf("the disk never filled: %d pushes acknowledged", len(acked))
	}
	// The ECR API says so too.
	_, err := c.InitiateLayerUpload(ctx(t), &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("full/app")})
	wantAPIError[*types.ServerException](t, err, "out of space")
	_, err = c.PutImage(ctx(t), &ecr.PutImageInput{RepositoryName: aws.String("full/app"), ImageTag: aws.String("v9"),
		ImageManifest: aws.String(ociManifest(cfg, "v9", l1))})
	wantAPIError[*types.ServerException](t, err, "out of space")

	pullsWork := func(when string) {
		t.Helper()
		resp, body := v2Do(t, http.MethodGet, p.URL+"/v2/full/app/manifests/v1", authz, "", nil)
		if resp.StatusCode != http.StatusOK || string(body) != manifest {
			t.Fatalf("pull %s: %d %s", when, resp.StatusCode, body)
		}
		for d, b := range acked {
			resp, body := v2Do(t, http.MethodGet, p.URL+"/v2/full/app/blobs/"+d, authz, "", nil)
			if resp.StatusCode != http.StatusOK || fmt.Sprintf("sha256:%x", sha256.Sum256(body)) != d || len(body) != len(b) {
				t.Fatalf("acknowledged blob %s %s: %d, %d bytes", d, when, resp.StatusCode, len(body))
			}
		}
	}
	pullsWork("on the full disk")
	logged := strings.Count(readFile(t, p.log), `msg="storage failing`)
	if logged != 1 {
		t.Errorf("the full disk was logged %d times over %d refused requests, want once:\n%s", logged, refused+1, readFile(t, p.log))
	}
	if !strings.Contains(readFile(t, p.log), "free_bytes=") {
		t.Error("the log does not say how much space is free")
	}
	// The metrics count every refused store call, not just the episode.
	if n := scrape(t, p.URL)[`ecrd_storage_errors_total{kind="full"}`]; n < float64(refused) {
		t.Errorf("ecrd_storage_errors_total{kind=\"full\"} = %v after %d refused pushes", n, refused)
	}

	// A restart while the disk is still full serves pulls.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	p = startProcess(t, data)
	c = p.client()
	pullsWork("after a restart on the full disk")
	b := layerBytes(512<<10, 999)
	if resp, body := v2Do(t, http.MethodPost, p.URL+"/v2/full/app/blobs/uploads/?digest="+digestOf(b), authz, "application/octet-stream", b); resp.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("push after the restart on the full disk: %d %s, want 507", resp.StatusCode, body)
	}

	// Space returns: pushes work again, without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b = layerBytes(512<<10, uint64(5000+i))
		resp, body := v2Do(t, http.MethodPost, p.URL+"/v2/full/app/blobs/uploads/?digest="+digestOf(b), authz, "application/octet-stream", b)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("push %d once space returned: %d %s", i, resp.StatusCode, body)
		}
		acked[digestOf(b)] = b
	}
	putImage(t, c, "full/app", dockerManifest(cfg, l1, blob{Digest: digestOf(b), Size: len(b)}), "v2")
	if !strings.Contains(readFile(t, p.log), `msg="storage recovered`) {
		t.Error("the recovery is not logged")
	}
	pullsWork("once space returned")
	t.Logf("%d blobs acknowledged around the full disk, %d pushes refused while full, 0 lost", len(acked), refused)

	// Nothing the database holds is damaged.
	p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
	db, err := sql.Open("sqlite", filepath.Join(data, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check after the full disk: %q, %v", res, err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
