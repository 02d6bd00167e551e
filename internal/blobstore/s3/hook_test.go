package s3

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// hookTransport counts the S3 requests a store sends, by operation, and
// lets a test look at or fail each one before it is sent.
type hookTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	ops  map[string]int
	// before, when set, runs before each request is sent; an error fails
	// the request without sending it.
	before func(op string) error
}

func newHookTransport() *hookTransport {
	return &hookTransport{next: http.DefaultTransport.(*http.Transport).Clone(), ops: map[string]int{}}
}

func (h *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := awsmiddleware.GetOperationName(req.Context())
	if op == "" {
		op = req.Method + " " + req.URL.Path
	}
	h.mu.Lock()
	h.ops[op]++
	before := h.before
	h.mu.Unlock()
	if before != nil {
		if err := before(op); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	return h.next.RoundTrip(req)
}

// setBefore sets before.
func (h *hookTransport) setBefore(f func(op string) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.before = f
}

// take returns the requests counted since the last take, and resets.
func (h *hookTransport) take() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	ops := h.ops
	h.ops = map[string]int{}
	return ops
}

// total is the number of requests in ops.
func total(ops map[string]int) int {
	n := 0
	for _, c := range ops {
		n += c
	}
	return n
}

// sortedOps lists ops as "Name×n", by name.
func sortedOps(ops map[string]int) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ops)) {
		out = append(out, k+"×"+strconv.Itoa(ops[k]))
	}
	return out
}

// errInjected is the failure hookTransport's before returns in tests.
var errInjected = errors.New("injected failure")
