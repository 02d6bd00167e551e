package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	pubtypes "github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"

	"github.com/ecrd/ecrd/internal/lifecycle"
)

// faultCases are every operation of the three APIs, over faultFixture.
func faultCases() []faultCase {
	return append(append(ecrFaultCases(), publicFaultCases()...), v2FaultCases()...)
}

// storeless marks a case that legitimately makes no store call (a token
// is signed, not stored).
func storeless(c faultCase) faultCase { c.noStore = true; return c }

// opCtx bounds one request of a case.
func opCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// ecrCase is a case calling the ECR API with the AWS SDK for Go v2.
func ecrCase(name string, call func(ctx context.Context, c *ecr.Client, fx *faultFixture) (any, error)) faultCase {
	return faultCase{name: "ECR/" + name, run: func(t *testing.T, s *faultServer) answer {
		c, cancel := opCtx()
		defer cancel()
		return sdkAnswer(call(c, s.client(), s.fx))
	}}
}

// publicCase is ecrCase for ECR Public.
func publicCase(name string, call func(ctx context.Context, c *ecrpublic.Client, fx *faultFixture) (any, error)) faultCase {
	return faultCase{name: "ECRPublic/" + name, run: func(t *testing.T, s *faultServer) answer {
		c, cancel := opCtx()
		defer cancel()
		return sdkAnswer(call(c, s.publicClient(), s.fx))
	}}
}

func ecrFaultCases() []faultCase {
	repo := aws.String(fxRepo)
	img := func(tag string) []types.ImageIdentifier { return []types.ImageIdentifier{{ImageTag: aws.String(tag)}} }
	cases := []faultCase{
		ecrCase("CreateRepository", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.CreateRepository(c, &ecr.CreateRepositoryInput{RepositoryName: aws.String("new/repo"),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		}),
		ecrCase("DescribeRepositories", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
		}),
		ecrCase("DeleteRepository", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(fxDoomed), Force: true})
		}),
		ecrCase("ListTagsForResource", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.ListTagsForResource(c, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(repoARN(testAccount, fxRepo))})
		}),
		ecrCase("BatchCheckLayerAvailability", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.BatchCheckLayerAvailability(c, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: repo,
				LayerDigests: []string{fx.l1.Digest, fx.loose.Digest, fx.only.Digest}})
		}),
		ecrCase("InitiateLayerUpload", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.InitiateLayerUpload(c, &ecr.InitiateLayerUploadInput{RepositoryName: repo})
		}),
		ecrCase("UploadLayerPart", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			part := layerBytes(1234, 11)
			return e.UploadLayerPart(c, &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(fx.ecrUpload),
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(part)) - 1), LayerPartBlob: part})
		}),
		ecrCase("CompleteLayerUpload", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.CompleteLayerUpload(c, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(fx.ecrFull),
				LayerDigests: []string{digestOf(fx.full)}})
		}),
		storeless(ecrCase("GetAuthorizationToken", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetAuthorizationToken(c, &ecr.GetAuthorizationTokenInput{})
		})),
		ecrCase("GetDownloadUrlForLayer", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetDownloadUrlForLayer(c, &ecr.GetDownloadUrlForLayerInput{RepositoryName: repo, LayerDigest: aws.String(fx.l1.Digest)})
		}),
		ecrCase("UpdateImageStorageClass", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.UpdateImageStorageClass(c, &ecr.UpdateImageStorageClassInput{RepositoryName: repo,
				ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}, TargetStorageClass: types.TargetStorageClassArchive})
		}),
		ecrCase("PutImageTagMutability", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutImageTagMutability(c, &ecr.PutImageTagMutabilityInput{RepositoryName: repo, ImageTagMutability: types.ImageTagMutabilityImmutable})
		}),
		ecrCase("PutImage", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutImage(c, &ecr.PutImageInput{RepositoryName: repo, ImageTag: aws.String("v3"),
				ImageManifest: aws.String(ociManifest(fx.cfg, "v3", fx.l1, fx.loose))})
		}),
		ecrCase("PutImageMovesTag", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutImage(c, &ecr.PutImageInput{RepositoryName: repo, ImageTag: aws.String("v1"), ImageManifest: aws.String(fx.untagged)})
		}),
		ecrCase("BatchGetImage", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.BatchGetImage(c, &ecr.BatchGetImageInput{RepositoryName: repo, ImageIds: append(img("v1"), img("nope")...)})
		}),
		ecrCase("BatchDeleteImage", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.BatchDeleteImage(c, &ecr.BatchDeleteImageInput{RepositoryName: repo, ImageIds: append(img("v1"), img("multi")...)})
		}),
		ecrCase("DescribeImages", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo})
		}),
		ecrCase("ListImages", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.ListImages(c, &ecr.ListImagesInput{RepositoryName: repo})
		}),
		ecrCase("GetRepositoryPolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetRepositoryPolicy(c, &ecr.GetRepositoryPolicyInput{RepositoryName: repo})
		}),
		ecrCase("SetRepositoryPolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.SetRepositoryPolicy(c, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(fxOther), PolicyText: aws.String(faultPolicy)})
		}),
		ecrCase("DeleteRepositoryPolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeleteRepositoryPolicy(c, &ecr.DeleteRepositoryPolicyInput{RepositoryName: repo})
		}),
		ecrCase("TagResource", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.TagResource(c, &ecr.TagResourceInput{ResourceArn: aws.String(repoARN(testAccount, fxRepo)), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
		}),
		ecrCase("UntagResource", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.UntagResource(c, &ecr.UntagResourceInput{ResourceArn: aws.String(repoARN(testAccount, fxRepo)), TagKeys: []string{"team"}})
		}),
		ecrCase("PutImageScanningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutImageScanningConfiguration(c, &ecr.PutImageScanningConfigurationInput{RepositoryName: repo,
				ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}})
		}),
		ecrCase("ListImageReferrers", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.ListImageReferrers(c, &ecr.ListImageReferrersInput{RepositoryName: repo,
				SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(digestOf([]byte(fx.v2)))}})
		}),
		ecrCase("GetRegistryPolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetRegistryPolicy(c, &ecr.GetRegistryPolicyInput{})
		}),
		ecrCase("PutRegistryPolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutRegistryPolicy(c, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(faultPolicy)})
		}),
		ecrCase("DeleteRegistryPolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeleteRegistryPolicy(c, &ecr.DeleteRegistryPolicyInput{})
		}),
		ecrCase("DescribeRegistry", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeRegistry(c, &ecr.DescribeRegistryInput{})
		}),
		ecrCase("RegisterPullTimeUpdateExclusion", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.RegisterPullTimeUpdateExclusion(c, &ecr.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String("arn:aws:iam::" + testAccount + ":user/new")})
		}),
		ecrCase("ListPullTimeUpdateExclusions", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.ListPullTimeUpdateExclusions(c, &ecr.ListPullTimeUpdateExclusionsInput{})
		}),
		ecrCase("DeregisterPullTimeUpdateExclusion", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeregisterPullTimeUpdateExclusion(c, &ecr.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(fxExcluded)})
		}),
		ecrCase("GetAccountSetting", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetAccountSetting(c, &ecr.GetAccountSettingInput{Name: aws.String("BLOB_MOUNTING")})
		}),
		ecrCase("PutAccountSetting", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutAccountSetting(c, &ecr.PutAccountSettingInput{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V1")})
		}),
		ecrCase("StartImageScan", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.StartImageScan(c, &ecr.StartImageScanInput{RepositoryName: aws.String(fxRepo), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v2")}})
		}),
		ecrCase("DescribeImageScanFindings", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeImageScanFindings(c, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(fxRepo), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
		}),
		ecrCase("GetRegistryScanningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetRegistryScanningConfiguration(c, &ecr.GetRegistryScanningConfigurationInput{})
		}),
		ecrCase("PutRegistryScanningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutRegistryScanningConfiguration(c, &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeEnhanced,
				Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyContinuousScan,
					RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}}})
		}),
		ecrCase("BatchGetRepositoryScanningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.BatchGetRepositoryScanningConfiguration(c, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{fxRepo, "nope"}})
		}),
		ecrCase("PutSigningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutSigningConfiguration(c, &ecr.PutSigningConfigurationInput{SigningConfiguration: &types.SigningConfiguration{
				Rules: []types.SigningRule{{SigningProfileArn: aws.String(fxProfile)}}}})
		}),
		ecrCase("GetSigningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetSigningConfiguration(c, &ecr.GetSigningConfigurationInput{})
		}),
		ecrCase("DeleteSigningConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeleteSigningConfiguration(c, &ecr.DeleteSigningConfigurationInput{})
		}),
		ecrCase("DescribeImageSigningStatus", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeImageSigningStatus(c, &ecr.DescribeImageSigningStatusInput{RepositoryName: aws.String(fxRepo), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
		}),
		ecrCase("PutReplicationConfiguration", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutReplicationConfiguration(c, &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: &types.ReplicationConfiguration{
				Rules: []types.ReplicationRule{{Destinations: []types.ReplicationDestination{{Region: aws.String("us-west-2"), RegistryId: aws.String(testAccount)}}}}}})
		}),
		ecrCase("DescribeImageReplicationStatus", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeImageReplicationStatus(c, &ecr.DescribeImageReplicationStatusInput{RepositoryName: aws.String(fxRepo), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
		}),
		ecrCase("CreatePullThroughCacheRule", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.CreatePullThroughCacheRule(c, &ecr.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("k8s"), UpstreamRegistryUrl: aws.String("registry.k8s.io")})
		}),
		ecrCase("DescribePullThroughCacheRules", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribePullThroughCacheRules(c, &ecr.DescribePullThroughCacheRulesInput{})
		}),
		ecrCase("UpdatePullThroughCacheRule", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.UpdatePullThroughCacheRule(c, &ecr.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(fxCache),
				CustomRoleArn: aws.String("arn:aws:iam::" + testAccount + ":role/cache")})
		}),
		ecrCase("DeletePullThroughCacheRule", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeletePullThroughCacheRule(c, &ecr.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(fxCache)})
		}),
		// (A rule that exists would make the answer the upstream's.)
		ecrCase("ValidatePullThroughCacheRule", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.ValidatePullThroughCacheRule(c, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("absent")})
		}),
		ecrCase("CreateRepositoryCreationTemplate", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.CreateRepositoryCreationTemplate(c, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("new"),
				AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForReplication}, LifecyclePolicy: aws.String(faultLifecyclePolicy)})
		}),
		ecrCase("DescribeRepositoryCreationTemplates", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DescribeRepositoryCreationTemplates(c, &ecr.DescribeRepositoryCreationTemplatesInput{})
		}),
		ecrCase("UpdateRepositoryCreationTemplate", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.UpdateRepositoryCreationTemplate(c, &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String(fxTemplate), Description: aws.String("changed")})
		}),
		ecrCase("DeleteRepositoryCreationTemplate", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeleteRepositoryCreationTemplate(c, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String(fxTemplate)})
		}),
		// A push creating its repository from the template: the
		// repository and both its policies, or nothing.
		ecrCase("InitiateLayerUpload/CreateOnPush", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.InitiateLayerUpload(c, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(fxTemplate + "/repo")})
		}),
		ecrCase("PutLifecyclePolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.PutLifecyclePolicy(c, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(fxOther), LifecyclePolicyText: aws.String(faultLifecyclePolicy)})
		}),
		ecrCase("GetLifecyclePolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetLifecyclePolicy(c, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(fxLifecycle)})
		}),
		ecrCase("DeleteLifecyclePolicy", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.DeleteLifecyclePolicy(c, &ecr.DeleteLifecyclePolicyInput{RepositoryName: aws.String(fxLifecycle)})
		}),
		ecrCase("GetLifecyclePolicyPreview", func(c context.Context, e *ecr.Client, fx *faultFixture) (any, error) {
			return e.GetLifecyclePolicyPreview(c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String(fxLifecycle)})
		}),
		// A run's answer is whether it applied every policy; a failed one,
		// run again, must end where a run without faults ends.
		{name: "Lifecycle/Run", run: func(t *testing.T, s *faultServer) answer {
			c, cancel := opCtx()
			defer cancel()
			st, err := s.app.RunLifecycle(c, lifecycle.RunOptions{})
			switch {
			case err != nil:
				return answer{status: 500, code: err.Error()}
			case st.FailedRepositories > 0:
				return answer{status: 500, code: "failed repository: " + st.LastFailure.Error()}
			}
			// What the run left, not what it counted: a run after a
			// failed one has less left to do.
			out, err := s.client().DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String(fxLifecycle),
				Filter: &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterAny}})
			if err != nil {
				return sdkAnswer(nil, err)
			}
			var left []string
			for _, d := range out.ImageDetails {
				left = append(left, fmt.Sprintf("%v:%s", d.ImageTags, d.ImageStatus))
			}
			slices.Sort(left)
			return answer{status: 200, detail: strings.Join(left, " ")}
		}},
	}
	return cases
}

func publicFaultCases() []faultCase {
	repo := aws.String(fxPub)
	return []faultCase{
		publicCase("CreateRepository", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.CreateRepository(c, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("new/pub"),
				CatalogData: &pubtypes.RepositoryCatalogDataInput{Description: aws.String("d")}})
		}),
		publicCase("DescribeRepositories", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.DescribeRepositories(c, &ecrpublic.DescribeRepositoriesInput{})
		}),
		publicCase("DeleteRepository", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.DeleteRepository(c, &ecrpublic.DeleteRepositoryInput{RepositoryName: repo, Force: true})
		}),
		publicCase("GetRepositoryCatalogData", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.GetRepositoryCatalogData(c, &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: repo})
		}),
		publicCase("PutRepositoryCatalogData", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.PutRepositoryCatalogData(c, &ecrpublic.PutRepositoryCatalogDataInput{RepositoryName: repo,
				CatalogData: &pubtypes.RepositoryCatalogDataInput{UsageText: aws.String("docker pull it")}})
		}),
		publicCase("DescribeRegistries", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.DescribeRegistries(c, &ecrpublic.DescribeRegistriesInput{})
		}),
		publicCase("GetRegistryCatalogData", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.GetRegistryCatalogData(c, &ecrpublic.GetRegistryCatalogDataInput{})
		}),
		publicCase("PutRegistryCatalogData", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.PutRegistryCatalogData(c, &ecrpublic.PutRegistryCatalogDataInput{DisplayName: aws.String("Team")})
		}),
		publicCase("GetRepositoryPolicy", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.GetRepositoryPolicy(c, &ecrpublic.GetRepositoryPolicyInput{RepositoryName: repo})
		}),
		publicCase("SetRepositoryPolicy", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.SetRepositoryPolicy(c, &ecrpublic.SetRepositoryPolicyInput{RepositoryName: repo, PolicyText: aws.String(faultPublicPolicy)})
		}),
		publicCase("DeleteRepositoryPolicy", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.DeleteRepositoryPolicy(c, &ecrpublic.DeleteRepositoryPolicyInput{RepositoryName: repo})
		}),
		publicCase("TagResource", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.TagResource(c, &ecrpublic.TagResourceInput{ResourceArn: aws.String(pubRepoARN(fxPub)),
				Tags: []pubtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
		}),
		publicCase("UntagResource", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.UntagResource(c, &ecrpublic.UntagResourceInput{ResourceArn: aws.String(pubRepoARN(fxPub)), TagKeys: []string{"env"}})
		}),
		publicCase("ListTagsForResource", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.ListTagsForResource(c, &ecrpublic.ListTagsForResourceInput{ResourceArn: aws.String(pubRepoARN(fxPub))})
		}),
		storeless(publicCase("GetAuthorizationToken", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.GetAuthorizationToken(c, &ecrpublic.GetAuthorizationTokenInput{})
		})),
		publicCase("BatchCheckLayerAvailability", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.BatchCheckLayerAvailability(c, &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: repo,
				LayerDigests: []string{fx.pubLayer.Digest, fx.l1.Digest}})
		}),
		publicCase("InitiateLayerUpload", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.InitiateLayerUpload(c, &ecrpublic.InitiateLayerUploadInput{RepositoryName: repo})
		}),
		publicCase("UploadLayerPart", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			part := layerBytes(999, 12)
			return p.UploadLayerPart(c, &ecrpublic.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String(fx.pubUpload),
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(part)) - 1), LayerPartBlob: part})
		}),
		publicCase("CompleteLayerUpload", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.CompleteLayerUpload(c, &ecrpublic.CompleteLayerUploadInput{RepositoryName: repo, UploadId: aws.String(fx.pubFull),
				LayerDigests: []string{digestOf(fx.full)}})
		}),
		publicCase("PutImage", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.PutImage(c, &ecrpublic.PutImageInput{RepositoryName: repo, ImageTag: aws.String("v2"), ImageManifest: aws.String(fx.pubManifest)})
		}),
		publicCase("DescribeImages", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.DescribeImages(c, &ecrpublic.DescribeImagesInput{RepositoryName: repo})
		}),
		publicCase("DescribeImageTags", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.DescribeImageTags(c, &ecrpublic.DescribeImageTagsInput{RepositoryName: repo})
		}),
		publicCase("BatchDeleteImage", func(c context.Context, p *ecrpublic.Client, fx *faultFixture) (any, error) {
			return p.BatchDeleteImage(c, &ecrpublic.BatchDeleteImageInput{RepositoryName: repo,
				ImageIds: []pubtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
		}),
	}
}
