package ecr

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/api/awsjson"
	"github.com/ecrd/ecrd/internal/api/awsjson/awsjsontest"
	"github.com/ecrd/ecrd/internal/api/ecrshared"
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
	awsjsontest.CheckErrorTable(t, m, mapError, commonErrors)
	exceptions := m.Exceptions()
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
		awsjsontest.CheckStruct(t, m, op.Input, sig[0], true)
		awsjsontest.CheckStruct(t, m, op.Output, sig[1], false)
	}
}

// opSignatures records each operation's input and output struct; the
// test fails when an operation is added without an entry.
var opSignatures = map[string][2]reflect.Type{
	"CreateRepository":                        {reflect.TypeFor[createRepositoryInput](), reflect.TypeFor[createRepositoryOutput]()},
	"DescribeRepositories":                    {reflect.TypeFor[describeRepositoriesInput](), reflect.TypeFor[describeRepositoriesOutput]()},
	"DeleteRepository":                        {reflect.TypeFor[deleteRepositoryInput](), reflect.TypeFor[deleteRepositoryOutput]()},
	"ListTagsForResource":                     {reflect.TypeFor[ecrshared.ListTagsForResourceInput](), reflect.TypeFor[ecrshared.ListTagsForResourceOutput]()},
	"BatchCheckLayerAvailability":             {reflect.TypeFor[ecrshared.BatchCheckLayerAvailabilityInput](), reflect.TypeFor[ecrshared.BatchCheckLayerAvailabilityOutput]()},
	"InitiateLayerUpload":                     {reflect.TypeFor[ecrshared.InitiateLayerUploadInput](), reflect.TypeFor[ecrshared.InitiateLayerUploadOutput]()},
	"UploadLayerPart":                         {reflect.TypeFor[ecrshared.UploadLayerPartInput](), reflect.TypeFor[ecrshared.UploadLayerPartOutput]()},
	"CompleteLayerUpload":                     {reflect.TypeFor[ecrshared.CompleteLayerUploadInput](), reflect.TypeFor[ecrshared.CompleteLayerUploadOutput]()},
	"GetAuthorizationToken":                   {reflect.TypeFor[getAuthorizationTokenInput](), reflect.TypeFor[getAuthorizationTokenOutput]()},
	"GetDownloadUrlForLayer":                  {reflect.TypeFor[getDownloadURLForLayerInput](), reflect.TypeFor[getDownloadURLForLayerOutput]()},
	"UpdateImageStorageClass":                 {reflect.TypeFor[updateImageStorageClassInput](), reflect.TypeFor[updateImageStorageClassOutput]()},
	"PutImageTagMutability":                   {reflect.TypeFor[putImageTagMutabilityInput](), reflect.TypeFor[putImageTagMutabilityOutput]()},
	"PutImage":                                {reflect.TypeFor[ecrshared.PutImageInput](), reflect.TypeFor[ecrshared.PutImageOutput]()},
	"BatchGetImage":                           {reflect.TypeFor[batchGetImageInput](), reflect.TypeFor[batchGetImageOutput]()},
	"BatchDeleteImage":                        {reflect.TypeFor[ecrshared.BatchDeleteImageInput](), reflect.TypeFor[ecrshared.BatchDeleteImageOutput]()},
	"DescribeImages":                          {reflect.TypeFor[describeImagesInput](), reflect.TypeFor[describeImagesOutput]()},
	"ListImages":                              {reflect.TypeFor[listImagesInput](), reflect.TypeFor[listImagesOutput]()},
	"GetRepositoryPolicy":                     {reflect.TypeFor[ecrshared.RepositoryPolicyInput](), reflect.TypeFor[ecrshared.RepositoryPolicyOutput]()},
	"SetRepositoryPolicy":                     {reflect.TypeFor[ecrshared.SetRepositoryPolicyInput](), reflect.TypeFor[ecrshared.RepositoryPolicyOutput]()},
	"DeleteRepositoryPolicy":                  {reflect.TypeFor[ecrshared.RepositoryPolicyInput](), reflect.TypeFor[ecrshared.RepositoryPolicyOutput]()},
	"TagResource":                             {reflect.TypeFor[ecrshared.TagResourceInput](), reflect.TypeFor[ecrshared.EmptyOutput]()},
	"UntagResource":                           {reflect.TypeFor[ecrshared.UntagResourceInput](), reflect.TypeFor[ecrshared.EmptyOutput]()},
	"ListImageReferrers":                      {reflect.TypeFor[listImageReferrersInput](), reflect.TypeFor[listImageReferrersOutput]()},
	"GetRegistryPolicy":                       {reflect.TypeFor[emptyInput](), reflect.TypeFor[registryPolicyOutput]()},
	"PutRegistryPolicy":                       {reflect.TypeFor[putRegistryPolicyInput](), reflect.TypeFor[registryPolicyOutput]()},
	"DeleteRegistryPolicy":                    {reflect.TypeFor[emptyInput](), reflect.TypeFor[registryPolicyOutput]()},
	"DescribeRegistry":                        {reflect.TypeFor[emptyInput](), reflect.TypeFor[describeRegistryOutput]()},
	"RegisterPullTimeUpdateExclusion":         {reflect.TypeFor[exclusionInput](), reflect.TypeFor[registerExclusionOutput]()},
	"DeregisterPullTimeUpdateExclusion":       {reflect.TypeFor[exclusionInput](), reflect.TypeFor[deregisterExclusionOutput]()},
	"ListPullTimeUpdateExclusions":            {reflect.TypeFor[listExclusionsInput](), reflect.TypeFor[listExclusionsOutput]()},
	"GetAccountSetting":                       {reflect.TypeFor[accountSettingInput](), reflect.TypeFor[accountSettingOutput]()},
	"PutAccountSetting":                       {reflect.TypeFor[putAccountSettingInput](), reflect.TypeFor[accountSettingOutput]()},
	"PutReplicationConfiguration":             {reflect.TypeFor[putReplicationConfigurationInput](), reflect.TypeFor[putReplicationConfigurationOutput]()},
	"DescribeImageReplicationStatus":          {reflect.TypeFor[describeImageReplicationStatusInput](), reflect.TypeFor[describeImageReplicationStatusOutput]()},
	"PutLifecyclePolicy":                      {reflect.TypeFor[lifecyclePolicyInput](), reflect.TypeFor[putLifecyclePolicyOutput]()},
	"GetLifecyclePolicy":                      {reflect.TypeFor[lifecycleRepoInput](), reflect.TypeFor[lifecyclePolicyOutput]()},
	"DeleteLifecyclePolicy":                   {reflect.TypeFor[lifecycleRepoInput](), reflect.TypeFor[lifecyclePolicyOutput]()},
	"StartLifecyclePolicyPreview":             {reflect.TypeFor[lifecyclePolicyInput](), reflect.TypeFor[startPreviewOutput]()},
	"GetLifecyclePolicyPreview":               {reflect.TypeFor[getPreviewInput](), reflect.TypeFor[getPreviewOutput]()},
	"CreateRepositoryCreationTemplate":        {reflect.TypeFor[templateInput](), reflect.TypeFor[templateOutput]()},
	"CreatePullThroughCacheRule":              {reflect.TypeFor[createRuleInput](), reflect.TypeFor[createRuleOutput]()},
	"DescribePullThroughCacheRules":           {reflect.TypeFor[describeRulesInput](), reflect.TypeFor[describeRulesOutput]()},
	"UpdatePullThroughCacheRule":              {reflect.TypeFor[updateRuleInput](), reflect.TypeFor[updateRuleOutput]()},
	"DeletePullThroughCacheRule":              {reflect.TypeFor[ruleInput](), reflect.TypeFor[deleteRuleOutput]()},
	"ValidatePullThroughCacheRule":            {reflect.TypeFor[ruleInput](), reflect.TypeFor[validateRuleOutput]()},
	"UpdateRepositoryCreationTemplate":        {reflect.TypeFor[templateInput](), reflect.TypeFor[templateOutput]()},
	"DeleteRepositoryCreationTemplate":        {reflect.TypeFor[templatePrefixInput](), reflect.TypeFor[templateOutput]()},
	"DescribeRepositoryCreationTemplates":     {reflect.TypeFor[describeTemplatesInput](), reflect.TypeFor[describeTemplatesOutput]()},
	"PutImageScanningConfiguration":           {reflect.TypeFor[putImageScanningConfigurationInput](), reflect.TypeFor[putImageScanningConfigurationOutput]()},
	"StartImageScan":                          {reflect.TypeFor[startImageScanInput](), reflect.TypeFor[startImageScanOutput]()},
	"DescribeImageScanFindings":               {reflect.TypeFor[describeImageScanFindingsInput](), reflect.TypeFor[describeImageScanFindingsOutput]()},
	"GetRegistryScanningConfiguration":        {reflect.TypeFor[emptyInput](), reflect.TypeFor[getRegistryScanningConfigurationOutput]()},
	"PutRegistryScanningConfiguration":        {reflect.TypeFor[putRegistryScanningConfigurationInput](), reflect.TypeFor[putRegistryScanningConfigurationOutput]()},
	"PutSigningConfiguration":                 {reflect.TypeFor[putSigningConfigurationInput](), reflect.TypeFor[putSigningConfigurationOutput]()},
	"GetSigningConfiguration":                 {reflect.TypeFor[emptyInput](), reflect.TypeFor[getSigningConfigurationOutput]()},
	"DeleteSigningConfiguration":              {reflect.TypeFor[emptyInput](), reflect.TypeFor[deleteSigningConfigurationOutput]()},
	"DescribeImageSigningStatus":              {reflect.TypeFor[describeImageSigningStatusInput](), reflect.TypeFor[describeImageSigningStatusOutput]()},
	"BatchGetRepositoryScanningConfiguration": {reflect.TypeFor[batchGetRepositoryScanningConfigurationInput](), reflect.TypeFor[batchGetRepositoryScanningConfigurationOutput]()},
}
