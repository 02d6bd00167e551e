package iam

// AdministratorPolicy is the identity policy of a key that names none:
// every action of ECR and ECR Public (and ECR Public's bearer token, and
// signing with AWS Signer's profiles, which managed signing asks) on
// every resource, as the account's administrator has.
func AdministratorPolicy() Policy {
	return Policy{Version: "2012-10-17", ID: "ecrd-administrator", Statements: []Statement{{
		Sid: "Administrator", Effect: "Allow",
		Action:   []string{"ecr:*", "ecr-public:*", "sts:GetServiceBearerToken", "signer:SignPayload"},
		Resource: []string{"*"},
	}}}
}

// ReadOnlyPolicy is what readOnly stands for: AWS's managed policies
// AmazonEC2ContainerRegistryReadOnly and AmazonElasticContainerRegistryPublicReadOnly,
// which read and pull and change nothing.
func ReadOnlyPolicy() Policy {
	return Policy{Version: "2012-10-17", ID: "ecrd-read-only", Statements: []Statement{{
		Sid: "ReadOnly", Effect: "Allow", Action: readOnlyActions(), Resource: []string{"*"},
	}}}
}

// ReadOnlyRestriction denies what ReadOnlyPolicy does not allow: added to
// a principal's policies, it leaves it what it may read, no more.
func ReadOnlyRestriction() Policy {
	return Policy{Version: "2012-10-17", ID: "ecrd-read-only-restriction", Statements: []Statement{{
		Sid: "ReadOnly", Effect: "Deny", NotAction: readOnlyActions(), Resource: []string{"*"},
	}}}
}

func readOnlyActions() []string {
	return []string{
		"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
		"ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages",
		"ecr:BatchGetImage", "ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource",
		"ecr:DescribeImageScanFindings", "ecr:DescribeRegistry", "ecr:GetRegistryPolicy", "ecr:ListImageReferrers",
		"ecr-public:GetAuthorizationToken", "ecr-public:BatchCheckLayerAvailability", "ecr-public:GetRepositoryPolicy",
		"ecr-public:DescribeRepositories", "ecr-public:DescribeRegistries", "ecr-public:DescribeImages",
		"ecr-public:DescribeImageTags", "ecr-public:GetRepositoryCatalogData", "ecr-public:GetRegistryCatalogData",
		"ecr-public:ListTagsForResource", "sts:GetServiceBearerToken",
	}
}
