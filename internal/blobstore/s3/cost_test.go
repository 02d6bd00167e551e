package s3

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

// TestRequestsPerOperation counts the S3 requests each BlobStore method
// sends in the cases that matter, reports them (go test -v), and holds
// them to the costs the package doc and this table state.
func TestRequestsPerOperation(t *testing.T) {
	hook := newHookTransport()
	s := openStore(t, &http.Client{Transport: hook})
	ctx := t.Context()
	type step struct {
		name string
		run  func() error
		want string // the requests, as sortedOps lists them
	}
	write := func(id registry.UploadID, part, off int, b []byte) func() error {
		return func() error {
			_, err := s.WriteUploadPart(ctx, id, part, int64(off), bytes.NewReader(b))
			return err
		}
	}
	declare := func(id registry.UploadID, part, off int, b []byte) func() error {
		return func() error {
			_, err := s.WriteUploadPart(ctx, id, part, int64(off), declaredOf(b))
			return err
		}
	}
	commitOf := func(id registry.UploadID, parts int, data []byte) func() error {
		return func() error { return s.CommitUpload(ctx, id, parts, int64(len(data)), digest(data)) }
	}
	read := func(d registry.Digest, off int64) func() error {
		return func() error {
			r, err := s.Open(ctx, d, off)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(io.Discard, r)
			return err
		}
	}
	ecr, ecrID := random(20, 12*mib), registry.NewUploadID()
	oneChunk, oneID := random(21, mib), registry.NewUploadID()
	chunks, chunksID := random(22, 6*mib), registry.NewUploadID()
	stream, streamID := random(23, 40*mib), registry.NewUploadID()
	dupID := registry.NewUploadID()
	declared, declaredID := random(25, 46*mib), registry.NewUploadID()
	steps := []step{
		{"WriteUploadPart/ECRFirstPart", write(ecrID, 0, 0, ecr[:5*mib]),
			"CreateMultipartUpload×1 ListMultipartUploads×1 UploadPart×1"},
		{"WriteUploadPart/ECRPart", write(ecrID, 1, 5*mib, ecr[5*mib:10*mib]),
			"ListMultipartUploads×1 ListParts×1 UploadPart×1"},
		{"WriteUploadPart/ECRSmallLastPart", write(ecrID, 2, 10*mib, ecr[10*mib:]),
			"ListMultipartUploads×1 ListParts×1 PutObject×1"},
		{"CommitUpload/ECRParts", commitOf(ecrID, 3, ecr),
			"CompleteMultipartUpload×1 CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×2 ListObjectsV2×2 ListParts×1 UploadPartCopy×1"},
		{"CommitUpload/ExistingDigest", func() error {
			if err := write(dupID, 0, 0, ecr[:5*mib])(); err != nil {
				return err
			}
			hook.take()
			return s.CommitUpload(ctx, dupID, 1, int64(len(ecr)), digest(ecr))
		}, "AbortMultipartUpload×1 DeleteObjects×0 HeadObject×1 ListMultipartUploads×1 ListObjectsV2×1"},
		{"WriteUploadPart/FirstSmallChunk", write(oneID, 0, 0, oneChunk),
			"ListMultipartUploads×1 PutObject×1"},
		{"CommitUpload/OneSmallChunk", commitOf(oneID, 1, oneChunk),
			"CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×2 ListObjectsV2×2"},
		{"CommitUpload/ThreeSmallChunks", func() error {
			id, data := registry.NewUploadID(), random(24, 3*mib)
			for i := range 3 {
				if err := write(id, i, i*mib, data[i*mib:(i+1)*mib])(); err != nil {
					return err
				}
			}
			hook.take()
			return commitOf(id, 3, data)()
		}, "DeleteObjects×1 GetObject×3 HeadObject×1 ListMultipartUploads×2 ListObjectsV2×2 PutObject×1"},
		{"WriteUploadPart/SmallChunk0", write(chunksID, 0, 0, chunks[:2*mib]),
			"ListMultipartUploads×1 PutObject×1"},
		{"WriteUploadPart/SmallChunk1", write(chunksID, 1, 2*mib, chunks[2*mib:4*mib]),
			"ListMultipartUploads×1 ListObjectsV2×1 PutObject×1"},
		{"WriteUploadPart/ChunkFoldingTwoPending", write(chunksID, 2, 4*mib, chunks[4*mib:]),
			"CreateMultipartUpload×1 GetObject×2 ListMultipartUploads×1 ListObjectsV2×1 UploadPart×1"},
		{"CommitUpload/FoldedChunks", commitOf(chunksID, 3, chunks),
			"CompleteMultipartUpload×1 CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×2 ListObjectsV2×1 ListParts×1"},
		{"WriteUploadPart/Streamed40MiB", write(streamID, 0, 0, stream),
			"CreateMultipartUpload×1 ListMultipartUploads×1 UploadPart×3"},
		{"CommitUpload/Streamed40MiB", commitOf(streamID, 1, stream),
			"CompleteMultipartUpload×1 CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×2 ListObjectsV2×1 ListParts×1"},
		// Parts of declared length (Content-Length, ECR parts) are
		// streamed: one request each, whatever their size.
		{"WriteUploadPart/DeclaredSmallChunk", declare(declaredID, 0, 0, declared[:mib]),
			"ListMultipartUploads×1 PutObject×1"},
		{"WriteUploadPart/DeclaredFoldingOnePending", declare(declaredID, 1, mib, declared[mib:6*mib]),
			"CreateMultipartUpload×1 GetObject×1 ListMultipartUploads×1 ListObjectsV2×1 UploadPart×1"},
		{"WriteUploadPart/Declared40MiB", declare(declaredID, 2, 6*mib, declared[6*mib:]),
			"ListMultipartUploads×1 ListParts×1 UploadPart×1"},
		{"CommitUpload/Declared", commitOf(declaredID, 3, declared),
			"CompleteMultipartUpload×1 CopyObject×1 DeleteObjects×1 HeadObject×1 ListMultipartUploads×2 ListObjectsV2×1 ListParts×1"},
		{"Stat", func() error { _, err := s.Stat(ctx, digest(ecr)); return err },
			"HeadObject×1"},
		{"Open/FromStart", read(digest(ecr), 0), "GetObject×1"},
		{"Open/FromOffset", read(digest(ecr), 7), "GetObject×1"},
		{"Open/AtEnd", read(digest(ecr), int64(len(ecr))), "GetObject×1 HeadObject×1"},
		{"Delete", func() error { return s.Delete(ctx, digest(ecr)) }, "DeleteObject×1"},
		{"DeleteUpload/Unknown", func() error { return s.DeleteUpload(ctx, registry.NewUploadID()) },
			"ListMultipartUploads×1 ListObjectsV2×1"},
	}
	hook.take()
	var report strings.Builder
	for _, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		ops := hook.take()
		got := strings.Join(sortedOps(ops), " ")
		fmt.Fprintf(&report, "\n\t%-40s %2d requests: %s", st.name, total(ops), got)
		if got != dropZero(st.want) {
			t.Errorf("%s: requests %s, want %s", st.name, got, dropZero(st.want))
		}
	}
	t.Log("S3 requests per BlobStore call:" + report.String())
}

// dropZero removes the "Op×0" entries a want lists for the reader's sake.
func dropZero(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !strings.HasSuffix(f, "×0") {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}
