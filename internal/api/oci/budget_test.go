package oci_test

import (
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/budget"
	"github.com/ecrd/ecrd/internal/registry"
)

// TestManifestPutWithinMemory: a manifest put takes its share of the
// memory budget the AWS APIs' bodies share; with none free it waits, then
// gets 429 TOOMANYREQUESTS and stores nothing, and once the memory is free
// it goes through.
func TestManifestPutWithinMemory(t *testing.T) {
	mem := budget.New(1 << 20)
	e := newEnv(t, func(o *oci.Options) { o.Memory, o.MemoryWait = mem, 50*time.Millisecond })
	m := e.image(repo, nil)
	held, _ := mem.TryAcquire(mem.Size())
	e.do("PUT", "/v2/"+repo+"/manifests/v1", m, "Content-Type", registry.MediaTypeOCIManifest).want(t, 429, "TOOMANYREQUESTS")
	e.do("GET", "/v2/"+repo+"/manifests/v1", nil).want(t, 404, "MANIFEST_UNKNOWN")
	mem.Release(held)
	e.putManifest(repo, "v1", m)
	if mem.InUse() != 0 {
		t.Fatalf("the budget holds %d after the put", mem.InUse())
	}
}
