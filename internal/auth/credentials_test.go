package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecrd/ecrd/internal/auth"
)

func TestLoadKeyring(t *testing.T) {
	write := func(t *testing.T, s string) string {
		p := filepath.Join(t.TempDir(), "creds.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("Valid", func(t *testing.T) {
		k, err := auth.LoadKeyring(write(t, `{"credentials":[
			{"accountId":"111111111111","accessKeyId":"AKIDA","secretAccessKey":"sa"},
			{"accountId":"111111111111","accessKeyId":"AKIDR","secretAccessKey":"sr","readOnly":true},
			{"accountId":"222222222222","accessKeyId":"AKIDB","secretAccessKey":"sb","sessionToken":"tok"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := k.Lookup("AKIDR"); !ok || !c.ReadOnly || c.AccountID != "111111111111" || c.SecretAccessKey != "sr" {
			t.Fatalf("AKIDR = %+v, %v", c, ok)
		}
		if c, ok := k.Lookup("AKIDB"); !ok || c.SessionToken != "tok" {
			t.Fatalf("AKIDB = %+v, %v", c, ok)
		}
		if _, ok := k.Lookup("nope"); ok {
			t.Fatal("unknown key found")
		}
		if k.Accounts() != 2 {
			t.Fatalf("Accounts = %d", k.Accounts())
		}
	})
	t.Run("EveryProblem", func(t *testing.T) {
		_, err := auth.LoadKeyring(write(t, `{"credentials":[
			{"accountId":"1","accessKeyId":"A","secretAccessKey":"s"},
			{"accountId":"111111111111","accessKeyId":"bad key","secretAccessKey":"s"},
			{"accountId":"111111111111","accessKeyId":"B","secretAccessKey":""},
			{"accountId":"111111111111","accessKeyId":"C","secretAccessKey":"topsecret"},
			{"accountId":"111111111111","accessKeyId":"C","secretAccessKey":"topsecret"}]}`))
		if err == nil {
			t.Fatal("accepted")
		}
		for _, want := range []string{"credentials[0]: accountId", "credentials[1]: accessKeyId", "credentials[2] (B): secretAccessKey is empty", `credentials[4]: accessKeyId "C" is listed twice`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Error("a secret appears in the error")
		}
	})
	for name, body := range map[string]string{"Empty": `{"credentials":[]}`, "NotJSON": `credentials`, "UnknownField": `{"creds":[]}`} {
		t.Run(name, func(t *testing.T) {
			if _, err := auth.LoadKeyring(write(t, body)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("Default", func(t *testing.T) {
		c, ok := auth.DefaultKeyring("000000000000").Lookup("test")
		if !ok || c.SecretAccessKey != "test" || c.AccountID != "000000000000" || c.ReadOnly {
			t.Fatalf("default key = %+v, %v", c, ok)
		}
	})
}
