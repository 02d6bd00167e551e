package awsjson

import (
	"context"
	"encoding/base64"
	"os"
	"reflect"
	"strings"
	"testing"
)

// blobModel mirrors UploadLayerPart with a small blob limit, so that every
// constraint can be hit with short bodies.
const blobModel = `{"metadata":{"targetPrefix":"T"},
 "operations":{"Put":{"input":"PutRequest"}},
 "shapes":{
 "PutRequest":{"type":"structure","required":["repositoryName","partFirstByte","layerPartBlob"],
   "members":{"repositoryName":"Name","partFirstByte":"Size","layerPartBlob":"Blob","note":"Note"}},
 "Name":{"type":"string","min":2,"max":256},
 "Size":{"type":"long","min":0},
 "Note":{"type":"string"},
 "Blob":{"type":"blob","min":1,"max":64}}}`

type putInput struct {
	RepositoryName string `json:"repositoryName"`
	PartFirstByte  int64  `json:"partFirstByte"`
	LayerPartBlob  []byte `json:"layerPartBlob"`
	Note           string `json:"note"`
}

// echo returns its input, so that a test can compare what each path decoded.
func echo(_ context.Context, in *putInput) (*putInput, error) { return in, nil }

// outcome is what a path made of a body: the decoded input or the error.
type outcome struct {
	in   *putInput
	werr *WireError
}

// decodeBoth runs body through decodeSlow alone and through the fast path
// (with minLen as its threshold) falling back as Service.decode does. It
// reports whether the fast path took the body.
func decodeBoth(t *testing.T, s *Service, op Operation, body string, minLen int) (slow, fast outcome, tookFast bool) {
	t.Helper()
	h := Op(echo)
	run := func(call func(context.Context) (any, error), werr *WireError) outcome {
		if werr != nil {
			return outcome{werr: werr}
		}
		out, err := call(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return outcome{in: out.(*putInput)}
	}
	ctx, info := WithRequestInfo(context.Background())
	slow = run(s.decodeSlow(ctx, info, op, h, []byte(body)))
	call, ok := s.decodeFast(nil, op, h, []byte(body), minLen)
	if ok {
		return slow, run(call, nil), true
	}
	return slow, run(s.decodeSlow(ctx, info, op, h, []byte(body))), false
}

func newBlobService(t testing.TB, model []byte) *Service {
	t.Helper()
	m, err := LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{Model: m}
}

// TestDecodeFast_SameAsSlow proves that the fast path decodes every body
// the general path accepts to the same input, and that every body it is
// unsure of falls back, so the answer (input or error type, message and
// status) never differs.
func TestDecodeFast_SameAsSlow(t *testing.T) {
	s := newBlobService(t, []byte(blobModel))
	op, _ := s.Model.Operation("Put")
	const (
		blob  = "AAECAwQFBgcICQoL" // 12 bytes
		other = "DA0ODxAREhMUFRYX"
		min   = 8 // the fast path's threshold in this test
	)
	over := base64.StdEncoding.EncodeToString(make([]byte, 65))
	body := func(b string) string {
		return `{"repositoryName":"ab","partFirstByte":0,"layerPartBlob":"` + b + `"}`
	}
	tests := []struct {
		name, body string
		fast       bool // whether the fast path must take the body
	}{
		{"Valid", body(blob), true},
		{"ValidBlobFirst", `{"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, true},
		{"Whitespace", " \r\n\t{ \"repositoryName\" : \"ab\" ,\n\t\"layerPartBlob\"\t:\r\n \"" + blob + "\" ,\"partFirstByte\" : 0 } \n", true},
		{"NestedObjectBefore", `{"x":{"a":"}]\"{[","layerPartBlob":[{"b":"\\"}]},"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, true},
		{"NestedArrayBefore", `{"x":[[1,{"layerPartBlob":"` + other + `"}],"]"],"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, true},
		{"KeyInsideString", `{"note":"\"layerPartBlob\":\"` + other + `\",","layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, true},
		{"KeyOnlyInsideString", `{"note":"\"layerPartBlob\":\"` + other + `\"","repositoryName":"ab","partFirstByte":0}`, false},
		{"UnknownMembers", `{"zzz":{"q":null},"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0,"a":[true,false,-1.5e3]}`, true},
		{"CaseVariantKeyDropped", `{"LayerPartBlob":"` + other + `","layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, true},
		{"CaseVariantKeyOnly", `{"LayerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, false},
		{"CaseVariantOtherMember", `{"RepositoryName":"Bad Name","layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, true},
		{"InvalidChar", body("AAEC@wQFBgcICQoL"), false},
		{"BadPadding", body("AAECAwQFBgcICQ==="), false},
		{"NotMultipleOfFour", body("AAECAwQFBgcICQoLA"), false},
		{"DataAfterPadding", body("AAECAwQFBg==CQoL"), false},
		{"OverMax", body(over), false},
		{"AtMax", body(base64.StdEncoding.EncodeToString(make([]byte, 64))), true},
		{"EscapedSlash", body(`AAEC\/wQFBgcICQoL`), false},
		{"EscapedSlashInvalid", body(`AAEC\/wQFBgcICQo`), false},
		{"EscapedNewline", body(`AAECAwQF\nBgcICQoL`), false},
		{"RawNewline", body("AAECAwQF\nBgcICQoL"), false},
		{"RawCarriageReturn", body("AAECAwQF\rBgcICQoL"), false},
		{"EscapedKey", `{"layerPart\u0042lob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, false},
		{"EscapedKeyAfterBlob", `{"layerPartBlob":"` + blob + `","layerPart\u0042lob":"","repositoryName":"ab","partFirstByte":0}`, false},
		{"DuplicateKeyShortLast", `{"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0,"layerPartBlob":""}`, false},
		{"DuplicateKeyBothLong", `{"layerPartBlob":"` + other + `","repositoryName":"ab","partFirstByte":0,"layerPartBlob":"` + blob + `"}`, false},
		{"DuplicateKeyNull", `{"layerPartBlob":"` + blob + `","layerPartBlob":null,"repositoryName":"ab","partFirstByte":0}`, false},
		{"BlobBelowThreshold", body("AAEC"), false},
		{"BlobNumber", `{"layerPartBlob":12345678901234,"repositoryName":"ab","partFirstByte":0}`, false},
		{"OtherMemberInvalid", `{"layerPartBlob":"` + blob + `","repositoryName":"a","partFirstByte":0}`, false},
		{"OtherMemberMissing", `{"layerPartBlob":"` + blob + `","repositoryName":"ab"}`, false},
		{"OtherMemberWrongType", `{"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":"0"}`, false},
		{"DecodeFails", `{"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":1.0}`, false},
		{"TrailingGarbage", body(blob) + "x", false},
		{"TrailingObject", body(blob) + "{}", false},
		{"TrailingComma", `{"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0,}`, false},
		{"MissingComma", `{"layerPartBlob":"` + blob + `" "repositoryName":"ab","partFirstByte":0}`, false},
		{"BadLiteral", `{"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0,"x":tru}`, false},
		{"MismatchedBrackets", `{"x":[1},"layerPartBlob":"` + blob + `","repositoryName":"ab","partFirstByte":0}`, false},
		{"TruncatedInBlob", body(blob)[:60], false},
		{"TruncatedAfterBlob", strings.TrimSuffix(body(blob), "}"), false},
		{"NotAnObject", `["layerPartBlob","` + blob + `"]`, false},
		{"BlobInArrayValue", `{"layerPartBlob":["` + blob + `"],"repositoryName":"ab","partFirstByte":0}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slow, fast, took := decodeBoth(t, s, op, tt.body, min)
			if took != tt.fast {
				t.Errorf("fast path taken = %v, want %v", took, tt.fast)
			}
			if !reflect.DeepEqual(slow, fast) {
				t.Fatalf("paths differ:\nslow %+v %+v\nfast %+v %+v", slow.in, slow.werr, fast.in, fast.werr)
			}
		})
	}
}

// TestDecodeFast_RealPart sends a real-size part through the ECR model at
// the service's own threshold.
func TestDecodeFast_RealPart(t *testing.T) {
	data, err := os.ReadFile("../ecr/model.json")
	if err != nil {
		t.Fatal(err)
	}
	s := newBlobService(t, data)
	op, _ := s.Model.Operation("UploadLayerPart")
	part := make([]byte, 1<<20)
	for i := range part {
		part[i] = byte(i * 7)
	}
	body := `{"repositoryName":"ab","uploadId":"01234567-89ab-cdef-0123-456789abcdef","partFirstByte":0,` +
		`"partLastByte":1048575,"layerPartBlob":"` + base64.StdEncoding.EncodeToString(part) + `"}`
	slow, fast, took := decodeBoth(t, s, op, body, fastBlobMin)
	if !took {
		t.Fatal("fast path not taken")
	}
	if !reflect.DeepEqual(slow, fast) || !reflect.DeepEqual(fast.in.LayerPartBlob, part) {
		t.Fatalf("paths differ: slow %+v, fast %+v", slow.werr, fast.werr)
	}
}

// TestBlobField checks which input structs the fast path will fill.
func TestBlobField(t *testing.T) {
	type named []byte
	tests := []struct {
		name string
		v    any
		ok   bool
	}{
		{"Plain", &struct {
			B []byte `json:"b,omitempty"`
		}{}, true},
		{"Untagged", &struct{ B []byte }{}, false},
		{"NamedType", &struct {
			B named `json:"b"`
		}{}, false},
		{"String", &struct {
			B string `json:"b"`
		}{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := blobField(reflect.ValueOf(tt.v).Elem(), "b"); ok != tt.ok {
				t.Fatalf("blobField ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}

// FuzzDecodeFast looks for a body on which the two paths disagree.
func FuzzDecodeFast(f *testing.F) {
	f.Add(`{"repositoryName":"ab","partFirstByte":0,"layerPartBlob":"AAECAwQFBgcICQoL"}`)
	f.Add(`{"x":{"a":"}\"{"},"layerPartBlob":"AAEC\/wQFBgcICQoL","repositoryName":"ab","partFirstByte":0}`)
	f.Add(`{"LayerPartBlob":"AAECAwQFBgcICQoL","layerPartBlob":"AAECAwQFBgcICQ==","repositoryName":"ab","partFirstByte":0} `)
	s := newBlobService(f, []byte(blobModel))
	op, _ := s.Model.Operation("Put")
	f.Fuzz(func(t *testing.T, body string) {
		slow, fast, _ := decodeBoth(t, s, op, body, 8)
		if !reflect.DeepEqual(slow, fast) {
			t.Fatalf("paths differ on %q:\nslow %+v %+v\nfast %+v %+v", body, slow.in, slow.werr, fast.in, fast.werr)
		}
	})
}
