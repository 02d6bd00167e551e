package ecr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ecrd/ecrd/internal/api/oci"
	"github.com/ecrd/ecrd/internal/registry"
)

// DownloadPath is where the layer URLs of GetDownloadUrlForLayer point:
// DownloadPath + <account>/<repository>/blobs/<digest>?expires=…&signature=….
// Like ECR's presigned S3 URLs they need no other credentials, so they are
// signed (HMAC over account, repository, digest and expiry) and expire.
const DownloadPath = "/ecrd/layers/"

// downloadURLLifetime is how long a download URL works.
const downloadURLLifetime = registry.DownloadURLLifetime

type getDownloadURLForLayerInput struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	LayerDigest    string `json:"layerDigest"`
}

type getDownloadURLForLayerOutput struct {
	DownloadURL string `json:"downloadUrl"`
	LayerDigest string `json:"layerDigest"`
}

func (a *API) getDownloadURLForLayer(ctx context.Context, in *getDownloadURLForLayerInput) (*getDownloadURLForLayerOutput, error) {
	key, err := repoKey(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	l, link, err := a.reg.LayerLink(ctx, key, in.LayerDigest)
	if err != nil {
		return nil, err
	}
	if link != "" {
		// --blob-redirect: a presigned URL of the bucket, as ECR's are.
		return &getDownloadURLForLayerOutput{DownloadURL: link, LayerDigest: string(l.Digest)}, nil
	}
	account := string(registry.Caller(ctx).Account)
	expires := time.Now().Add(downloadURLLifetime).Unix()
	p := downloadResource(account, string(key.Name), string(l.Digest))
	u := fmt.Sprintf("%s%s?expires=%d&signature=%s", a.proxyEndpoint, p, expires, a.signDownload(p, expires))
	return &getDownloadURLForLayerOutput{DownloadURL: u, LayerDigest: string(l.Digest)}, nil
}

func downloadResource(account, repo, digest string) string {
	return DownloadPath + account + "/" + repo + "/blobs/" + digest
}

func (a *API) signDownload(resource string, expires int64) string {
	m := hmac.New(sha256.New, a.downloadKey)
	fmt.Fprintf(m, "%s\n%d", resource, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// downloadHandler serves the URLs GetDownloadUrlForLayer hands out: GET and
// HEAD, with Range support, for as long as the URL is valid and the layer
// downloadable.
func (a *API) downloadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		resource := r.URL.EscapedPath()
		rest := strings.TrimPrefix(resource, DownloadPath)
		// Repository names contain '/', so take the account from the left
		// and the digest from the right.
		account, rest, ok1 := strings.Cut(rest, "/")
		repo, digest, ok2 := cutLast(rest, "/blobs/")
		q := r.URL.Query()
		expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
		sig, _ := hex.DecodeString(q.Get("signature"))
		want, _ := hex.DecodeString(a.signDownload(resource, expires))
		switch {
		case !ok1 || !ok2 || err != nil || !hmac.Equal(sig, want):
			http.Error(w, "The download URL's signature does not match; request a new URL with GetDownloadUrlForLayer", http.StatusForbidden)
			return
		case time.Now().Unix() > expires:
			http.Error(w, "The download URL has expired; request a new one with GetDownloadUrlForLayer", http.StatusForbidden)
			return
		}
		// The signature vouches for these, but they are parsed all the same:
		// the core takes only parsed values.
		unescaped, err := url.PathUnescape(repo)
		name, nerr := registry.ParseRepositoryName(unescaped)
		acct, aerr := registry.ParseRegistryID(account)
		if err != nil || nerr != nil || aerr != nil {
			http.Error(w, "The download URL does not name a repository", http.StatusBadRequest)
			return
		}
		// The URL is the permission, given by GetDownloadUrlForLayer to a
		// caller the policies allowed, for this layer and until it expires.
		ctx := registry.AsCore(registry.WithCaller(r.Context(), registry.Principal{Account: acct}))
		a.serveLayer(w, r, ctx, registry.RepoKey{Name: name}, digest)
	})
}

func (a *API) serveLayer(w http.ResponseWriter, r *http.Request, ctx context.Context, key registry.RepoKey, digest string) {
	l, rc, err := a.reg.OpenLayer(ctx, key, digest, oci.RangeStart(r))
	if err != nil {
		var de *registry.Error
		if se, ok := registry.AsStorageError(err); ok {
			// Logged once per episode by the core.
			http.Error(w, se.Message(), http.StatusInternalServerError)
			return
		}
		if errors.As(err, &de) {
			http.Error(w, de.Message, http.StatusNotFound)
			return
		}
		a.log.Error("serving a layer download", "repository", key.Name, "digest", digest, "err", err)
		http.Error(w, "internal error; the server log has the details", http.StatusInternalServerError)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", string(l.Digest))
	w.Header().Set("ETag", `"`+string(l.Digest)+`"`)
	// ServeContent handles Range and conditional requests, and lets
	// net/http use sendfile for files.
	http.ServeContent(w, r, "", l.CreatedAt, rc)
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
