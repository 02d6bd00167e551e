package ecr

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/registry"
)

func loadModel(t *testing.T) *awsjson.Model {
	t.Helper()
	m, err := awsjson.LoadModel(modelJSON)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestErrorTable walks every domain code through the table: each maps to an
// exception the ECR model declares, as a client error.
func TestErrorTable(t *testing.T) {
	m := loadModel(t)
	exceptions := m.Exceptions()
	for _, code := range registry.Codes {
		we := mapError(&registry.Error{Code: code, Message: "m"})
		if we == nil {
			t.Errorf("code %s has no ECR exception", code)
			continue
		}
		if !slices.Contains(exceptions, we.Type) && !slices.Contains(commonErrors, we.Type) {
			t.Errorf("code %s maps to %s, which is neither in the model nor a common AWS error", code, we.Type)
		}
		if we.Status != http.StatusBadRequest || we.Message != "m" {
			t.Errorf("code %s: status %d message %q", code, we.Status, we.Message)
		}
	}
	if we := mapError(errors.New("disk on fire")); we != nil {
		t.Errorf("a non-domain error mapped to %+v, want nil (ServerException)", we)
	}
	if se := serverError("id"); !slices.Contains(exceptions, se.Type) || se.Status != 500 || strings.Contains(se.Message, "disk") {
		t.Errorf("server error %+v", se)
	}
	for _, typ := range []string{"ServerException"} {
		s, _ := m.Shape(typ)
		if s == nil || !s.Fault {
			t.Errorf("%s is not the model's fault", typ)
		}
	}
}

// TestInvalidLayerPartMembers: the exception carries the members the model
// declares on it.
func TestInvalidLayerPartMembers(t *testing.T) {
	m := loadModel(t)
	we := mapError(&registry.Error{Code: registry.CodeInvalidLayerPart, Message: "m",
		Upload: &registry.UploadPosition{Registry: "123456789012", Name: "a/b", ID: "u", LastValidByte: 9}})
	for field := range we.Fields {
		if !m.HasMember("InvalidLayerPartException", field) {
			t.Errorf("field %s is not a member of InvalidLayerPartException", field)
		}
	}
	if we.Fields["lastValidByteReceived"] != int64(9) {
		t.Errorf("fields %v", we.Fields)
	}
}

// TestShapesMatchModel holds every implemented operation's input and output
// structs to the model: each json name is a member of the shape, and each
// member of the input shape has a field (so no input is silently dropped).
func TestShapesMatchModel(t *testing.T) {
	m := loadModel(t)
	a := &API{}
	for name := range a.operations() {
		op, ok := m.Operation(name)
		if !ok {
			t.Errorf("%s is not an operation of the model", name)
			continue
		}
		sig, ok := opSignatures[name]
		if !ok {
			t.Errorf("no signature recorded for %s", name)
			continue
		}
		checkStruct(t, m, op.Input, sig[0], true)
		checkStruct(t, m, op.Output, sig[1], false)
	}
}

// opSignatures records each operation's input and output struct; the
// test fails when an operation is added without an entry.
var opSignatures = map[string][2]reflect.Type{
	"CreateRepository":            {reflect.TypeFor[createRepositoryInput](), reflect.TypeFor[createRepositoryOutput]()},
	"DescribeRepositories":        {reflect.TypeFor[describeRepositoriesInput](), reflect.TypeFor[describeRepositoriesOutput]()},
	"DeleteRepository":            {reflect.TypeFor[deleteRepositoryInput](), reflect.TypeFor[deleteRepositoryOutput]()},
	"ListTagsForResource":         {reflect.TypeFor[listTagsForResourceInput](), reflect.TypeFor[listTagsForResourceOutput]()},
	"BatchCheckLayerAvailability": {reflect.TypeFor[batchCheckLayerAvailabilityInput](), reflect.TypeFor[batchCheckLayerAvailabilityOutput]()},
	"InitiateLayerUpload":         {reflect.TypeFor[initiateLayerUploadInput](), reflect.TypeFor[initiateLayerUploadOutput]()},
	"UploadLayerPart":             {reflect.TypeFor[uploadLayerPartInput](), reflect.TypeFor[uploadLayerPartOutput]()},
	"CompleteLayerUpload":         {reflect.TypeFor[completeLayerUploadInput](), reflect.TypeFor[completeLayerUploadOutput]()},
	"GetAuthorizationToken":       {reflect.TypeFor[getAuthorizationTokenInput](), reflect.TypeFor[getAuthorizationTokenOutput]()},
	"GetDownloadUrlForLayer":      {reflect.TypeFor[getDownloadURLForLayerInput](), reflect.TypeFor[getDownloadURLForLayerOutput]()},
	"UpdateImageStorageClass":     {reflect.TypeFor[updateImageStorageClassInput](), reflect.TypeFor[updateImageStorageClassOutput]()},
	"PutImageTagMutability":       {reflect.TypeFor[putImageTagMutabilityInput](), reflect.TypeFor[putImageTagMutabilityOutput]()},
	"PutImage":                    {reflect.TypeFor[putImageInput](), reflect.TypeFor[putImageOutput]()},
	"BatchGetImage":               {reflect.TypeFor[batchGetImageInput](), reflect.TypeFor[batchGetImageOutput]()},
	"BatchDeleteImage":            {reflect.TypeFor[batchDeleteImageInput](), reflect.TypeFor[batchDeleteImageOutput]()},
	"DescribeImages":              {reflect.TypeFor[describeImagesInput](), reflect.TypeFor[describeImagesOutput]()},
	"ListImages":                  {reflect.TypeFor[listImagesInput](), reflect.TypeFor[listImagesOutput]()},
}

func checkStruct(t *testing.T, m *awsjson.Model, shapeName string, typ reflect.Type, complete bool) {
	t.Helper()
	shape, ok := m.Shape(shapeName)
	if !ok {
		t.Fatalf("no shape %s", shapeName)
	}
	seen := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		seen[name] = true
		member, ok := shape.Members[name]
		if !ok {
			t.Errorf("%s.%s (json %q) is not a member of %s", typ.Name(), f.Name, name, shapeName)
			continue
		}
		// Recurse into nested structures.
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		ms, _ := m.Shape(member)
		if ft.Kind() == reflect.Struct && ms != nil && ms.Type == awsjson.TypeStructure && ft != reflect.TypeFor[awsjson.Time]() {
			checkStruct(t, m, member, ft, complete)
		}
		if ms != nil && ms.Type == awsjson.TypeList {
			if es, _ := m.Shape(ms.Member); es != nil && es.Type == awsjson.TypeStructure {
				checkStruct(t, m, ms.Member, ft, complete)
			}
		}
	}
	if complete {
		for member := range shape.Members {
			if !seen[member] {
				t.Errorf("%s has no field for member %s of %s", typ.Name(), member, shapeName)
			}
		}
	}
}
