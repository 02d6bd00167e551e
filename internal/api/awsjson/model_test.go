package awsjson_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/awsjson/botocore"
)

// ecrModelFile is the committed trimmed ECR model the tests run against.
const ecrModelFile = "../ecr/model.json"

func loadECRModel(t *testing.T) *awsjson.Model {
	t.Helper()
	data, err := os.ReadFile(ecrModelFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := awsjson.LoadModel(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// botocoreDir finds the installed botocore. Without it the test skips,
// except in CI, where the models are the wire spec and must be checked.
func botocoreDir(t *testing.T) string {
	t.Helper()
	dir, err := botocore.DataDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but botocore is not available: %v", err)
		}
		t.Skipf("botocore not available: %v", err)
	}
	return dir
}

func TestTrimModel_CommittedModelsAreCurrent(t *testing.T) {
	for _, c := range []struct{ file, model string }{
		{ecrModelFile, "ecr/2015-09-21"},
		{"../ecrpublic/model.json", "ecr-public/2020-10-30"},
	} {
		raw, err := botocore.ReadModel(botocoreDir(t), c.model)
		if err != nil {
			t.Fatal(err)
		}
		want, err := awsjson.TrimModel(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from the installed botocore model %s; run go generate ./internal/api/...", c.file, c.model)
		}
		again, err := awsjson.TrimModel(raw)
		if err != nil || !bytes.Equal(again, want) {
			t.Fatal("TrimModel is not deterministic")
		}
	}
}

func TestTrimModel_Refuses(t *testing.T) {
	for name, raw := range map[string]string{
		"NotJSON":        `{`,
		"RestProtocol":   `{"metadata":{"protocol":"rest-json","targetPrefix":"X"},"operations":{},"shapes":{}}`,
		"DanglingShape":  `{"metadata":{"protocol":"json","targetPrefix":"X"},"operations":{"A":{"input":{"shape":"Nope"}}},"shapes":{}}`,
		"UnknownType":    `{"metadata":{"protocol":"json","targetPrefix":"X"},"operations":{},"shapes":{"S":{"type":"float"}}}`,
		"BadPattern":     `{"metadata":{"protocol":"json","targetPrefix":"X"},"operations":{},"shapes":{"S":{"type":"string","pattern":"(?<=a)b"}}}`,
		"RequiredAbsent": `{"metadata":{"protocol":"json","targetPrefix":"X"},"operations":{},"shapes":{"S":{"type":"structure","required":["a"],"members":{}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := awsjson.TrimModel([]byte(raw)); err == nil {
				t.Fatal("TrimModel accepted it")
			}
		})
	}
}

func TestModel_ECRLookups(t *testing.T) {
	m := loadECRModel(t)
	if m.TargetPrefix != "AmazonEC2ContainerRegistry_V20150921" || m.SigningName != "ecr" {
		t.Errorf("metadata = %q, %q", m.TargetPrefix, m.SigningName)
	}
	op, ok := m.Operation("UploadLayerPart")
	if !ok || op.Input != "UploadLayerPartRequest" || op.Output != "UploadLayerPartResponse" {
		t.Errorf("UploadLayerPart = %+v, %v", op, ok)
	}
	if _, ok := m.Operation("AmazonEC2ContainerRegistry_V20150921.UploadLayerPart"); ok {
		t.Error("Operation accepted a prefixed name")
	}
	exc := m.Exceptions()
	for _, want := range []string{"RepositoryNotFoundException", "ServerException", "InvalidLayerPartException"} {
		found := false
		for _, e := range exc {
			found = found || e == want
		}
		if !found {
			t.Errorf("Exceptions() lacks %s", want)
		}
	}
	if s, _ := m.Shape("ServerException"); s == nil || !s.Fault || !s.Exception {
		t.Error("ServerException is not a fault")
	}
	if !m.HasMember("InvalidLayerPartException", "lastValidByteReceived") || m.HasMember("InvalidLayerPartException", "nope") {
		t.Error("HasMember is wrong for InvalidLayerPartException")
	}
	if len(m.Operations()) < 50 {
		t.Errorf("only %d operations", len(m.Operations()))
	}
}
