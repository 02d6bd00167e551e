package registry

import "io"

// DeclaredLength is a part body whose length the client declared before
// sending it (Content-Length, or an ECR part's size), so that a store
// which must know a request's length before sending it (S3) can stream
// the body instead of buffering it. The body may still end early: a store
// that sends it whole may then have written nothing, and reports the
// bytes it read; the core refuses a part shorter than declared, so none
// of it counts.
type DeclaredLength interface {
	io.Reader
	// DeclaredLength is the number of bytes the body should hold.
	DeclaredLength() int64
}

// declared is a body of a declared length.
type declared struct {
	io.Reader
	n int64
}

func (d declared) DeclaredLength() int64 { return d.n }
