package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testCreds is the key a server without --credentials accepts.
var testCreds = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}

// signRequest signs req as the AWS SDK for Go v2 does for ECR, at time at.
func signRequest(t *testing.T, req *http.Request, body []byte, creds aws.Credentials, region string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "ecr", region, at); err != nil {
		t.Fatal(err)
	}
}
