package awsjson_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/budget"
)

// partBody is an UploadLayerPart body carrying n bytes.
func partBody(n int) (string, [32]byte) {
	b := []byte(strings.Repeat("x", n))
	body := fmt.Sprintf(`{"repositoryName":"ab","uploadId":"0b7c7e5e-1f3a-4c1e-9d1a-2b3c4d5e6f70","partFirstByte":0,"partLastByte":%d,"layerPartBlob":%q}`,
		n-1, base64.StdEncoding.EncodeToString(b))
	return body, sha256.Sum256([]byte(body))
}

// TestService_Bodies checks the paths of a body under Bodies: held in
// memory while the memory budget has room, spooled to disk (and hashed
// there, for Authenticate) when it has not, throttled when neither has
// room, and a server error, never a success, when the spool fails.
func TestService_Bodies(t *testing.T) {
	body, sum := partBody(200 << 10) // about 270 KiB of JSON, over SmallBody
	for _, c := range []struct {
		name    string
		memory  int64 // budget sizes; a held budget is full
		pending int64
		hold    string // "memory", "both" or ""
		spool   string // "" for a working spool dir
		status  int
		errType string
	}{
		{name: "InMemory", memory: 4 << 20, pending: 4 << 20, status: 200},
		{name: "Spooled", memory: 4 << 20, pending: 4 << 20, hold: "memory-briefly", status: 200},
		{name: "Throttled", memory: 4 << 20, pending: 4 << 20, hold: "both", status: 400, errType: "ThrottlingException"},
		{name: "SpoolFails", memory: 4 << 20, pending: 4 << 20, hold: "memory", spool: "missing", status: 500, errType: "ServerException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newService(t)
			spool := t.TempDir()
			if c.spool == "missing" {
				spool = filepath.Join(spool, "gone")
			}
			b := &awsjson.Bodies{Memory: budget.New(c.memory), Pending: budget.New(c.pending), SpoolDir: spool, Wait: 200 * time.Millisecond}
			s.Bodies = b
			var authSum [32]byte
			s.Authenticate = func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError) {
				authSum = payload
				return r.Context(), nil
			}
			switch c.hold {
			case "memory", "memory-briefly":
				n, _ := b.Memory.TryAcquire(b.Memory.Size())
				if c.hold == "memory" {
					defer b.Memory.Release(n)
				} else {
					// Full while the body arrives, free by the time it is
					// authenticated and read back.
					s.Authenticate = func(r *http.Request, payload [32]byte) (context.Context, *awsjson.WireError) {
						authSum = payload
						if b.Pending.InUse() == 0 {
							t.Error("the body is not held as spooled while it is authenticated")
						}
						b.Memory.Release(n)
						return r.Context(), nil
					}
				}
			case "both":
				m, _ := b.Memory.TryAcquire(b.Memory.Size())
				p, _ := b.Pending.TryAcquire(b.Pending.Size())
				defer b.Memory.Release(m)
				defer b.Pending.Release(p)
			}
			srv := httptest.NewServer(s)
			defer srv.Close()
			r := post(t, srv.URL, "UploadLayerPart", body)
			if c.errType != "" {
				checkError(t, r, c.status, c.errType, "")
			} else if r.status != c.status || fmt.Sprint(r.body["lastByteReceived"]) != fmt.Sprint(200<<10-1) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if c.status == 200 && authSum != sum {
				t.Error("Authenticate got another hash than the body's")
			}
			if b.Memory.InUse() != map[bool]int64{true: b.Memory.Size(), false: 0}[c.hold == "memory" || c.hold == "both"] {
				t.Errorf("memory budget holds %d after the request", b.Memory.InUse())
			}
			if c.hold != "both" && b.Pending.InUse() != 0 {
				t.Errorf("pending budget holds %d after the request", b.Pending.InUse())
			}
			if entries, err := os.ReadDir(spool); err == nil && len(entries) != 0 {
				t.Errorf("the spool dir holds %d files; spooled bodies are unlinked", len(entries))
			}
		})
	}
}
