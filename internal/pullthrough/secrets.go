package pullthrough

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ecrd/ecrd/internal/registry"
)

// ECR reads an upstream's credentials from AWS Secrets Manager by the
// rule's credentialArn. ecrd reads them from a local file keyed by the
// same ARNs, read on every use so that a rotated credential is used from
// the next pull on:
//
//	{
//	  "arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/docker-hub": {
//	    "username": "me", "accessToken": "dckr_pat_..."
//	  }
//	}
//
// An entry may name the KMS key that encrypts it ("kmsKeyId"): ECR can
// decrypt only secrets under the AWS managed key (aws/secretsmanager),
// and so any other key is UnableToDecryptSecretValue, as in ECR.

// Credentials are an upstream registry's user name and access token.
type Credentials struct {
	Username    string `json:"username"`
	AccessToken string `json:"accessToken"`
	KMSKeyID    string `json:"kmsKeyId"`
}

// Secrets reads the secrets file.
type Secrets struct {
	// Path is the file; "" has no secrets.
	Path string
	// Region is the region ecrd answers as: a secret is read in the
	// rule's own account and region, as ECR reads it.
	Region string
}

// errMalformed is a secret that is there but does not hold credentials.
var errMalformed = errors.New("the secret does not hold a JSON object with username and accessToken")

// Get returns the credentials arn names, for a rule of registry reg.
// Errors: SecretNotFound, UnableToAccessSecret, UnableToDecryptSecretValue,
// and errMalformed (for Validate to report).
func (s Secrets) Get(reg registry.RegistryID, arn string) (Credentials, error) {
	notFound := registry.Errorf(registry.CodeSecretNotFound,
		"The secret %s can't be found in the account %s and region %s", arn, reg, s.Region)
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[3] != s.Region || parts[4] != string(reg) {
		return Credentials{}, notFound
	}
	if s.Path == "" {
		return Credentials{}, notFound
	}
	data, err := os.ReadFile(s.Path)
	if err != nil {
		return Credentials{}, registry.Errorf(registry.CodeUnableToAccessSecret, "The secret %s can't be read: %v", arn, err)
	}
	var file map[string]json.RawMessage
	if err := json.Unmarshal(data, &file); err != nil {
		return Credentials{}, registry.Errorf(registry.CodeUnableToAccessSecret,
			"The secret %s can't be read: the secrets file is not a JSON object keyed by secret ARN: %v", arn, err)
	}
	raw, ok := file[arn]
	if !ok {
		return Credentials{}, notFound
	}
	var c Credentials
	if err := json.Unmarshal(raw, &c); err != nil {
		return Credentials{}, fmt.Errorf("%s: %w", arn, errMalformed)
	}
	if c.KMSKeyID != "" && !strings.HasSuffix(c.KMSKeyID, "alias/aws/secretsmanager") {
		return Credentials{}, registry.Errorf(registry.CodeUnableToDecryptSecretValue,
			"The secret %s is encrypted with the KMS key %s; ECR can decrypt only secrets encrypted with the AWS managed key aws/secretsmanager", arn, c.KMSKeyID)
	}
	if c.Username == "" || c.AccessToken == "" {
		return Credentials{}, fmt.Errorf("%s: %w", arn, errMalformed)
	}
	return c, nil
}
