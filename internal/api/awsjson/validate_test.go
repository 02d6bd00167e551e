package awsjson_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
)

// validateModel exercises every shape type and constraint kind in a few
// lines; the ECR model is used where its real shapes matter.
const validateModel = `{"metadata":{"targetPrefix":"T"},"operations":{},"shapes":{
 "Input":{"type":"structure","required":["name"],"members":{"name":"Name","count":"Count",
   "size":"Size","score":"Score","when":"When","flag":"Flag","blob":"Blob","items":"Items",
   "labels":"Labels","mode":"Mode","nested":"Nested"}},
 "Name":{"type":"string","min":2,"max":5},
 "Count":{"type":"integer","min":1,"max":10},
 "Size":{"type":"long","min":0},
 "Score":{"type":"double","min":0,"max":10},
 "When":{"type":"timestamp"},
 "Flag":{"type":"boolean"},
 "Blob":{"type":"blob","min":1,"max":4},
 "Items":{"type":"list","member":"Item","min":1,"max":2},
 "Item":{"type":"structure","required":["Key"],"members":{"Key":"Name","Value":"Name"}},
 "Labels":{"type":"map","key":"Name","value":"Name","max":2},
 "Mode":{"type":"string","enum":["ON","OFF"]},
 "Nested":{"type":"structure","members":{"flag":"Flag","deep":"Nested"}}}}`

func decodeNumber(t *testing.T, body string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	m, err := awsjson.LoadModel([]byte(validateModel))
	if err != nil {
		t.Fatal(err)
	}
	const (
		ok  = ""
		ser = "ser"
		con = "con"
	)
	tests := []struct {
		name, body string
		kind       string // ok, ser or con
		msg        string
	}{
		{"Minimal", `{"name":"ab"}`, ok, ""},
		{"Everything", `{"name":"abc","count":10,"size":9007199254740993,"score":9.5,"when":1700000000.123,
			"flag":true,"blob":"AQID","items":[{"Key":"ab","Value":"cd"}],"labels":{"ab":"cd"},"mode":"ON",
			"nested":{"flag":false,"deep":{"flag":true}}}`, ok, ""},
		{"UnknownMemberIgnored", `{"name":"ab","bogus":{"x":[1]}}`, ok, ""},
		{"NullOptionalIsAbsent", `{"name":"ab","count":null,"items":null}`, ok, ""},
		{"CharactersNotBytes", `{"name":"ééééé"}`, ok, ""},

		{"RequiredMissing", `{}`, con, "Invalid parameter at 'name' failed to satisfy constraint: 'must not be null'"},
		{"RequiredNull", `{"name":null}`, con, "Invalid parameter at 'name' failed to satisfy constraint: 'must not be null'"},
		{"StringTooShort", `{"name":"a"}`, con, "Invalid parameter at 'name' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		{"StringTooLong", `{"name":"abcdef"}`, con, "Invalid parameter at 'name' failed to satisfy constraint: 'must have length less than or equal to 5'"},
		{"StringTooLongInCharacters", `{"name":"éééééé"}`, con, "Invalid parameter at 'name' failed to satisfy constraint: 'must have length less than or equal to 5'"},
		{"IntegerTooSmall", `{"name":"ab","count":0}`, con, "Invalid parameter at 'count' failed to satisfy constraint: 'must be greater than or equal to 1'"},
		{"IntegerTooLarge", `{"name":"ab","count":11}`, con, "Invalid parameter at 'count' failed to satisfy constraint: 'must be less than or equal to 10'"},
		{"LongNegative", `{"name":"ab","size":-1}`, con, "Invalid parameter at 'size' failed to satisfy constraint: 'must be greater than or equal to 0'"},
		{"DoubleTooLarge", `{"name":"ab","score":10.5}`, con, "Invalid parameter at 'score' failed to satisfy constraint: 'must be less than or equal to 10'"},
		{"BlobEmpty", `{"name":"ab","blob":""}`, con, "Invalid parameter at 'blob' failed to satisfy constraint: 'must have length greater than or equal to 1'"},
		{"BlobTooLarge", `{"name":"ab","blob":"AQIDBAU="}`, con, "Invalid parameter at 'blob' failed to satisfy constraint: 'must have length less than or equal to 4'"},
		{"ListTooFew", `{"name":"ab","items":[]}`, con, "Invalid parameter at 'items' failed to satisfy constraint: 'must have length greater than or equal to 1'"},
		{"ListTooMany", `{"name":"ab","items":[{"Key":"ab"},{"Key":"ab"},{"Key":"ab"}]}`, con, "Invalid parameter at 'items' failed to satisfy constraint: 'must have length less than or equal to 2'"},
		{"ListElementMember", `{"name":"ab","items":[{"Key":"ab"},{"Key":"ab","Value":"x"}]}`, con, "Invalid parameter at 'items.2.member.Value' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		{"ListElementRequired", `{"name":"ab","items":[{}]}`, con, "Invalid parameter at 'items.1.member.Key' failed to satisfy constraint: 'must not be null'"},
		{"ListElementNull", `{"name":"ab","items":[null]}`, con, "Invalid parameter at 'items.1.member' failed to satisfy constraint: 'must not be null'"},
		{"MapTooMany", `{"name":"ab","labels":{"ab":"cd","ef":"gh","ij":"kl"}}`, con, "Invalid parameter at 'labels' failed to satisfy constraint: 'must have length less than or equal to 2'"},
		{"MapValue", `{"name":"ab","labels":{"ab":"c"}}`, con, "Invalid parameter at 'labels.ab' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		{"MapKey", `{"name":"ab","labels":{"abcdef":"cd"}}`, con, "Invalid parameter at 'labels.abcdef' failed to satisfy constraint: 'must have length less than or equal to 5'"},
		{"Enum", `{"name":"ab","mode":"on"}`, con, "Invalid parameter at 'mode' failed to satisfy constraint: 'must satisfy enum value set: [ON, OFF]'"},
		{"FirstInSortedOrder", `{"name":"a","count":0}`, con, "Invalid parameter at 'count' failed to satisfy constraint: 'must be greater than or equal to 1'"},

		{"NotAnObject", `["ab"]`, ser, "Input must be an object, not an array"},
		{"StringGotNumber", `{"name":12}`, ser, "Value at 'name' must be a string, not a number"},
		{"LongGotString", `{"name":"ab","size":"12"}`, ser, "Value at 'size' must be a long, not a string"},
		{"IntegerNotIntegral", `{"name":"ab","count":1.5}`, ser, "Value at 'count' must be an integer, not 1.5"},
		{"IntegerOverflow", `{"name":"ab","count":2147483648}`, ser, "Value at 'count' must be an integer, not 2147483648"},
		{"LongOverflow", `{"name":"ab","size":9223372036854775808}`, ser, "Value at 'size' must be a long, not 9223372036854775808"},
		{"BooleanGotString", `{"name":"ab","flag":"true"}`, ser, "Value at 'flag' must be a boolean, not a string"},
		{"TimestampGotString", `{"name":"ab","when":"2024-01-01T00:00:00Z"}`, ser, "Value at 'when' must be a number of epoch seconds, not a string"},
		{"ListGotObject", `{"name":"ab","items":{"Key":"ab"}}`, ser, "Value at 'items' must be an array, not an object"},
		{"StructureGotArray", `{"name":"ab","nested":[]}`, ser, "Value at 'nested' must be an object, not an array"},
		{"MapGotString", `{"name":"ab","labels":"x"}`, ser, "Value at 'labels' must be an object, not a string"},
		{"DeepNested", `{"name":"ab","nested":{"deep":{"deep":{"flag":1}}}}`, ser, "Value at 'nested.deep.deep.flag' must be a boolean, not a number"},
		{"BlobNotBase64", `{"name":"ab","blob":"AQI*"}`, ser, "Value at 'blob' must be valid base64 (standard alphabet, padded)"},
		{"BlobUnpadded", `{"name":"ab","blob":"AQI"}`, ser, "Value at 'blob' must be valid base64 (standard alphabet, padded)"},
		{"BlobGotNumber", `{"name":"ab","blob":12}`, ser, "Value at 'blob' must be a base64-encoded string, not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Validate("Input", decodeNumber(t, tt.body))
			check(t, err, tt.kind, tt.msg)
			// float64 numbers (json.Unmarshal into any) give the same
			// verdict, except beyond float64's precision.
			if strings.Contains(tt.name, "Overflow") || tt.name == "Everything" {
				return
			}
			var v any
			if err := json.Unmarshal([]byte(tt.body), &v); err != nil {
				t.Fatal(err)
			}
			check(t, m.Validate("Input", v), tt.kind, tt.msg)
		})
	}
}

func check(t *testing.T, err error, kind, msg string) {
	t.Helper()
	var ser *awsjson.SerializationError
	var con *awsjson.ConstraintError
	switch kind {
	case "":
		if err != nil {
			t.Fatalf("Validate = %v, want nil", err)
		}
		return
	case "ser":
		if !errors.As(err, &ser) {
			t.Fatalf("Validate = %v (%T), want *SerializationError", err, err)
		}
	case "con":
		if !errors.As(err, &con) {
			t.Fatalf("Validate = %v (%T), want *ConstraintError", err, err)
		}
	}
	if err.Error() != msg {
		t.Fatalf("message\n got %s\nwant %s", err, msg)
	}
}

func TestValidate_ECRShapes(t *testing.T) {
	m := loadECRModel(t)
	tests := []struct {
		name, shape, body, msg string
	}{
		{"RepositoryNamePattern", "CreateRepositoryRequest", `{"repositoryName":"Team/App"}`,
			`Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*''`},
		{"NestedBoolean", "CreateRepositoryRequest", `{"repositoryName":"ab","imageScanningConfiguration":{"scanOnPush":"yes"}}`,
			"Value at 'imageScanningConfiguration.scanOnPush' must be a boolean, not a string"},
		{"TagRequired", "CreateRepositoryRequest", `{"repositoryName":"ab","tags":[{"Key":"k","Value":"v"},{"Key":"k"}]}`,
			"Invalid parameter at 'tags.2.member.Value' failed to satisfy constraint: 'must not be null'"},
		{"TagMutabilityEnum", "CreateRepositoryRequest", `{"repositoryName":"ab","imageTagMutability":"SOMETIMES"}`,
			"Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]'"},
		{"LayerDigestsEmpty", "BatchCheckLayerAvailabilityRequest", `{"repositoryName":"ab","layerDigests":[]}`,
			"Invalid parameter at 'layerDigests' failed to satisfy constraint: 'must have length greater than or equal to 1'"},
		{"PartFirstByteString", "UploadLayerPartRequest", `{"repositoryName":"ab","uploadId":"0","partFirstByte":"0","partLastByte":0,"layerPartBlob":""}`,
			"Value at 'partFirstByte' must be a long, not a string"},
		{"Valid", "UploadLayerPartRequest", `{"repositoryName":"ab","uploadId":"01234567-89ab-cdef-0123-456789abcdef","partFirstByte":0,"partLastByte":2,"layerPartBlob":"AQID"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Validate(tt.shape, decodeNumber(t, tt.body))
			if got := errString(err); got != tt.msg {
				t.Fatalf("message\n got %s\nwant %s", got, tt.msg)
			}
		})
	}
	if err := m.Validate("NoSuchShape", map[string]any{}); err == nil {
		t.Error("Validate accepted an unknown shape")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestValidate_Base64AgreesWithDecoder checks that the blob check accepts
// exactly what encoding/json will decode, with the same decoded length.
func TestValidate_Base64AgreesWithDecoder(t *testing.T) {
	m, err := awsjson.LoadModel([]byte(`{"metadata":{"targetPrefix":"T"},"operations":{},"shapes":{
		"B":{"type":"blob","max":3}}}`))
	if err != nil {
		t.Fatal(err)
	}
	inputs := []string{"", "=", "==", "A", "AA", "AA=", "AA==", "AAA=", "AAAA", "AAAA====", "A===",
		"AB=C", "AQID\n", "AQ\r\nID", "AQ==\n", "AQ=\n=", "AQIDBA==", "AQIDBAU=", "-_8=", "+/8=",
		"AQID AQID", "\n", "AAAAAAAA", "AQ=="}
	for _, in := range inputs {
		_, decErr := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(in))
		var b []byte
		jsonErr := json.Unmarshal([]byte(`"`+strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(in)+`"`), &b)
		if (decErr == nil) != (jsonErr == nil) {
			t.Fatalf("%q: base64 says %v, encoding/json says %v", in, decErr, jsonErr)
		}
		err := m.Validate("B", in)
		var ser *awsjson.SerializationError
		if got := errors.As(err, &ser); got != (jsonErr != nil) {
			t.Errorf("%q: Validate = %v, encoding/json = %v", in, err, jsonErr)
		}
		if jsonErr == nil && (err == nil) != (len(b) <= 3) {
			t.Errorf("%q: decodes to %d bytes but Validate = %v", in, len(b), err)
		}
	}
}
