package awsjson_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
)

// TestService_Validation checks that request bodies are validated against
// the operation's input shape and answered as ECR answers them.
func TestService_Validation(t *testing.T) {
	s, _ := newService(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	const (
		ser = "SerializationException"
		inv = "InvalidParameterException"
		uid = "01234567-89ab-cdef-0123-456789abcdef"
	)
	digests := func(n int) string {
		return `["` + strings.TrimSuffix(strings.Repeat(`sha256:00","`, n), `","`) + `"]`
	}
	tests := []struct {
		name, op, body, errType, msg string
	}{
		{"StringForLong", "UploadLayerPart", `{"repositoryName":"ab","uploadId":"` + uid + `","partFirstByte":"0","partLastByte":0,"layerPartBlob":""}`,
			ser, "Value at 'partFirstByte' must be a long, not a string"},
		{"FractionForLong", "UploadLayerPart", `{"repositoryName":"ab","uploadId":"` + uid + `","partFirstByte":0.5,"partLastByte":0,"layerPartBlob":""}`,
			ser, "Value at 'partFirstByte' must be a long, not 0.5"},
		{"DecimalPointForLong", "UploadLayerPart", `{"repositoryName":"ab","uploadId":"` + uid + `","partFirstByte":1.0,"partLastByte":0,"layerPartBlob":""}`,
			ser, "Value at 'partFirstByte' cannot be decoded from number 1.0"},
		{"NumberForString", "CreateRepository", `{"repositoryName":12}`,
			ser, "Value at 'repositoryName' must be a string, not a number"},
		{"ObjectForList", "BatchCheckLayerAvailability", `{"repositoryName":"ab","layerDigests":{}}`,
			ser, "Value at 'layerDigests' must be an array, not an object"},
		{"BadBase64Blob", "UploadLayerPart", `{"repositoryName":"ab","uploadId":"` + uid + `","partFirstByte":0,"partLastByte":0,"layerPartBlob":"@@@@"}`,
			ser, "Value at 'layerPartBlob' must be valid base64 (standard alphabet, padded)"},
		{"StringForBoolean", "CreateRepository", `{"repositoryName":"ab","imageScanningConfiguration":{"scanOnPush":"true"}}`,
			ser, "Value at 'imageScanningConfiguration.scanOnPush' must be a boolean, not a string"},
		{"RequiredMissing", "CreateRepository", `{}`,
			inv, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"},
		{"RequiredNull", "CreateRepository", `{"repositoryName":null}`,
			inv, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"},
		{"MemberNamesAreCaseSensitive", "CreateRepository", `{"RepositoryName":"ab"}`,
			inv, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be null'"},
		{"StringTooShort", "CreateRepository", `{"repositoryName":"a"}`,
			inv, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		{"StringTooLong", "CreateRepository", `{"repositoryName":"` + strings.Repeat("a", 257) + `"}`,
			inv, "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length less than or equal to 256'"},
		{"Pattern", "CreateRepository", `{"repositoryName":"Team/App"}`,
			inv, `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*''`},
		{"Enum", "CreateRepository", `{"repositoryName":"ab","imageTagMutability":"mutable"}`,
			inv, "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'"},
		{"ListElementMember", "CreateRepository", `{"repositoryName":"ab","tags":[{"Key":"k","Value":"v"},{"Value":"v"}]}`,
			inv, "Invalid parameter at 'tags.2.member.Key' failed to satisfy constraint: 'must not be null'"},
		{"ListTooFew", "BatchCheckLayerAvailability", `{"repositoryName":"ab","layerDigests":[]}`,
			inv, "Invalid parameter at 'layerDigests' failed to satisfy constraint: 'must have length greater than or equal to 1'"},
		{"ListTooMany", "BatchCheckLayerAvailability", `{"repositoryName":"ab","layerDigests":` + digests(101) + `}`,
			inv, "Invalid parameter at 'layerDigests' failed to satisfy constraint: 'must have length less than or equal to 100'"},
		{"IntegerTooSmall", "DescribeRepositories", `{"maxResults":0}`,
			inv, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be greater than or equal to 1'"},
		{"IntegerTooLarge", "DescribeRepositories", `{"maxResults":1001}`,
			inv, "Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 1000'"},
		{"LongTooSmall", "UploadLayerPart", `{"repositoryName":"ab","uploadId":"` + uid + `","partFirstByte":-1,"partLastByte":0,"layerPartBlob":""}`,
			inv, "Invalid parameter at 'partFirstByte' failed to satisfy constraint: 'must be greater than or equal to 0'"},
		{"CaseVariantCannotBypass", "DescribeRepositories", `{"maxResults":5,"MAXRESULTS":0}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv.URL, tt.op, tt.body)
			if tt.errType == "" {
				if r.status != 200 {
					t.Fatalf("got %d %s, want 200", r.status, r.raw)
				}
				return
			}
			checkError(t, r, 400, tt.errType, tt.msg)
			if r.body["message"] != tt.msg {
				t.Fatalf("message\n got %v\nwant %s", r.body["message"], tt.msg)
			}
		})
	}
}

// TestService_LayerPartSizeLimit sends real-size parts: the default body
// cap must admit ECR's largest part (20 MiB, base64) and the model's blob
// limit must refuse one byte more.
func TestService_LayerPartSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("sends two 28 MB bodies")
	}
	s, _ := newService(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	part := func(n int) string {
		return `{"repositoryName":"ab","uploadId":"01234567-89ab-cdef-0123-456789abcdef","partFirstByte":0,` +
			`"partLastByte":0,"layerPartBlob":"` + base64.StdEncoding.EncodeToString(make([]byte, n)) + `"}`
	}
	const max = 20 << 20
	r := post(t, srv.URL, "UploadLayerPart", part(max))
	if r.status != 200 || r.body["lastByteReceived"] != json.Number("20971519") {
		t.Fatalf("20 MiB part: %d %.200s", r.status, r.raw)
	}
	r = post(t, srv.URL, "UploadLayerPart", part(max+1))
	checkError(t, r, 400, "InvalidParameterException",
		"Invalid parameter at 'layerPartBlob' failed to satisfy constraint: 'must have length less than or equal to 20971520'")
}

func TestService_Success(t *testing.T) {
	s, _ := newService(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	tests := []struct {
		name, op, body, want string
	}{
		{"CreateRepository", "CreateRepository", `{"repositoryName":"team/app","tags":[{"Key":"k","Value":"v"}]}`,
			`{"repository":{"repositoryName":"team/app","createdAt":1700000000.123}}`},
		{"UnknownMembersIgnored", "CreateRepository", `{"repositoryName":"ab","comingSoon":{"x":[1,2]}}`,
			`{"repository":{"repositoryName":"ab","createdAt":1700000000.123}}`},
		{"CaseVariantKeyDropped", "CreateRepository", `{"repositoryName":"ab","RepositoryName":"Team/App"}`,
			`{"repository":{"repositoryName":"ab","createdAt":1700000000.123}}`},
		{"NilOutput", "CreateRepository", `{"repositoryName":"nothing"}`, `{}`},
		{"BatchCheckLayerAvailability", "BatchCheckLayerAvailability", `{"repositoryName":"ab","layerDigests":["sha256:00","not a digest"]}`,
			`{"layers":[{"layerDigest":"sha256:00","layerAvailability":"AVAILABLE"},{"layerDigest":"not a digest","layerAvailability":"AVAILABLE"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, srv.URL, tt.op, tt.body)
			if r.status != 200 || string(r.raw) != tt.want {
				t.Fatalf("got %d %s\nwant 200 %s", r.status, r.raw, tt.want)
			}
		})
	}
}

func TestService_Errors(t *testing.T) {
	s, log := newService(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	t.Run("Mapped", func(t *testing.T) {
		r := post(t, srv.URL, "CreateRepository", `{"repositoryName":"exists"}`)
		checkError(t, r, 400, "RepositoryAlreadyExistsException", "The repository already exists")
	})
	t.Run("MappedWithFields", func(t *testing.T) {
		r := post(t, srv.URL, "UploadLayerPart", `{"repositoryName":"ab","uploadId":"01234567-89ab-cdef-0123-456789abcdef",
			"partFirstByte":5,"partLastByte":9,"layerPartBlob":"AQID"}`)
		checkError(t, r, 400, "InvalidLayerPartException", "Part is out of order")
		if r.body["lastValidByteReceived"] != json.Number("1048575") || r.body["uploadId"] != "u" {
			t.Fatalf("fields missing or mistyped: %s", r.raw)
		}
	})
	t.Run("Panic", func(t *testing.T) {
		r := post(t, srv.URL, "CreateRepository", `{"repositoryName":"panics"}`)
		id := r.header.Get("x-amzn-RequestId")
		checkError(t, r, 500, "ServerException", "Internal error; request "+id)
		if strings.Contains(string(r.raw), "secret") {
			t.Fatalf("panic detail leaked: %s", r.raw)
		}
		if l := log.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "meta.db is corrupt") || !strings.Contains(l, id) {
			t.Fatalf("panic not logged with its detail and request ID:\n%s", l)
		}
	})
	t.Run("Unmapped", func(t *testing.T) {
		r := post(t, srv.URL, "CreateRepository", `{"repositoryName":"fails"}`)
		checkError(t, r, 500, "ServerException", "Internal error; request ")
		if strings.Contains(string(r.raw), "sda1") {
			t.Fatalf("error detail leaked: %s", r.raw)
		}
		if !strings.Contains(log.String(), "sda1") {
			t.Fatal("error detail not logged")
		}
	})
}

// TestService_RequestInfo checks what a logging middleware learns.
func TestService_RequestInfo(t *testing.T) {
	s, _ := newService(t)
	var got []awsjson.RequestInfo
	seen := make(chan awsjson.RequestInfo, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, info := awsjson.WithRequestInfo(r.Context())
		s.ServeHTTP(w, r.WithContext(ctx))
		seen <- *info
	}))
	defer srv.Close()
	ids := []string{
		post(t, srv.URL, "BatchCheckLayerAvailability", `{"repositoryName":"ab","layerDigests":["sha256:00"]}`).header.Get("x-amzn-RequestId"),
		post(t, srv.URL, "CreateRepository", `{"repositoryName":"exists"}`).header.Get("x-amzn-RequestId"),
		post(t, srv.URL, "NoSuchOperation", `{}`).header.Get("x-amzn-RequestId"),
	}
	for range ids {
		got = append(got, <-seen)
	}
	want := []awsjson.RequestInfo{
		{Operation: "BatchCheckLayerAvailability", Repository: "ab", RequestID: ids[0]},
		{Operation: "CreateRepository", Repository: "exists", RequestID: ids[1], ErrorType: "RepositoryAlreadyExistsException"},
		{Operation: "", RequestID: ids[2], ErrorType: "UnknownOperationException"},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: RequestInfo = %+v, want %+v", i, got[i], want[i])
		}
	}
}
