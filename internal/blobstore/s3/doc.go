// Package s3 implements registry.BlobStore on S3-compatible object storage,
// for replicas that share no disk. It keeps no state outside the bucket:
// any replica can continue or commit an upload another one started.
//
// Keys, under Options.Prefix:
//
//	blobs/<alg>/<hex>                committed blobs, written whole or not at all
//	uploads/<id>/data                an upload's S3 multipart upload; once completed
//	                                 at commit, the assembled object, until copied
//	uploads/<id>/pending/<offset>    a chunk too small to be an S3 part (20-digit offset)
//
// # Parts
//
// S3 requires every part of a multipart upload but the last to hold at
// least 5 MiB, and needs each request's length before it is sent. A part
// whose length is declared up front (registry.DeclaredLength: an ECR
// UploadLayerPart, a /v2/ PATCH or PUT with Content-Length) is streamed
// from the client's body into one request of that length, with no
// buffer: one UploadPart of the pending chunks (read back as it goes) and
// the body, or, when they make fewer than 5 MiB, one PutObject of a
// pending chunk (below). Its payload is UNSIGNED-PAYLOAD (see stream). A
// body that ends early fails that request and writes nothing that counts.
//
// A part of unknown length (a /v2/ PATCH without Content-Length, chunked)
// is read into a buffer of up to 20 MiB (ECR's largest part) and sent as
// S3 parts that are never smaller than 5 MiB: when the
// buffer fills before the stream ends, its first 15 MiB go as one S3 part
// and the rest stays, so that the stream's last S3 part holds more than
// 5 MiB too. Such a PATCH becomes 15 MiB parts and a last one of 5 to
// 20 MiB; so does a declared part that would make an S3 part over 5 GiB
// (S3's largest). Either way an ECR part (5 to 20 MiB) becomes exactly
// one S3 part, ECR part n being S3 part n+1.
//
// A part that ends with fewer than 5 MiB in the buffer, counting the
// pending chunks before it, cannot be an S3 part (unless it is the last,
// which is not known yet): it is stored as its own object under pending/,
// named by its offset. Once a later part brings the pending bytes to 5 MiB,
// the pending chunks are read back into the buffer ahead of the new bytes
// and folded into the next S3 part. Folded chunks are not deleted before
// the upload ends: a rewrite of the part that folded them needs them again.
// At commit, the pending tail (under 5 MiB) becomes the last S3 part, by
// UploadPartCopy when it is one chunk, else read and uploaded; a blob that
// is all pending chunks is copied or written whole under its digest.
// Small chunks cost their bytes three trips through ecrd (written, read
// back, written as a part); clients that push a blob in one PATCH, as
// docker, containerd and crane do, and ECR clients never pay it.
//
// # Finding an upload's state
//
// Nothing is kept in process memory or in a manifest. Each call lists
// what the bucket holds: ListMultipartUploads with the upload's key as the
// prefix gives the multipart upload ID, ListParts its parts and their
// sizes, ListObjectsV2 the pending chunks past the last part. Parts are
// numbered in order, so the bytes before an offset X are the parts from 1
// on while their sizes add up to at most X, then the pending chunks from
// there to X. Parts after those, or chunks at or past X, are what failed or
// superseded writes left: the next S3 part number takes the place of the
// first of them, the next chunk's key that of one at the same offset, and
// CompleteMultipartUpload lists only the parts that count (S3 drops the
// rest). This holds because ecrd writes an upload's parts in order, each
// starting where the recorded ones end, and every S3 part holds at least
// 5 MiB while the pending tail holds less. The cost is one to three LIST
// requests per part written (one more per 1,000 parts of the upload).
//
// # Commit
//
// CompleteMultipartUpload assembles the upload at its own key, then
// CopyObject copies it to the digest's key and the upload's objects are
// deleted: S3 writes an object whole or not at all, so no partial blob is
// ever seen under a digest. A blob over 5 GiB, or a copy of fewer bytes
// than the assembled object holds, is copied by a multipart upload of
// UploadPartCopy ranges instead. When the digest's key exists already, the
// upload is discarded. A commit that failed after completing the multipart
// upload is retried from the assembled object.
//
// # Requests
//
// TestRequestsPerOperation holds the store to these counts (LIST is
// ListMultipartUploads, ListParts or ListObjectsV2); parts of declared
// length cost the same but for "streamed", which is then 2 or 3 requests
// (LIST(s), CreateMultipartUpload on the first part, one UploadPart):
//
//	WriteUploadPart, first ECR part       3: LIST, CreateMultipartUpload, UploadPart
//	WriteUploadPart, later ECR part       3: 2 LIST, UploadPart
//	WriteUploadPart, small chunk          2-3: 1-2 LIST (+1 past a pending chunk), PutObject
//	  ... that folds k pending chunks     +k GetObject, UploadPart instead of PutObject
//	                                      (+CreateMultipartUpload on the first fold)
//	WriteUploadPart, streamed n MiB > 5   2 + ceil((n-5)/15): LIST, CreateMultipartUpload,
//	                                      UploadParts
//	CommitUpload, multipart               8: HeadObject, 2 LIST, CompleteMultipartUpload,
//	                                      CopyObject, cleanup (2 LIST, DeleteObjects);
//	                                      10 with a pending tail (+LIST, +UploadPartCopy)
//	CommitUpload, one small chunk         7: HeadObject, 2 LIST, CopyObject, cleanup
//	CommitUpload, k small chunks          7 + k: as one, k GetObject and a PutObject for CopyObject
//	CommitUpload, digest exists           4: HeadObject, cleanup (2 LIST, an Abort per
//	                                      multipart upload, DeleteObjects if objects)
//	Stat / Open / Delete                  1: HeadObject / GetObject / DeleteObject
//	                                      (Open at the blob's end: +HeadObject)
//	DeleteUpload                          2 LIST, an Abort per multipart upload,
//	                                      a DeleteObjects per 1,000 objects
//
// BlobURL (--blob-redirect) sends nothing: presigning is local.
//
// What that makes of each operation, on PostgreSQL and S3, as the e2e
// test TestS3RequestsPerOperation holds it: BatchCheckLayerAvailability,
// /v2/ blob HEAD, manifest GET and HEAD, tag lists, BatchGetImage,
// DescribeImages, ListImages, PutImage and GetDownloadUrlForLayer send S3
// nothing (the metadata answers them); a /v2/ blob GET is one GetObject,
// none with --blob-redirect (the client's GET goes to S3); UploadLayerPart
// is 3; CompleteLayerUpload is CommitUpload's 10 (8 without a pending
// tail) and 2 LIST of the core's DeleteUpload after it; a /v2/ monolithic
// push of a small blob is 12.
//
// ListParts returns 1,000 parts a page, so a write or commit of an upload
// with p parts costs ceil(p/1000) ListParts. A blob over 5 GiB is copied at
// commit by CreateMultipartUpload, an UploadPartCopy per 5 GiB and
// CompleteMultipartUpload. The bytes cross ecrd once, but for small chunks
// (three times, see above); the commit's copy is S3's own. An upload can
// have 10,000 parts of 15 MiB, about 146 GiB, well over ECR's largest
// layer; S3 refuses parts past that.
//
// # Limits
//
// Finding an upload by listing relies on the server's LIST requests seeing
// every completed write (S3's strong consistency, as AWS has had since
// 2020 and versitygw and MinIO have); on a server without it, a replica
// could miss the part another has just written.
//
// The core's lease keeps two requests from writing one upload, and the
// bucket tells any replica where the upload stands; but a writer whose
// lease lapsed while it was sending its last buffer can still land that
// S3 part after the new holder's (the filesystem store has the same
// window for its last write). The checksums the SDK adds by default are
// off (see New).
//
// # Errors
//
// A failed S3 request (SlowDown, InternalError, AccessDenied, a refused
// connection, a timeout; after the SDK's retries) is a
// registry.StorageError of kind StorageIO, which the front ends answer as
// the blob store's failure and the metrics count (storage_errors_total
// {kind="io"}); a missing key where a blob or an upload's bytes should be
// is registry.ErrNotFound; the client's body failing, or the caller's
// context ending, is returned as it is (errors.go). versitygw keeps a part
// whose body was cut off, zero-filled to its declared length, where AWS
// S3 refuses it: like any part a failed write left, it lies past the
// bytes that count and is replaced by the next write.
//
// What a crash between the copy and the deletes leaves under uploads/ is
// removed by the next DeleteUpload or commit of the upload; a bucket
// lifecycle rule that aborts incomplete multipart uploads and expires
// uploads/ after a few days (longer than registry.Limits.UploadExpiry) is
// a cheap backstop.
package s3
