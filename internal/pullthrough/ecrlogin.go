package pullthrough

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/ecrd/ecrd/internal/registry"
)

// An upstream ECR registry is logged in to as ECR does it: as the rule's
// customRoleArn, with a GetAuthorizationToken of the upstream's API, whose
// password /v2/ then takes. ECR assumes the role; ecrd reads the role's
// keys from the secrets file, keyed by the role's ARN:
//
//	{"arn:aws:iam::111111111111:role/cache": {"accessKeyId": "AKIA...", "secretAccessKey": "...", "sessionToken": ""}}

// RoleKeys are the access keys ecrd acts with as a rule's role.
type RoleKeys struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
}

// roleKeys returns the keys of roleARN, a role of reg's account.
func (s Secrets) roleKeys(reg registry.RegistryID, roleARN string) (RoleKeys, error) {
	var file map[string]json.RawMessage
	data, err := os.ReadFile(s.Path)
	if err == nil {
		err = json.Unmarshal(data, &file)
	}
	if s.Path == "" || err != nil {
		return RoleKeys{}, fmt.Errorf("%w: the keys of the role %s can't be read from the secrets file: %v", errAuth, roleARN, err)
	}
	var k RoleKeys
	raw, ok := file[roleARN]
	if ok {
		err = json.Unmarshal(raw, &k)
	}
	if !ok || err != nil || k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return RoleKeys{}, fmt.Errorf("%w: the secrets file holds no accessKeyId and secretAccessKey for the role %s", errAuth, roleARN)
	}
	return k, nil
}

// ecrRegion is the region of an ECR registry URL
// (<account>.dkr.ecr.<region>.amazonaws.com).
func ecrRegion(upstreamURL string) string {
	parts := strings.Split(upstreamURL, ".")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

// ecrLogin gets the /v2/ password of the ECR registry at base with keys.
func ecrLogin(ctx context.Context, hc *http.Client, base *url.URL, region string, keys RoleKeys) (string, error) {
	c := ecr.New(ecr.Options{Region: region, BaseEndpoint: aws.String(base.String()), HTTPClient: hc, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(keys.AccessKeyID, keys.SecretAccessKey, keys.SessionToken)})
	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae):
		return "", fmt.Errorf("%w: GetAuthorizationToken: %s", errAuth, ae.ErrorMessage())
	case err != nil:
		return "", err
	case len(out.AuthorizationData) == 0:
		return "", fmt.Errorf("%w: GetAuthorizationToken answered no token", errAuth)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	user, pw, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || user != "AWS" {
		return "", fmt.Errorf("%w: GetAuthorizationToken answered a token that is not AWS:<password>", errAuth)
	}
	return pw, nil
}
