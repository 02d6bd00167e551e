package registrytest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/registry"
)

// MetaStore runs the registry.MetaStore contract against the stores that
// newStore returns. newStore is called once per subtest and must return an
// empty store; it should register the store's Close with t.Cleanup.
//
// Times are compared after truncation to microseconds, the precision every
// store must keep; a nil and an empty slice count as equal.
func MetaStore(t *testing.T, newStore func(t *testing.T) registry.MetaStore) {
	cases := []struct {
		name string
		run  func(t *testing.T, s registry.MetaStore)
	}{
		{"Ping", testMetaPing},
		{"Repositories/RoundTripEveryField", testRepositoryRoundTrip},
		{"Repositories/RoundTripEmptyFields", testRepositoryRoundTripEmpty},
		{"Repositories/NotFound", testRepositoryNotFound},
		{"Repositories/CreateExisting", testRepositoryCreateExisting},
		{"Repositories/SameNameInOtherRegistry", testRepositorySameNameOtherRegistry},
		{"Repositories/PaginationInByteOrder", testRepositoriesPagination},
		{"Repositories/DeleteNotFound", testRepositoryDeleteNotFound},
		{"Repositories/UpdateReplacesSettings", testRepositoryUpdate},
		{"Repositories/DeleteCascadesLayersAndUploadsNotBlobs", testRepositoryDeleteCascades},
		{"Layers/RoundTripEveryField", testLayerRoundTrip},
		{"Layers/OnlyDigestsAskedFor", testLayersSubset},
		{"Layers/NoDigests", testLayersNoDigests},
		{"Layers/ManyDigests", testLayersMany},
		{"Layers/PerRepository", testLayersPerRepository},
		{"Layers/AddExisting", testLayerAddExisting},
		{"Layers/Count", testLayersCount},
		{"Layers/Delete", testLayerDelete},
		{"Blobs/RoundTripEveryField", testBlobRoundTrip},
		{"Blobs/NotFound", testBlobNotFound},
		{"Blobs/AddIsIdempotent", testBlobAddIdempotent},
		{"Uploads/RoundTripEveryField", testUploadRoundTrip},
		{"Uploads/RoundTripEmptyFields", testUploadRoundTripEmpty},
		{"Uploads/NotFound", testUploadNotFound},
		{"Uploads/CreateExisting", testUploadCreateExisting},
		{"Uploads/UpdateReplacesEveryField", testUploadUpdate},
		{"Uploads/Delete", testUploadDelete},
		{"Uploads/StaleOldestFirstWithLimit", testStaleUploads},
		{"Uploads/RepositoryUploads", testRepositoryUploads},
		{"Update/ReadsOwnWrites", testUpdateReadsOwnWrites},
		{"Update/RollbackOnError", testUpdateRollback},
		{"Update/UsableAfterErrExists", testUpdateUsableAfterErrExists},
		{"Update/CanceledContext", testUpdateCanceled},
		{"Update/ConcurrentNoLostUpdate", testUpdateConcurrent},
		{"View/SeesCommitted", testViewSeesCommitted},
		{"View/ReturnsFnError", testViewReturnsError},
		{"Secrets/CreateOnceReadBack", testSecrets},
		{"Images/RoundTripEveryField", testImageRoundTrip},
		{"Images/PutReplacesAndKeepsTags", testImagePutReplaces},
		{"Images/PutIntoMissingRepository", testImagePutMissingRepository},
		{"Images/NotFound", testImageNotFound},
		{"Images/DeleteRemovesTags", testImageDeleteRemovesTags},
		{"Images/PaginationInDigestOrder", testImagesPagination},
		{"Images/Count", testImagesCount},
		{"Images/Parents", testImageParents},
		{"Images/PerRepository", testImagesPerRepository},
		{"Images/QueriesByTagAndImageStatus", testImageQueries},
		{"Images/Referrers", testReferrers},
		{"Tags/CarryImageStatus", testTagsCarryImageStatus},
		{"Repositories/Empty", testRepositoryEmpty},
		{"Tags/SetNeedsImage", testSetTagNeedsImage},
		{"Tags/NotFound", testTagNotFound},
		{"Tags/SetCreatesAndMoves", testTagSetCreatesAndMoves},
		{"Tags/ImageTagsInByteOrder", testImageTagsSorted},
		{"Tags/PaginationInByteOrder", testTagsPagination},
		{"LayerRefs/ByStatus", testLayerRefsByStatus},
		{"LayerRefs/ManyDigests", testLayerRefsMany},
		{"LayerRefs/RestoreCompletesByClock", testLayerRefsRestoreByClock},
		{"LayerStatus/RepositoryLayerAndRefs", testLayerStatus},
		{"ReadImage/AccessTagAndImage", testReadImage},
		{"Images/RecordPull", testRecordPull},
		{"GC/UnreferencedLayers", testGCUnreferencedLayers},
		{"GC/MarkPinDelete", testGCBlobs},
		{"GC/Leases", testLeases},
		{"GC/ReleasedLayersWaitAgain", testGCReleasedLayers},
		{"GC/LayerPages", testGCLayerPages},
		{"GC/BlobPages", testGCBlobPages},
		{"GC/PagesSeeWritesBetween", testGCPagesSeeWritesBetween},
		{"Layers/SetMediaType", testSetLayerMediaType},
		{"Repositories/DeleteCascadesImagesAndTags", testRepositoryDeleteCascadesImages},
		{"Public/RegistryRoundTripEveryField", testPublicRegistryRoundTrip},
		{"Public/RegistryNotFound", testPublicRegistryNotFound},
		{"Public/RegistryPutReplaces", testPublicRegistryPutReplaces},
		{"Public/RegistryAliasTaken", testPublicRegistryAliasTaken},
		{"Public/CatalogRoundTripEveryField", testCatalogRoundTrip},
		{"Public/CatalogReplaceWithoutLogo", testCatalogReplaceWithoutLogo},
		{"Public/CatalogNotFound", testCatalogNotFound},
		{"Public/Policy", testPolicy},
		{"RegistryPolicy", testRegistryPolicy},
		{"CreationTemplates", testCreationTemplates},
		{"PullThroughRules", testPullThroughRules},
		{"PullThroughChecks", testPullThroughChecks},
		{"Replication", testReplication},
		{"PullTimeExclusions", testPullTimeExclusions},
		{"AccountSettings", testAccountSettings},
		{"ImageScans", testImageScans},
		{"Signing", testSigning},
		{"RepositoryAccess", testRepositoryAccess},
		{"Lifecycle/Policy", testLifecyclePolicy},
		{"Lifecycle/Preview", testLifecyclePreview},
		{"Public/PerRepository", testPublicPerRepository},
		{"Repositories/DeleteCascadesCatalogAndPolicy", testRepositoryDeleteCascadesCatalogAndPolicy},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t))
		})
	}
}

// The registries the cases use; two, to show that nothing leaks between
// them.
const (
	metaRegA registry.RegistryID = "111111111111"
	metaRegB registry.RegistryID = "222222222222"
)

// metaTime is a time with nanoseconds and a zone other than UTC, so that a
// round trip shows the store keeps the instant to the microsecond whatever
// the location.
func metaTime(offset time.Duration) time.Time {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	return time.Date(2025, 3, 14, 15, 9, 26, 535897932, zone).Add(offset)
}

// metaDigest returns a valid sha256 digest derived from s.
func metaDigest(s string) registry.Digest {
	return registry.Digest(fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(s))))
}

// metaKey returns the key of repository name in reg.
func metaKey(reg registry.RegistryID, name string) registry.RepoKey {
	return registry.RepoKey{Registry: reg, Name: registry.RepositoryName(name)}
}

// metaRepo returns a repository with every field set.
func metaRepo(key registry.RepoKey) registry.Repository {
	return registry.Repository{
		Registry:             key.Registry,
		Name:                 key.Name,
		CreatedAt:            metaTime(0),
		TagMutability:        "IMMUTABLE_WITH_EXCLUSION",
		MutabilityExclusions: []string{"latest", "dev-*", "*-rc"},
		ScanOnPush:           true,
		EncryptionType:       "KMS",
		KMSKey:               "arn:aws:kms:us-east-1:111111111111:key/0a1b2c3d",
		Tags: []registry.ResourceTag{
			{Key: "team", Value: "platform"},
			{Key: "env", Value: "prod"},
			{Key: "cost-center", Value: ""},
		},
	}
}

// metaUpload returns an upload of the repository with every field set.
func metaUpload(key registry.RepoKey, updated time.Time) registry.Upload {
	return registry.Upload{
		ID:           registry.NewUploadID(),
		Repo:         key,
		CreatedAt:    metaTime(-time.Hour),
		UpdatedAt:    updated,
		Size:         15 << 20,
		Parts:        3,
		LastPartSize: 5 << 20,
		SmallPart:    true,
		HashState:    []byte("sha\x03\x00\xff binary state"),
		Lease:        "lease-7f3a",
		Holder:       "process-9c1d",
		LeaseAt:      metaTime(-time.Minute),
	}
}

// metaMicro returns t truncated to microseconds, in one canonical
// representation, so that reflect.DeepEqual compares instants.
func metaMicro(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

func normRepository(r registry.Repository) registry.Repository {
	r.CreatedAt = metaMicro(r.CreatedAt)
	if len(r.MutabilityExclusions) == 0 {
		r.MutabilityExclusions = nil
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	return r
}

func normLayer(l registry.Layer) registry.Layer {
	l.CreatedAt = metaMicro(l.CreatedAt)
	return l
}

func normBlob(b registry.Blob) registry.Blob {
	b.CreatedAt = metaMicro(b.CreatedAt)
	return b
}

func normUpload(u registry.Upload) registry.Upload {
	u.CreatedAt = metaMicro(u.CreatedAt)
	u.UpdatedAt = metaMicro(u.UpdatedAt)
	u.LeaseAt = metaMicro(u.LeaseAt)
	if len(u.HashState) == 0 {
		u.HashState = nil
	}
	return u
}

// metaSame reports a difference between got and want after norm.
func metaSame[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// metaWantErr reports unless errors.Is(err, target).
func metaWantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// metaUpdate runs fn in an Update that must succeed.
func metaUpdate(t *testing.T, s registry.MetaStore, fn func(tx registry.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// metaView runs fn in a View that must succeed.
func metaView(t *testing.T, s registry.MetaStore, fn func(tx registry.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// metaCreateRepos creates a repository with every field set per key.
func metaCreateRepos(t *testing.T, s registry.MetaStore, keys ...registry.RepoKey) {
	t.Helper()
	metaUpdate(t, s, func(tx registry.Tx) error {
		for _, k := range keys {
			if err := tx.CreateRepository(metaRepo(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func testMetaPing(t *testing.T, s registry.MetaStore) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
