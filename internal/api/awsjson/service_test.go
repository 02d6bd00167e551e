package awsjson_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/syncbuf"
)

const prefix = "AmazonEC2ContainerRegistry_V20150921."

// The test operations' inputs and outputs, tagged with the model's names.
type (
	tag            struct{ Key, Value string }
	scanningConfig struct {
		ScanOnPush bool `json:"scanOnPush"`
	}
	createRepositoryInput struct {
		RegistryID                 string          `json:"registryId"`
		RepositoryName             string          `json:"repositoryName"`
		Tags                       []tag           `json:"tags"`
		ImageTagMutability         string          `json:"imageTagMutability"`
		ImageScanningConfiguration *scanningConfig `json:"imageScanningConfiguration"`
	}
	repository struct {
		RepositoryName string       `json:"repositoryName"`
		CreatedAt      awsjson.Time `json:"createdAt"`
	}
	createRepositoryOutput struct {
		Repository repository `json:"repository"`
	}
	bclaInput struct {
		RepositoryName string   `json:"repositoryName"`
		LayerDigests   []string `json:"layerDigests"`
	}
	layer struct {
		LayerDigest       string `json:"layerDigest"`
		LayerAvailability string `json:"layerAvailability"`
	}
	bclaOutput struct {
		Layers []layer `json:"layers"`
	}
	uploadLayerPartInput struct {
		RepositoryName string `json:"repositoryName"`
		UploadID       string `json:"uploadId"`
		PartFirstByte  int64  `json:"partFirstByte"`
		PartLastByte   int64  `json:"partLastByte"`
		LayerPartBlob  []byte `json:"layerPartBlob"`
	}
	uploadLayerPartOutput struct {
		LastByteReceived int64 `json:"lastByteReceived"`
	}
	describeRepositoriesInput struct {
		MaxResults *int32 `json:"maxResults"`
	}
	describeRepositoriesOutput struct {
		Repositories []repository `json:"repositories"`
	}
)

var errExists = errors.New("repository exists")

// partError is what a real core returns for an out-of-order part.
type partError struct{ last int64 }

func (e *partError) Error() string { return fmt.Sprintf("part out of order after %d", e.last) }

func createRepository(ctx context.Context, in *createRepositoryInput) (*createRepositoryOutput, error) {
	switch in.RepositoryName {
	case "panics":
		panic("secret: /var/lib/ecrd/meta.db is corrupt")
	case "fails":
		return nil, errors.New("disk /dev/sda1 on fire")
	case "exists":
		return nil, errExists
	case "nothing":
		return nil, nil
	}
	return &createRepositoryOutput{Repository: repository{
		RepositoryName: in.RepositoryName,
		CreatedAt:      awsjson.Time{Time: time.UnixMilli(1700000000123)},
	}}, nil
}

func batchCheckLayerAvailability(ctx context.Context, in *bclaInput) (*bclaOutput, error) {
	if awsjson.OperationFrom(ctx) != "BatchCheckLayerAvailability" {
		return nil, errors.New("operation missing from the context")
	}
	out := &bclaOutput{Layers: []layer{}}
	for _, d := range in.LayerDigests {
		out.Layers = append(out.Layers, layer{LayerDigest: d, LayerAvailability: "AVAILABLE"})
	}
	return out, nil
}

func uploadLayerPart(ctx context.Context, in *uploadLayerPartInput) (*uploadLayerPartOutput, error) {
	if in.PartFirstByte > 0 {
		return nil, &partError{last: 1048575}
	}
	return &uploadLayerPartOutput{LastByteReceived: int64(len(in.LayerPartBlob)) - 1}, nil
}

func describeRepositories(ctx context.Context, in *describeRepositoriesInput) (*describeRepositoriesOutput, error) {
	if n := in.MaxResults; n != nil && (*n < 1 || *n > 1000) {
		return nil, fmt.Errorf("maxResults %d got past validation", *n)
	}
	return &describeRepositoriesOutput{Repositories: []repository{}}, nil
}

func mapError(err error) *awsjson.WireError {
	var pe *partError
	switch {
	case errors.Is(err, errExists):
		return &awsjson.WireError{Type: "RepositoryAlreadyExistsException", Status: 400, Message: "The repository already exists"}
	case errors.As(err, &pe):
		return &awsjson.WireError{Type: "InvalidLayerPartException", Message: "Part is out of order",
			Fields: map[string]any{"lastValidByteReceived": pe.last, "uploadId": "u"}}
	}
	return nil
}

// newService returns the test service, with its log, built on the
// committed ECR model.
func newService(t *testing.T) (*awsjson.Service, *syncbuf.Buffer) {
	t.Helper()
	log := new(syncbuf.Buffer)
	s := &awsjson.Service{
		Model: loadECRModel(t),
		Ops: map[string]awsjson.Handler{
			"CreateRepository":            awsjson.Op(createRepository),
			"BatchCheckLayerAvailability": awsjson.Op(batchCheckLayerAvailability),
			"UploadLayerPart":             awsjson.Op(uploadLayerPart),
			"DescribeRepositories":        awsjson.Op(describeRepositories),
		},
		MapError: mapError,
		Logger:   slog.New(slog.NewTextHandler(log, nil)),
		Unimplemented: func(op string) *awsjson.WireError {
			return &awsjson.WireError{Type: "UnsupportedCommandException", Status: 400, Message: op + " is not implemented"}
		},
		ServerError: func(id string) *awsjson.WireError {
			return &awsjson.WireError{Type: "ServerException", Status: 500, Message: "Internal error; request " + id}
		},
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	return s, log
}

type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // numbers as json.Number
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// do sends a request over real HTTP and checks what every response must
// carry: the awsJson content type, a UUID request ID and, on errors,
// x-amzn-ErrorType equal to __type.
func do(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := response{status: res.StatusCode, header: res.Header}
	if r.raw, err = io.ReadAll(res.Body); err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(r.raw))
	d.UseNumber()
	if err := d.Decode(&r.body); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", r.raw, err)
	}
	if ct := res.Header.Get("Content-Type"); ct != awsjson.ContentType {
		t.Errorf("Content-Type = %q", ct)
	}
	if id := res.Header.Get("x-amzn-RequestId"); !requestIDPattern.MatchString(id) {
		t.Errorf("x-amzn-RequestId = %q, want a v4 UUID", id)
	}
	et := res.Header.Get("x-amzn-ErrorType")
	if r.status >= 300 && (et == "" || et != r.body["__type"]) {
		t.Errorf("x-amzn-ErrorType = %q, __type = %v", et, r.body["__type"])
	}
	if r.status < 300 && et != "" {
		t.Errorf("success carries x-amzn-ErrorType %q", et)
	}
	return r
}

func newRequest(t *testing.T, method, url, contentType, target string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	return req
}

// post sends an awsJson request for op.
func post(t *testing.T, url, op, body string) response {
	t.Helper()
	return do(t, newRequest(t, http.MethodPost, url, awsjson.ContentType, prefix+op, strings.NewReader(body)))
}

func TestService_Check(t *testing.T) {
	s, _ := newService(t)
	s.Ops["NoSuchOperation"] = awsjson.Op(createRepository)
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "NoSuchOperation") {
		t.Fatalf("Check = %v", err)
	}
	if err := (&awsjson.Service{}).Check(); err == nil {
		t.Fatal("Check accepted a Service without a Model")
	}
}
