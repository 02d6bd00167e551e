package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"
)

// client is the one OCI Distribution client both servers are driven with:
// what docker, crane and containerd do on the wire, and nothing more.
// Pushing a blob is HEAD (skip if present), POST, one streamed PATCH, PUT
// with the digest; pulling an image is GET manifest, then GET of its blobs.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, conns int) *client {
	t := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		// Blob bodies are large: big buffers keep syscalls few on both
		// sides, the same for both servers.
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
	return &client{base: base, http: &http.Client{Transport: t, Timeout: 30 * time.Minute}}
}

// blob is content the client can send as many times as asked: size bytes
// of a deterministic pseudo-random stream (incompressible, like real
// layers), whose digest is computed once beforehand so that pushing does
// not cost the client a hash.
type blob struct {
	seed   uint64
	size   int64
	digest string
}

func newBlob(seed uint64, size int64) blob {
	h := sha256.New()
	if _, err := io.Copy(h, blobReader(seed, size)); err != nil {
		panic(err) // a generated stream cannot fail
	}
	return blob{seed: seed, size: size, digest: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

// blobReader is the stream of a blob: ChaCha8 keyed by the seed, which
// makes gigabytes a second on one core.
func blobReader(seed uint64, size int64) io.Reader {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	return io.LimitReader(rand.NewChaCha8(key), size)
}

func (c *client) do(ctx context.Context, method, u string, body io.Reader, size int64, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.http.Do(req)
}

// call sends a request and checks the answer's status (see expect).
func (c *client) call(ctx context.Context, what, method, u string, body io.Reader, size int64, hdr map[string]string, codes ...int) (*http.Response, error) {
	resp, err := c.do(ctx, method, u, body, size, hdr)
	return expect(resp, err, what, codes...)
}

// expect drains and closes the response and checks its status.
func expect(resp *http.Response, err error, what string, codes ...int) (*http.Response, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	for _, c := range codes {
		if resp.StatusCode == c {
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp, nil
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return nil, fmt.Errorf("%s: %s: %s", what, resp.Status, bytes.TrimSpace(msg))
}

// location resolves an upload's Location header against the server.
func (c *client) location(resp *http.Response) (*url.URL, error) {
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, fmt.Errorf("upload answered without a usable Location (%q)", resp.Header.Get("Location"))
	}
	base, _ := url.Parse(c.base)
	return base.ResolveReference(loc), nil
}

// pushBlob uploads b into repo unless the repository has it already.
func (c *client) pushBlob(ctx context.Context, repo string, b blob) error {
	blobURL := c.base + "/v2/" + repo + "/blobs/" + b.digest
	if resp, err := c.do(ctx, http.MethodHead, blobURL, nil, 0, nil); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	resp, err := c.call(ctx, "POST upload", http.MethodPost, c.base+"/v2/"+repo+"/blobs/uploads/", nil, 0, nil, http.StatusAccepted)
	if err != nil {
		return err
	}
	loc, err := c.location(resp)
	if err != nil {
		return err
	}
	resp, err = c.call(ctx, "PATCH upload", http.MethodPatch, loc.String(), blobReader(b.seed, b.size), b.size,
		map[string]string{"Content-Type": "application/octet-stream"}, http.StatusAccepted, http.StatusNoContent)
	if err != nil {
		return err
	}
	if loc, err = c.location(resp); err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", b.digest)
	loc.RawQuery = q.Encode()
	_, err = c.call(ctx, "PUT upload", http.MethodPut, loc.String(), http.NoBody, 0, nil, http.StatusCreated)
	return err
}

// image is an OCI image of a config and layers, with its manifest bytes.
type image struct {
	config   blob
	layers   []blob
	manifest []byte
}

const manifestType = "application/vnd.oci.image.manifest.v1+json"

func newImage(seed uint64, layers int, layerSize int64) image {
	img := image{config: newConfigBlob(seed)}
	for i := range layers {
		img.layers = append(img.layers, newBlob(seed*1000+uint64(i)+1, layerSize))
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{SchemaVersion: 2, MediaType: manifestType,
		Config: desc{"application/vnd.oci.image.config.v1+json", img.config.digest, img.config.size}}
	for _, l := range img.layers {
		m.Layers = append(m.Layers, desc{"application/vnd.oci.image.layer.v1.tar+gzip", l.digest, l.size})
	}
	img.manifest, _ = json.Marshal(m)
	return img
}

// newConfigBlob is a small blob standing for the image config; registries
// treat it as opaque bytes.
func newConfigBlob(seed uint64) blob { return newBlob(seed<<20|0xc0f, 1024) }

func (img image) size() int64 {
	n := img.config.size
	for _, l := range img.layers {
		n += l.size
	}
	return n
}

// push uploads the image's blobs, then its manifest under tag.
func (c *client) push(ctx context.Context, repo, tag string, img image) error {
	for _, b := range append([]blob{img.config}, img.layers...) {
		if err := c.pushBlob(ctx, repo, b); err != nil {
			return err
		}
	}
	_, err := c.call(ctx, "PUT manifest", http.MethodPut, c.base+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(img.manifest),
		int64(len(img.manifest)), map[string]string{"Content-Type": manifestType}, http.StatusCreated)
	return err
}

// pull fetches the manifest by tag and every blob it names, up to
// parallel blobs at a time (docker pulls three at a time), and returns the
// bytes received. Sizes are checked, not digests: both servers verify
// digests on push, and hashing here would make the client the bottleneck.
func (c *client) pull(ctx context.Context, repo, tag string, parallel int) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", manifestType)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET manifest %s:%s: %s %v", repo, tag, resp.Status, err)
	}
	var m struct {
		Config struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return 0, fmt.Errorf("manifest %s:%s: %w", repo, tag, err)
	}
	type ref struct {
		digest string
		size   int64
	}
	refs := []ref{{m.Config.Digest, m.Config.Size}}
	for _, l := range m.Layers {
		refs = append(refs, ref{l.Digest, l.Size})
	}
	total := int64(len(body))
	errs := make(chan error, len(refs))
	sem := make(chan struct{}, parallel)
	for _, r := range refs {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- c.getBlob(ctx, repo, r.digest, r.size)
		}()
		total += r.size
	}
	for range refs {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return total, err
}

func (c *client) getBlob(ctx context.Context, repo, digest string, size int64) error {
	resp, err := c.do(ctx, http.MethodGet, c.base+"/v2/"+repo+"/blobs/"+digest, nil, 0, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET blob %s: %s", digest, resp.Status)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && n != size {
		err = fmt.Errorf("GET blob %s: %d bytes, want %d", digest, n, size)
	}
	return err
}

// headBlob reports whether repo has the blob.
func (c *client) headBlob(ctx context.Context, repo, digest string) (bool, error) {
	resp, err := c.do(ctx, http.MethodHead, c.base+"/v2/"+repo+"/blobs/"+digest, nil, 0, nil)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("HEAD blob %s: %s", digest, resp.Status)
}

// pushSmallBlob uploads a small blob as clients do for configs: POST to
// open an upload, then PUT with the digest and the whole body (a POST with
// the digest alone is optional in the spec, and distribution lacks it).
func (c *client) pushSmallBlob(ctx context.Context, repo string, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	resp, err := c.call(ctx, "POST upload", http.MethodPost, c.base+"/v2/"+repo+"/blobs/uploads/", nil, 0, nil, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	loc, err := c.location(resp)
	if err != nil {
		return "", err
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	_, err = c.call(ctx, "PUT upload", http.MethodPut, loc.String(), bytes.NewReader(data), int64(len(data)),
		map[string]string{"Content-Type": "application/octet-stream"}, http.StatusCreated)
	return digest, err
}

// getManifest fetches a manifest by tag.
func (c *client) getManifest(ctx context.Context, repo, tag string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", manifestType)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || n == 0 {
		return fmt.Errorf("GET manifest: %s (%d bytes)", resp.Status, n)
	}
	return nil
}
