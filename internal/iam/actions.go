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
	if ascii(pattern) && ascii(s) {
		return matchASCII(pattern, s, true)
	}
	return match([]rune(strings.ToLower(pattern)), []rune(strings.ToLower(s)))
}

// Match is MatchFold, case-sensitive.
func Match(pattern, s string) bool {
	if ascii(pattern) && ascii(s) {
		return matchASCII(pattern, s, false)
	}
	return match([]rune(pattern), []rune(s))
}

// ascii reports whether s is ASCII alone, where a byte is a character and
// matching needs no conversion (ARNs and actions always are: this is the
// path every request takes).
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// matchASCII is match on ASCII strings' bytes, folding case when fold.
func matchASCII(p, s string, fold bool) bool {
	return glob(len(p), len(s), func(i int) byte { return p[i] }, func(pi, si int) bool {
		if fold {
			return lower(p[pi]) == lower(s[si])
		}
		return p[pi] == s[si]
	})
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// match is glob matching of characters.
func match(p, s []rune) bool {
	return glob(len(p), len(s), func(i int) byte {
		if p[i] == '*' || p[i] == '?' {
			return byte(p[i])
		}
		return 0
	}, func(pi, si int) bool { return p[pi] == s[si] })
}

// glob matches a pattern of np characters against a text of ns: wild
// gives the pattern's character i where it is '*' or '?', same whether
// pattern character pi is text character si. It backtracks to the last
// '*' only, which is enough: a later '*' can absorb whatever an earlier
// one would have.
func glob(np, ns int, wild func(i int) byte, same func(pi, si int) bool) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < ns {
		switch {
		case pi < np && wild(pi) != '*' && (wild(pi) == '?' || same(pi, si)):
			pi, si = pi+1, si+1
		case pi < np && wild(pi) == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < np && wild(pi) == '*' {
		pi++
	}
	return pi == np
}
