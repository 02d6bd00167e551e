package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestEveryOperationAnswered walks every operation of the ECR and ECR
// Public models (the botocore models ecrd serves, as trimmed into the
// repository) and sends each, signed, with an empty input: each must be
// answered by its operation, with a result or the operation's own error,
// never UnknownOperationException nor a server error.
func TestEveryOperationAnswered(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, svc := range []struct {
		model, signingName string
		ops                int
	}{
		{"../internal/api/ecr/model.json", "ecr", 58},
		{"../internal/api/ecrpublic/model.json", "ecr-public", 23},
	} {
		raw, err := os.ReadFile(svc.model)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Metadata   struct{ TargetPrefix string }
			Operations map[string]json.RawMessage
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		var names []string
		for name := range m.Operations {
			names = append(names, name)
		}
		slices.Sort(names)
		answered := 0
		for _, op := range names {
			req, err := http.NewRequest("POST", s.URL+"/", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", m.Metadata.TargetPrefix+"."+op)
			sum := sha256.Sum256([]byte("{}"))
			if err := v4.NewSigner().SignHTTP(t.Context(), testCreds, req, hex.EncodeToString(sum[:]), svc.signingName, "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
			status, typ, msg := rawCall(t, req)
			if typ == "UnknownOperationException" || status >= 500 {
				t.Errorf("%s %s: %d %s %q", svc.signingName, op, status, typ, msg)
				continue
			}
			answered++
		}
		t.Logf("%s: %d of %d operations answered", svc.signingName, answered, len(names))
		if len(names) != svc.ops || answered != svc.ops {
			t.Errorf("%s: %d of %d operations answered, want %d of %d", svc.signingName, answered, len(names), svc.ops, svc.ops)
		}
	}
}
