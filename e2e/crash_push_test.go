package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
)

// The repositories TestCrashLoop pushes to: base holds the shared base
// layers the others mount, pub is an ECR Public repository.
var (
	crashRepos    = []string{"crash/a", "crash/b", "crash/c"}
	crashBaseRepo = "crash/base"
	crashPubRepo  = "crash/pub"
	crashPubName  = publicAlias + "/" + crashPubRepo // its /v2/ name on the public listener
)

// crashTimeout bounds every request of TestCrashLoop, so a hang fails the
// test instead of hanging CI.
const crashTimeout = 30 * time.Second

// crashEnv is how clients reach the current process.
type crashEnv struct {
	api, pub        string // base URLs of the private and public listeners
	v2Auth, pubAuth string // Basic headers from ECR's and ECR Public's GetAuthorizationToken
	ecr             *ecr.Client
	public          *ecrpublic.Client
	hc              *http.Client
}

func newCrashEnv(p *crashProcess) (*crashEnv, error) {
	s := &server{URL: p.api}
	e := &crashEnv{api: p.api, pub: p.pub, ecr: s.client(), public: s.publicClient(),
		hc: &http.Client{Timeout: crashTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	c, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	priv, err := e.ecr.GetAuthorizationToken(c, &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(priv.AuthorizationData) != 1 {
		return nil, fmt.Errorf("ecr GetAuthorizationToken: %v", err)
	}
	pub, err := e.public.GetAuthorizationToken(c, &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil || pub.AuthorizationData == nil {
		return nil, fmt.Errorf("ecr-public GetAuthorizationToken: %v", err)
	}
	e.v2Auth = "Basic " + aws.ToString(priv.AuthorizationData[0].AuthorizationToken)
	e.pubAuth = "Basic " + aws.ToString(pub.AuthorizationData.AuthorizationToken)
	return e, nil
}

// listener returns the base URL and Authorization of the private or the
// public /v2/ API.
func (e *crashEnv) listener(public bool) (base, auth string) {
	if public {
		return e.pub, e.pubAuth
	}
	return e.api, e.v2Auth
}

// do sends a /v2/ request; header is key, value pairs. A body of
// unknown length (not a *bytes.Reader) goes chunked.
func (e *crashEnv) do(method, u, auth string, body io.Reader, header ...string) (*http.Response, []byte, error) {
	c, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(c, method, u, body)
	if err != nil {
		return nil, nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// statusErr turns an answer with another status than status into an error.
func statusErr(what string, resp *http.Response, body []byte, err error, status int) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if resp.StatusCode != status {
		return fmt.Errorf("%s: %d %s, want %d", what, resp.StatusCode, bytes.TrimSpace(body), status)
	}
	return nil
}

// v2Path is the URL of a /v2/ path of repository name.
func v2Path(base, name, rest string) string { return base + "/v2/" + name + "/" + rest }

// startV2Upload opens an upload session and returns its Location.
func (e *crashEnv) startV2Upload(base, auth, name string) (string, error) {
	resp, body, err := e.do(http.MethodPost, v2Path(base, name, "blobs/uploads/"), auth, nil)
	if err := statusErr("POST "+name+" blobs/uploads/", resp, body, err, http.StatusAccepted); err != nil {
		return "", err
	}
	return resolveLocation(base, resp.Header.Get("Location"))
}

// patchChunk sends data[from:to] at from with Content-Range and returns
// the upload's new Location.
func (e *crashEnv) patchChunk(base, auth, loc string, data []byte, from, to int) (string, error) {
	resp, body, err := e.do(http.MethodPatch, loc, auth, bytes.NewReader(data[from:to]),
		"Content-Type", "application/octet-stream", "Content-Range", fmt.Sprintf("%d-%d", from, to-1))
	if err := statusErr(fmt.Sprintf("PATCH bytes %d-%d", from, to-1), resp, body, err, http.StatusAccepted); err != nil {
		return "", err
	}
	if got := resp.Header.Get("Range"); got != fmt.Sprintf("0-%d", to-1) {
		return "", fmt.Errorf("PATCH bytes %d-%d: Range %q, want 0-%d", from, to-1, got, to-1)
	}
	return resolveLocation(base, resp.Header.Get("Location"))
}

// finishV2Upload completes an upload with PUT ?digest=, carrying rest.
func (e *crashEnv) finishV2Upload(loc, auth, digest string, rest []byte) error {
	resp, body, err := e.do(http.MethodPut, withDigest(loc, digest), auth, bytes.NewReader(rest), "Content-Type", "application/octet-stream")
	if err := statusErr("PUT ?digest="+digest, resp, body, err, http.StatusCreated); err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
		return fmt.Errorf("PUT ?digest=%s: Docker-Content-Digest %q", digest, got)
	}
	return nil
}

// A v2Method uploads one blob through the /v2/ API.
type v2Method func(e *crashEnv, base, auth, name string, data []byte) error

// v2Monolithic is POST ?digest= with the body.
func v2Monolithic(e *crashEnv, base, auth, name string, data []byte) error {
	d := digestOf(data)
	resp, body, err := e.do(http.MethodPost, v2Path(base, name, "blobs/uploads/?digest="+url.QueryEscape(d)), auth,
		bytes.NewReader(data), "Content-Type", "application/octet-stream")
	if err := statusErr("monolithic POST ?digest=", resp, body, err, http.StatusCreated); err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != d {
		return fmt.Errorf("monolithic POST: Docker-Content-Digest %q, want %s", got, d)
	}
	return nil
}

// v2PostPut is POST, then PUT ?digest= with the body.
func v2PostPut(e *crashEnv, base, auth, name string, data []byte) error {
	loc, err := e.startV2Upload(base, auth, name)
	if err != nil {
		return err
	}
	return e.finishV2Upload(loc, auth, digestOf(data), data)
}

// v2Chunked is POST, PATCHes with Content-Range, PUT ?digest=; the last
// chunk goes in the PUT for odd-sized blobs.
func v2Chunked(e *crashEnv, base, auth, name string, data []byte) error {
	loc, err := e.startV2Upload(base, auth, name)
	if err != nil {
		return err
	}
	chunk := len(data)/3 + 1
	end := len(data)
	if len(data)%2 == 1 {
		end -= min(chunk, len(data))
	}
	for off := 0; off < end; off += chunk {
		if loc, err = e.patchChunk(base, auth, loc, data, off, min(off+chunk, end)); err != nil {
			return err
		}
	}
	if end == len(data) {
		return e.finishV2Upload(loc, auth, digestOf(data), nil)
	}
	resp, body, err := e.do(http.MethodPut, withDigest(loc, digestOf(data)), auth, bytes.NewReader(data[end:]),
		"Content-Type", "application/octet-stream", "Content-Range", fmt.Sprintf("%d-%d", end, len(data)-1))
	return statusErr("PUT ?digest= with the last chunk", resp, body, err, http.StatusCreated)
}

// v2Streamed is POST, two PATCHes without Content-Range sent chunked (of
// unknown length), and PUT ?digest=.
func v2Streamed(e *crashEnv, base, auth, name string, data []byte) error {
	loc, err := e.startV2Upload(base, auth, name)
	if err != nil {
		return err
	}
	half := len(data) / 2
	for _, part := range [][]byte{data[:half], data[half:]} {
		resp, body, err := e.do(http.MethodPatch, loc, auth, struct{ io.Reader }{bytes.NewReader(part)}, "Content-Type", "application/octet-stream")
		if err := statusErr("streamed PATCH", resp, body, err, http.StatusAccepted); err != nil {
			return err
		}
		if loc, err = resolveLocation(base, resp.Header.Get("Location")); err != nil {
			return err
		}
	}
	return e.finishV2Upload(loc, auth, digestOf(data), nil)
}

// v2Mount mounts a blob from the base repository.
func v2Mount(e *crashEnv, base, auth, name string, data []byte) error {
	d := digestOf(data)
	resp, body, err := e.do(http.MethodPost, v2Path(base, name, "blobs/uploads/?mount="+url.QueryEscape(d)+"&from="+url.QueryEscape(crashBaseRepo)), auth, nil)
	return statusErr("POST ?mount="+d+"&from="+crashBaseRepo, resp, body, err, http.StatusCreated)
}

// putV2Manifest puts an OCI manifest under tag.
func (e *crashEnv) putV2Manifest(base, auth, name, tag, manifest string) error {
	resp, body, err := e.do(http.MethodPut, v2Path(base, name, "manifests/"+tag), auth, strings.NewReader(manifest), "Content-Type", ociManifestType)
	if err := statusErr("PUT manifests/"+tag, resp, body, err, http.StatusCreated); err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digestOf([]byte(manifest)) {
		return fmt.Errorf("PUT manifests/%s: Docker-Content-Digest %q", tag, got)
	}
	return nil
}

// ecrPushLayer is InitiateLayerUpload, one UploadLayerPart and
// CompleteLayerUpload; a layer the repository already holds is there.
func (e *crashEnv) ecrPushLayer(repo string, data []byte) error {
	c, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	up, err := e.ecr.InitiateLayerUpload(c, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		return fmt.Errorf("InitiateLayerUpload: %w", err)
	}
	if _, err := e.ecr.UploadLayerPart(c, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(data)) - 1), LayerPartBlob: data}); err != nil {
		return fmt.Errorf("UploadLayerPart: %w", err)
	}
	_, err = e.ecr.CompleteLayerUpload(c, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{digestOf(data)}})
	var exists *types.LayerAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("CompleteLayerUpload: %w", err)
	}
	return nil
}

// pushKind is one way of pushing an image.
type pushKind struct {
	name   string
	method v2Method // nil: the ECR layer API and PutImage
	public bool     // through the public listener
}

var pushKinds = []pushKind{
	{"v2-monolithic", v2Monolithic, false},
	{"v2-post-put", v2PostPut, false},
	{"v2-chunked", v2Chunked, false},
	{"v2-streamed", v2Streamed, false},
	{"ecr-api", nil, false},
	{"public-v2", v2Chunked, true},
}

// pusher pushes images over and over until the process is killed,
// recording each blob and manifest once the server acknowledged it.
type pusher struct {
	id, iter int
	e        *crashEnv
	led      *ledger
	bases    [][]byte
	rng      *rand.Rand
}

func (p *pusher) run(killed *atomic.Bool) error {
	for n := 0; !killed.Load(); n++ {
		if err := p.push(n); err != nil {
			if killed.Load() {
				return nil // the kill cut the push short: nothing of it was acknowledged
			}
			return fmt.Errorf("pusher %d push %d: %w", p.id, n, err)
		}
	}
	return nil
}

// push pushes one image: a unique config, a shared base layer (mounted
// from the base repository every other time) and one or two unique layers.
func (p *pusher) push(n int) error {
	k := pushKinds[(p.id+n)%len(pushKinds)]
	tag := fmt.Sprintf("i%d-p%d-n%d", p.iter, p.id, n)
	repo, name := crashRepos[p.id%len(crashRepos)], crashRepos[p.id%len(crashRepos)]
	if k.public {
		repo, name = crashPubRepo, crashPubName
	}
	cfg := fmt.Appendf(nil, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"crash":%q}`, tag)
	layers := [][]byte{p.bases[(p.id+n)%len(p.bases)]}
	for range 1 + p.rng.IntN(2) {
		layers = append(layers, layerBytes(4<<10+p.rng.IntN(1<<20-4<<10), p.rng.Uint64()))
	}
	base, auth := p.e.listener(k.public)
	descs := make([]blob, 0, len(layers))
	for i, data := range append([][]byte{cfg}, layers...) {
		how, method := k.name, k.method
		switch {
		case i == 1 && n%2 == 0 && !k.public && k.method != nil:
			how, method = "v2-mount", v2Mount
		case k.public && i == 0:
			how, method = "public-v2-monolithic", v2Monolithic
		case k.public && i == 1:
			how, method = "public-v2-post-put", v2PostPut
		}
		var err error
		if method == nil {
			err = p.e.ecrPushLayer(repo, data)
		} else {
			err = method(p.e, base, auth, name, data)
		}
		if err != nil {
			return fmt.Errorf("%s blob %d of %s: %w", how, i, tag, err)
		}
		p.led.addBlob(ackedBlob{public: k.public, repo: name, digest: digestOf(data), size: int64(len(data)),
			ecrAPI: method == nil, iter: p.iter, how: how})
		if i > 0 {
			descs = append(descs, blob{Digest: digestOf(data), Size: len(data)})
		}
	}
	m := ociManifest(blob{Digest: digestOf(cfg), Size: len(cfg)}, tag, descs...)
	if k.method == nil {
		c, cancel := context.WithTimeout(context.Background(), crashTimeout)
		defer cancel()
		if _, err := p.e.ecr.PutImage(c, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m), ImageTag: aws.String(tag)}); err != nil {
			return fmt.Errorf("PutImage %s: %w", tag, err)
		}
	} else if err := p.e.putV2Manifest(base, auth, name, tag, m); err != nil {
		return err
	}
	p.led.addManifest(ackedManifest{public: k.public, repo: name, tag: tag, body: m, iter: p.iter, how: k.name})
	return nil
}

// uploadRange parses an upload's Range header, "0-<n-1>", into n.
func uploadRange(h string) (int64, error) {
	last, ok := strings.CutPrefix(h, "0-")
	n, err := strconv.ParseInt(last, 10, 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("Range %q, want 0-<last byte>", h)
	}
	return n + 1, nil
}

// openUpload is an upload held open across a kill: where the server
// acknowledged it stood before the kill, and whether a request was seen
// writing to it when the kill landed.
type openUpload struct {
	ecrAPI  bool
	public  bool
	name    string // /v2/ name, or the ECR repository
	ref     string // /v2/: the upload's path on its listener; ECR: the uploadId
	data    []byte
	parts   []int64 // ECR: where each part starts
	acked   atomic.Int64
	writing bool
	// reported is where the server said the upload stood after the
	// restart: at least acked, more if a part cut short by the kill counted.
	reported, ackedAtKill int64
}

func (u *openUpload) String() string {
	api := "/v2/ " + u.ref
	if u.ecrAPI {
		api = "ECR " + u.name + " " + u.ref
	}
	return fmt.Sprintf("%s (%d of %d bytes acknowledged, writing at the kill: %v)", api, u.acked.Load(), len(u.data), u.writing)
}

// held are the uploads held open during one run.
type held struct {
	uploads []*openUpload
	stalled *openUpload   // a /v2/ PATCH stalls half-way through its body
	writer  *openUpload   // an ECR upload whose parts go on until the kill
	start   chan struct{} // starts the writer
	release chan struct{} // closed after the kill
	wg      sync.WaitGroup
}

// holdUploads opens the held uploads: two /v2/ ones (one on the public
// listener) and an ECR one idle with acknowledged chunks and parts, a /v2/
// one with a PATCH stalled mid-body, and an ECR one written to until the kill.
func holdUploads(e *crashEnv, iter int, rng *rand.Rand, killed *atomic.Bool) (*held, error) {
	h := &held{start: make(chan struct{}), release: make(chan struct{})}
	repo := crashRepos[iter%len(crashRepos)]
	newV2 := func(public bool, name string, size, acked int) (*openUpload, error) {
		u := &openUpload{public: public, name: name, data: layerBytes(size, rng.Uint64())}
		base, auth := e.listener(public)
		loc, err := e.startV2Upload(base, auth, name)
		for off := 0; err == nil && off < acked; off += acked / 2 {
			loc, err = e.patchChunk(base, auth, loc, u.data, off, off+acked/2)
		}
		if err != nil {
			return nil, fmt.Errorf("holding a /v2/ upload open: %w", err)
		}
		pu, _ := url.Parse(loc) // made by resolveLocation
		u.ref = pu.RequestURI()
		u.acked.Store(int64(acked))
		h.uploads = append(h.uploads, u)
		return u, nil
	}
	newECR := func(size int, parts ...int64) (*openUpload, error) {
		u := &openUpload{ecrAPI: true, name: repo, data: layerBytes(size, rng.Uint64()), parts: parts}
		c, cancel := context.WithTimeout(context.Background(), crashTimeout)
		defer cancel()
		up, err := e.ecr.InitiateLayerUpload(c, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
		if err == nil {
			u.ref = aws.ToString(up.UploadId)
			err = e.uploadPart(c, u, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("holding an ECR upload open: %w", err)
		}
		h.uploads = append(h.uploads, u)
		return u, nil
	}
	const p5 = 5 * mib // ECR's least part but the last
	var err error
	if _, err = newV2(false, repo, 300000, 200000); err != nil {
		return nil, err
	}
	if _, err = newV2(true, crashPubName, 200000, 80000); err != nil {
		return nil, err
	}
	if _, err = newECR(p5+200000, 0, p5); err != nil {
		return nil, err
	}
	if h.writer, err = newECR(3*p5+100000, 0, p5, 2*p5, 3*p5); err != nil {
		return nil, err
	}
	if h.stalled, err = newV2(false, repo, 400000, 150000); err != nil {
		return nil, err
	}
	h.wg.Add(2)
	go func() { defer h.wg.Done(); h.stallPatch(e) }()
	go func() {
		defer h.wg.Done()
		select {
		case <-h.start:
		case <-h.release:
			return
		}
		c, cancel := context.WithTimeout(context.Background(), crashTimeout)
		defer cancel()
		for i := 1; i < len(h.writer.parts) && !killed.Load(); i++ {
			if e.uploadPart(c, h.writer, i) != nil {
				return // the kill
			}
		}
	}()
	return h, nil
}

// uploadPart sends part i of an ECR upload and records its acknowledgment.
func (e *crashEnv) uploadPart(c context.Context, u *openUpload, i int) error {
	first, end := u.parts[i], int64(len(u.data))
	if i+1 < len(u.parts) {
		end = u.parts[i+1]
	}
	out, err := e.ecr.UploadLayerPart(c, &ecr.UploadLayerPartInput{RepositoryName: aws.String(u.name), UploadId: aws.String(u.ref),
		PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(end - 1), LayerPartBlob: u.data[first:end]})
	if err != nil {
		return fmt.Errorf("UploadLayerPart %d-%d: %w", first, end-1, err)
	}
	if got := aws.ToInt64(out.LastByteReceived); got != end-1 {
		return fmt.Errorf("UploadLayerPart %d-%d: lastByteReceived %d", first, end-1, got)
	}
	u.acked.Store(end)
	return nil
}

// stallPatch sends the stalled upload's next chunk, but only half of its
// body, and then waits for the kill, so the server is writing the chunk
// when the kill lands.
func (h *held) stallPatch(e *crashEnv) {
	u := h.stalled
	from := u.acked.Load()
	chunk := u.data[from:]
	c, cancel := context.WithTimeout(context.Background(), crashTimeout)
	defer cancel()
	body := io.MultiReader(bytes.NewReader(chunk[:len(chunk)/2]), releaseReader(h.release))
	req, err := http.NewRequestWithContext(c, http.MethodPatch, e.api+u.ref, body)
	if err != nil {
		return
	}
	req.ContentLength = int64(len(chunk))
	req.Header.Set("Authorization", e.v2Auth)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", from, len(u.data)-1))
	if resp, err := e.hc.Do(req); err == nil {
		resp.Body.Close() // answered without the whole body: leased() will not find it writing
	}
}

// releaseReader blocks until release is closed, then fails.
type releaseReader <-chan struct{}

func (r releaseReader) Read([]byte) (int, error) {
	<-r
	return 0, errors.New("released after the kill")
}

// catchWriting waits (boundedly) until the server is writing the stalled
// PATCH, then starts the ECR writer and waits until it is writing a part,
// so the kill lands on both.
func (h *held) catchWriting(e *crashEnv) error {
	poll := func(u *openUpload, done func() bool) error {
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && !done(); {
			ok, err := e.leased(u)
			if err != nil {
				return err
			}
			if ok {
				u.writing = true
				return nil
			}
		}
		return nil
	}
	if err := poll(h.stalled, func() bool { return false }); err != nil {
		return err
	}
	close(h.start)
	return poll(h.writer, func() bool { return h.writer.acked.Load() == int64(len(h.writer.data)) })
}

// anotherWriter is the server's answer while a request holds an upload.
const anotherWriter = "Another request is writing"

// leased asks, changing nothing, whether a request holds the upload: a
// part at an offset it cannot have is refused, as "Another request is
// writing" while one does (checked first), else as out of order.
func (e *crashEnv) leased(u *openUpload) (bool, error) {
	const far = 1 << 40
	if u.ecrAPI {
		c, cancel := context.WithTimeout(context.Background(), crashTimeout)
		defer cancel()
		_, err := e.ecr.UploadLayerPart(c, &ecr.UploadLayerPartInput{RepositoryName: aws.String(u.name), UploadId: aws.String(u.ref),
			PartFirstByte: aws.Int64(far), PartLastByte: aws.Int64(far), LayerPartBlob: []byte{0}})
		var ilp *types.InvalidLayerPartException
		if !errors.As(err, &ilp) {
			return false, fmt.Errorf("probing ECR upload %s: %v, want InvalidLayerPartException", u.ref, err)
		}
		return strings.Contains(ilp.ErrorMessage(), anotherWriter), nil
	}
	base, auth := e.listener(u.public)
	resp, body, err := e.do(http.MethodPatch, base+u.ref, auth, strings.NewReader("x"), "Content-Range", fmt.Sprintf("%d-%d", far, far))
	if err := statusErr("probing /v2/ upload "+u.ref, resp, body, err, http.StatusRequestedRangeNotSatisfiable); err != nil {
		return false, err
	}
	return strings.Contains(string(body), anotherWriter), nil
}
