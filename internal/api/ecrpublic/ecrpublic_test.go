package ecrpublic

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/awsjson/awsjsontest"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
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
// exception the ECR Public model declares, as a client error.
func TestErrorTable(t *testing.T) {
	m := loadModel(t)
	awsjsontest.CheckErrorTable(t, m, mapError, commonErrors)
	exceptions := m.Exceptions()
	if se := serverError("id"); !slices.Contains(exceptions, se.Type) || se.Status != 500 || strings.Contains(se.Message, "disk") {
		t.Errorf("server error %+v", se)
	}
	if u := unsupported("x"); !slices.Contains(exceptions, u.Type) || u.Status != 400 {
		t.Errorf("unsupported %+v", u)
	}
}

// TestEveryOperation: ECR Public is served whole, no operation left out.
func TestEveryOperation(t *testing.T) {
	m := loadModel(t)
	ops := (&API{}).operations()
	for _, name := range m.Operations() {
		if _, ok := ops[name]; !ok {
			t.Errorf("the model's operation %s is not served", name)
		}
	}
	if len(ops) != len(m.Operations()) {
		t.Errorf("%d operations served, the model has %d", len(ops), len(m.Operations()))
	}
}

// TestShapesMatchModel holds every input field to a member of the model
// (and every input member to a field), and every output field to a member.
func TestShapesMatchModel(t *testing.T) {
	m := loadModel(t)
	for name := range (&API{}).operations() {
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
		if op.Input != "" {
			awsjsontest.CheckStruct(t, m, op.Input, sig[0], true)
		}
		if op.Output != "" {
			awsjsontest.CheckStruct(t, m, op.Output, sig[1], false)
		}
	}
}

var opSignatures = map[string][2]reflect.Type{
	"CreateRepository":            {reflect.TypeFor[createRepositoryInput](), reflect.TypeFor[createRepositoryOutput]()},
	"DescribeRepositories":        {reflect.TypeFor[describeRepositoriesInput](), reflect.TypeFor[describeRepositoriesOutput]()},
	"DeleteRepository":            {reflect.TypeFor[deleteRepositoryInput](), reflect.TypeFor[deleteRepositoryOutput]()},
	"GetRepositoryCatalogData":    {reflect.TypeFor[getRepositoryCatalogDataInput](), reflect.TypeFor[getRepositoryCatalogDataOutput]()},
	"PutRepositoryCatalogData":    {reflect.TypeFor[putRepositoryCatalogDataInput](), reflect.TypeFor[putRepositoryCatalogDataOutput]()},
	"DescribeRegistries":          {reflect.TypeFor[describeRegistriesInput](), reflect.TypeFor[describeRegistriesOutput]()},
	"GetRegistryCatalogData":      {reflect.TypeFor[getRegistryCatalogDataInput](), reflect.TypeFor[getRegistryCatalogDataOutput]()},
	"PutRegistryCatalogData":      {reflect.TypeFor[putRegistryCatalogDataInput](), reflect.TypeFor[putRegistryCatalogDataOutput]()},
	"GetRepositoryPolicy":         {reflect.TypeFor[ecrshared.RepositoryPolicyInput](), reflect.TypeFor[ecrshared.RepositoryPolicyOutput]()},
	"SetRepositoryPolicy":         {reflect.TypeFor[ecrshared.SetRepositoryPolicyInput](), reflect.TypeFor[ecrshared.RepositoryPolicyOutput]()},
	"DeleteRepositoryPolicy":      {reflect.TypeFor[ecrshared.RepositoryPolicyInput](), reflect.TypeFor[ecrshared.RepositoryPolicyOutput]()},
	"TagResource":                 {reflect.TypeFor[ecrshared.TagResourceInput](), reflect.TypeFor[ecrshared.EmptyOutput]()},
	"UntagResource":               {reflect.TypeFor[ecrshared.UntagResourceInput](), reflect.TypeFor[ecrshared.EmptyOutput]()},
	"ListTagsForResource":         {reflect.TypeFor[ecrshared.ListTagsForResourceInput](), reflect.TypeFor[ecrshared.ListTagsForResourceOutput]()},
	"GetAuthorizationToken":       {reflect.TypeFor[getAuthorizationTokenInput](), reflect.TypeFor[getAuthorizationTokenOutput]()},
	"BatchCheckLayerAvailability": {reflect.TypeFor[ecrshared.BatchCheckLayerAvailabilityInput](), reflect.TypeFor[ecrshared.BatchCheckLayerAvailabilityOutput]()},
	"InitiateLayerUpload":         {reflect.TypeFor[ecrshared.InitiateLayerUploadInput](), reflect.TypeFor[ecrshared.InitiateLayerUploadOutput]()},
	"UploadLayerPart":             {reflect.TypeFor[ecrshared.UploadLayerPartInput](), reflect.TypeFor[ecrshared.UploadLayerPartOutput]()},
	"CompleteLayerUpload":         {reflect.TypeFor[ecrshared.CompleteLayerUploadInput](), reflect.TypeFor[ecrshared.CompleteLayerUploadOutput]()},
	"PutImage":                    {reflect.TypeFor[ecrshared.PutImageInput](), reflect.TypeFor[ecrshared.PutImageOutput]()},
	"DescribeImages":              {reflect.TypeFor[describeImagesInput](), reflect.TypeFor[describeImagesOutput]()},
	"DescribeImageTags":           {reflect.TypeFor[describeImageTagsInput](), reflect.TypeFor[describeImageTagsOutput]()},
	"BatchDeleteImage":            {reflect.TypeFor[ecrshared.BatchDeleteImageInput](), reflect.TypeFor[ecrshared.BatchDeleteImageOutput]()},
}
