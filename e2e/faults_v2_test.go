package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// v2Request is one /v2/ (or other plain HTTP) request of a case.
type v2Request struct {
	method, path string
	public       bool   // on the public listener
	auth         string // "private", "public" or "" (anonymous)
	contentType  string
	header       []string // more headers, name then value
	body         []byte
}

// v2Case is a case sending one plain HTTP request; path and body may
// depend on the fixture.
func v2Case(name string, req func(fx *faultFixture) v2Request) faultCase {
	return faultCase{name: "v2/" + name, run: func(t *testing.T, s *faultServer) answer {
		return s.send(t, req(s.fx))
	}}
}

// send sends r and returns its answer: the status, the OCI error code (or
// the body of a plain-text error), and for a success the headers that say
// what was stored and a hash of the body.
func (s *faultServer) send(t *testing.T, r v2Request) answer {
	t.Helper()
	base := s.URL
	if r.public {
		base = publicURL(t, s.server)
	}
	c, cancel := opCtx()
	defer cancel()
	req, err := http.NewRequestWithContext(c, r.method, base+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	switch r.auth {
	case "private":
		req.Header.Set("Authorization", s.fx.basic)
	case "public":
		req.Header.Set("Authorization", s.fx.pubBasic)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for i := 0; i+1 < len(r.header); i += 2 {
		req.Header.Set(r.header[i], r.header[i+1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return answer{code: "transport error: " + err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{status: resp.StatusCode, code: "body cut off: " + err.Error()}
	}
	a := answer{status: resp.StatusCode}
	if !a.ok() {
		var e struct {
			Errors []struct{ Code string } `json:"errors"`
		}
		if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
			a.code = e.Errors[0].Code
		} else {
			a.code = strings.TrimSpace(string(body))
		}
		return a
	}
	a.detail = fmt.Sprintf("digest=%s range=%s body=%x", resp.Header.Get("Docker-Content-Digest"), resp.Header.Get("Range"), sha256.Sum256(body))
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && bytes.Contains(body, []byte(`"token"`)) {
		a.detail = "token" // tokens are fresh each time
	}
	return a
}

func v2FaultCases() []faultCase {
	app := "/v2/" + fxRepo
	pub := "/v2/" + publicAlias + "/" + fxPub
	octet := "application/octet-stream"
	return []faultCase{
		{name: "v2/Base", noStore: true, run: func(t *testing.T, s *faultServer) answer {
			return s.send(t, v2Request{method: "GET", path: "/v2/", auth: "private"})
		}},
		// A pull through the cache: the repository created, the blobs
		// imported, the image put, the tag's check recorded.
		v2Case("GetManifest/PullThrough", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: "/v2/" + fxCache + "/lib/app/manifests/v1", auth: "private"}
		}),
		v2Case("HeadBlob", func(fx *faultFixture) v2Request {
			return v2Request{method: "HEAD", path: app + "/blobs/" + fx.l1.Digest, auth: "private"}
		}),
		v2Case("GetBlob", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: app + "/blobs/" + fx.l2.Digest, auth: "private"}
		}),
		v2Case("GetBlobRange", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: app + "/blobs/" + fx.l2.Digest, auth: "private", header: []string{"Range", "bytes=10-99"}}
		}),
		v2Case("DeleteBlob", func(fx *faultFixture) v2Request {
			return v2Request{method: "DELETE", path: app + "/blobs/" + fx.loose.Digest, auth: "private"}
		}),
		v2Case("StartUpload", func(fx *faultFixture) v2Request {
			return v2Request{method: "POST", path: app + "/blobs/uploads/", auth: "private"}
		}),
		v2Case("MonolithicUpload", func(fx *faultFixture) v2Request {
			b := layerBytes(2222, 21)
			return v2Request{method: "POST", path: app + "/blobs/uploads/?digest=" + digestOf(b), auth: "private", contentType: octet, body: b}
		}),
		v2Case("Mount", func(fx *faultFixture) v2Request {
			return v2Request{method: "POST", path: app + "/blobs/uploads/?mount=" + fx.only.Digest + "&from=" + fxOther, auth: "private"}
		}),
		v2Case("UploadStatus", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: fx.v2Upload, auth: "private"}
		}),
		v2Case("PatchChunk", func(fx *faultFixture) v2Request {
			return v2Request{method: "PATCH", path: fx.v2Upload, auth: "private", contentType: octet, body: fx.rest,
				header: []string{"Content-Range", fmt.Sprintf("%d-%d", len(fx.chunk), len(fx.chunk)+len(fx.rest)-1)}}
		}),
		v2Case("PatchStreamed", func(fx *faultFixture) v2Request {
			return v2Request{method: "PATCH", path: fx.v2Upload, auth: "private", contentType: octet, body: fx.rest}
		}),
		v2Case("FinishWithLastChunk", func(fx *faultFixture) v2Request {
			all := append(append([]byte(nil), fx.chunk...), fx.rest...)
			return v2Request{method: "PUT", path: withDigest(fx.v2Upload, digestOf(all)), auth: "private", contentType: octet, body: fx.rest,
				header: []string{"Content-Range", fmt.Sprintf("%d-%d", len(fx.chunk), len(fx.chunk)+len(fx.rest)-1)}}
		}),
		v2Case("Finish", func(fx *faultFixture) v2Request {
			return v2Request{method: "PUT", path: withDigest(fx.v2Upload, digestOf(fx.chunk)), auth: "private"}
		}),
		v2Case("CancelUpload", func(fx *faultFixture) v2Request {
			return v2Request{method: "DELETE", path: fx.v2Upload, auth: "private"}
		}),
		v2Case("GetManifestByTag", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: app + "/manifests/v1", auth: "private",
				header: []string{"Accept", dockerManifestType + ", " + ociManifestType}}
		}),
		v2Case("GetManifestConverted", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: app + "/manifests/v1", auth: "private", header: []string{"Accept", ociManifestType}}
		}),
		v2Case("HeadManifestByDigest", func(fx *faultFixture) v2Request {
			return v2Request{method: "HEAD", path: app + "/manifests/" + digestOf([]byte(fx.v2)), auth: "private",
				header: []string{"Accept", ociManifestType}}
		}),
		v2Case("PutManifest", func(fx *faultFixture) v2Request {
			return v2Request{method: "PUT", path: app + "/manifests/v9", auth: "private", contentType: ociManifestType,
				body: []byte(ociManifest(fx.cfg, "v9", fx.l2, fx.loose))}
		}),
		v2Case("PutManifestExisting", func(fx *faultFixture) v2Request {
			return v2Request{method: "PUT", path: app + "/manifests/again", auth: "private", contentType: dockerManifestType, body: []byte(fx.v1)}
		}),
		v2Case("DeleteManifest", func(fx *faultFixture) v2Request {
			return v2Request{method: "DELETE", path: app + "/manifests/" + digestOf([]byte(fx.untagged)), auth: "private"}
		}),
		v2Case("DeleteTag", func(fx *faultFixture) v2Request {
			return v2Request{method: "DELETE", path: app + "/manifests/v1", auth: "private"}
		}),
		v2Case("TagsList", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: app + "/tags/list?n=2", auth: "private"}
		}),
		v2Case("Referrers", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: app + "/referrers/" + digestOf([]byte(fx.v2)), auth: "private"}
		}),
		v2Case("PublicAnonymousManifest", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: pub + "/manifests/v1", public: true, header: []string{"Accept", dockerManifestType}}
		}),
		v2Case("PublicAnonymousBlob", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: pub + "/blobs/" + fx.pubLayer.Digest, public: true}
		}),
		v2Case("PublicPushManifest", func(fx *faultFixture) v2Request {
			return v2Request{method: "PUT", path: pub + "/manifests/again", public: true, auth: "public", contentType: dockerManifestType, body: []byte(fx.pubManifest)}
		}),
		v2Case("PublicMonolithicUpload", func(fx *faultFixture) v2Request {
			b := layerBytes(1111, 22)
			return v2Request{method: "POST", path: pub + "/blobs/uploads/?digest=" + digestOf(b), public: true, auth: "public", contentType: octet, body: b}
		}),
		storeless(v2Case("PublicToken", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: "/token?service=public.ecr.aws&scope=aws", public: true, auth: "public"}
		})),
		v2Case("PublicLogo", func(fx *faultFixture) v2Request {
			return v2Request{method: "GET", path: "/ecrd/logos/" + publicAlias + "/" + fxPub, public: true}
		}),
		{name: "ECR/DownloadURL", run: func(t *testing.T, s *faultServer) answer {
			// GetDownloadUrlForLayer, then a GET of the URL it hands out,
			// which ecrd serves itself: a fault in either is the case's.
			c, cancel := opCtx()
			defer cancel()
			out, err := s.client().GetDownloadUrlForLayer(c, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(fxRepo), LayerDigest: aws.String(s.fx.l1.Digest)})
			if err != nil {
				return sdkAnswer(out, err)
			}
			req, _ := http.NewRequestWithContext(c, http.MethodGet, aws.ToString(out.DownloadUrl), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return answer{code: "transport error: " + err.Error()}
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				return answer{status: resp.StatusCode, code: strings.TrimSpace(string(body))}
			}
			return answer{status: resp.StatusCode, detail: fmt.Sprintf("body=%x", sha256.Sum256(body))}
		}},
	}
}
