package s3

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecrd/ecrd/internal/registry"
)

// s3Part is a part of an upload's multipart upload.
type s3Part struct {
	num  int32
	etag string
	size int64
}

// chunk is a pending chunk: an object holding bytes [off, off+size).
type chunk struct {
	key       string
	off, size int64
}

// layout is where the first bytes of an upload are: S3 parts 1..len(parts),
// holding bytes [0, base), then pending chunks from base on.
type layout struct {
	key   string // the upload's key
	mpu   string // its multipart upload ID; empty when there is none
	parts []s3Part
	base  int64
	tail  []chunk
}

// tailSize is the number of bytes the pending chunks hold.
func (l layout) tailSize() int64 {
	var n int64
	for _, c := range l.tail {
		n += c.size
	}
	return n
}

// locate finds the pieces of the upload at key that hold its bytes
// [0, end), as the package doc describes. With exact, they must end at end
// (the bytes before a part being written); without, the last may reach
// past it (a commit of fewer bytes than were written). Bytes that are not
// all there give an error wrapping registry.ErrNotFound: the upload's
// earlier parts are gone.
func (s *Store) locate(ctx context.Context, key string, end int64, exact bool) (layout, error) {
	l := layout{key: key}
	mpus, err := s.multipartUploads(ctx, key)
	if err != nil {
		return l, err
	}
	var next *s3Part // the first part past end, for a commit of fewer bytes
	if len(mpus) > 0 {
		// Two exist only if two first writes raced; the caller's lease
		// makes that rare, and the oldest is as good as any.
		l.mpu = mpus[0]
		parts, err := s.listParts(ctx, key, l.mpu)
		if err != nil {
			return l, err
		}
		for i, p := range parts {
			if p.num != int32(i+1) {
				break // a gap: what follows is a failed write's
			}
			if p.size < minPart && (exact || l.base+p.size != end) {
				// A pending tail a failed commit made a part: it counts
				// only as the last part; its chunks are still there.
				break
			}
			if l.base+p.size > end {
				next = &parts[i]
				break
			}
			l.parts = append(l.parts, p)
			l.base += p.size
		}
	}
	if l.base == end {
		return l, nil
	}
	chunks, err := s.listPending(ctx, key, l.base)
	if err != nil {
		return l, err
	}
	at := l.base
	for _, c := range chunks {
		if at >= end {
			break
		}
		if c.off != at || c.size == 0 {
			continue // left by a failed or superseded write
		}
		l.tail = append(l.tail, c)
		at += c.size
	}
	switch {
	case at == end || !exact && at > end:
		return l, nil
	case !exact && len(l.tail) == 0 && next != nil:
		l.parts = append(l.parts, *next)
		l.base += next.size
		return l, nil
	}
	return l, fmt.Errorf("the upload holds bytes up to %d, not %d: its earlier parts are gone: %w", at, end, registry.ErrNotFound)
}

// multipartUploads returns the IDs of the multipart uploads at key, oldest
// first.
func (s *Store) multipartUploads(ctx context.Context, key string) ([]string, error) {
	var ids []string
	in := &awss3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &key}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads: %w", err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) == key {
				ids = append(ids, aws.ToString(u.UploadId))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return ids, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// listParts returns the parts of multipart upload mpu, by number.
func (s *Store) listParts(ctx context.Context, key, mpu string) ([]s3Part, error) {
	var parts []s3Part
	in := &awss3.ListPartsInput{Bucket: &s.bucket, Key: &key, UploadId: &mpu}
	for {
		out, err := s.client.ListParts(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list parts: %w", err)
		}
		for _, p := range out.Parts {
			parts = append(parts, s3Part{num: aws.ToInt32(p.PartNumber), etag: aws.ToString(p.ETag), size: aws.ToInt64(p.Size)})
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
			break
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
	slices.SortFunc(parts, func(a, b s3Part) int { return int(a.num - b.num) })
	return parts, nil
}

// listPending returns the pending chunks of the upload at key at offsets
// from on, by offset.
func (s *Store) listPending(ctx context.Context, key string, from int64) ([]chunk, error) {
	prefix := uploadDir(key) + "pending/"
	in := &awss3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix}
	if from > 0 {
		// Keys sort as offsets do, and none lies between from-1 and from.
		in.StartAfter = aws.String(pendingKey(key, from-1))
	}
	var chunks []chunk
	for {
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list pending chunks: %w", err)
		}
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			off, err := strconv.ParseInt(strings.TrimPrefix(k, prefix), 10, 64)
			if err != nil || off < from {
				continue
			}
			chunks = append(chunks, chunk{key: k, off: off, size: aws.ToInt64(o.Size)})
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	slices.SortFunc(chunks, func(a, b chunk) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	return chunks, nil
}
