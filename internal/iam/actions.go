package iam

import (
	"slices"
	"strings"
)

// actions are each service's IAM actions: its API's operations and the
// permission-only actions (ECR's pull through cache and replication).
var actions = map[string][]string{
	"ecr": {
		"BatchCheckLayerAvailability", "BatchDeleteImage", "BatchGetImage", "BatchGetRepositoryScanningConfiguration",
		"BatchImportUpstreamImage", "CompleteLayerUpload", "CreatePullThroughCacheRule", "CreateRepository",
		"CreateRepositoryCreationTemplate", "DeleteLifecyclePolicy", "DeletePullThroughCacheRule", "DeleteRegistryPolicy",
		"DeleteRepository", "DeleteRepositoryCreationTemplate", "DeleteRepositoryPolicy", "DeleteSigningConfiguration",
		"DeregisterPullTimeUpdateExclusion", "DescribeImageReplicationStatus", "DescribeImageScanFindings",
		"DescribeImageSigningStatus", "DescribeImages", "DescribePullThroughCacheRules", "DescribeRegistry",
		"DescribeRepositories", "DescribeRepositoryCreationTemplates", "GetAccountSetting", "GetAuthorizationToken",
		"GetDownloadUrlForLayer", "GetImageCopyStatus", "GetLifecyclePolicy", "GetLifecyclePolicyPreview",
		"GetRegistryPolicy", "GetRegistryScanningConfiguration", "GetRepositoryPolicy", "GetSigningConfiguration",
		"InitiateLayerUpload", "ListImageReferrers", "ListImages", "ListPullTimeUpdateExclusions", "ListTagsForResource",
		"PutAccountSetting", "PutImage", "PutImageScanningConfiguration", "PutImageTagMutability", "PutLifecyclePolicy",
		"PutRegistryPolicy", "PutRegistryScanningConfiguration", "PutReplicationConfiguration", "PutSigningConfiguration",
		"RegisterPullTimeUpdateExclusion", "ReplicateImage", "SetRepositoryPolicy", "StartImageScan",
		"StartLifecyclePolicyPreview", "TagResource", "UntagResource", "UpdateImageStorageClass",
		"UpdatePullThroughCacheRule", "UpdateRepositoryCreationTemplate", "UploadLayerPart", "ValidatePullThroughCacheRule",
	},
	"ecr-public": {
		"BatchCheckLayerAvailability", "BatchDeleteImage", "CompleteLayerUpload", "CreateRepository", "DeleteRepository",
		"DeleteRepositoryPolicy", "DescribeImageTags", "DescribeImages", "DescribeRegistries", "DescribeRepositories",
		"GetAuthorizationToken", "GetRegistryCatalogData", "GetRepositoryCatalogData", "GetRepositoryPolicy",
		"InitiateLayerUpload", "ListTagsForResource", "PutImage", "PutRegistryCatalogData", "PutRepositoryCatalogData",
		"SetRepositoryPolicy", "TagResource", "UntagResource", "UploadLayerPart",
	},
}

// checkAction accepts "*", or "<service>:<name>" where name, with IAM's
// wildcards, names at least one of the service's actions (service and
// names match case-insensitively, as IAM matches them).
func checkAction(a, service string) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || !strings.EqualFold(svc, service) || name == "" {
		return invalid("action %q is not an action of %s", a, service)
	}
	if !slices.ContainsFunc(actions[service], func(known string) bool { return MatchFold(name, known) }) {
		return invalid("action %q names no action of %s", a, service)
	}
	return nil
}

// MatchFold reports whether s matches pattern case-insensitively, where
// '*' matches any run of characters and '?' any one: IAM's matching of
// actions and of String*Like and Arn*Like values.
func MatchFold(pattern, s string) bool {
	return match([]rune(strings.ToLower(pattern)), []rune(strings.ToLower(s)))
}

// Match is MatchFold, case-sensitive.
func Match(pattern, s string) bool { return match([]rune(pattern), []rune(s)) }

// match is glob matching with backtracking to the last '*' only, which is
// enough: a later '*' can absorb whatever an earlier one would have.
func match(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi, si = pi+1, si+1
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
