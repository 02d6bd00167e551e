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

// TestLoadIdentities: users and roles, with their ARNs, keys and
// policies; a principal without policies is its account's administrator,
// one with an empty list may do nothing, readOnly is the read-only policy.
func TestLoadIdentities(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds.json")
	body := `{
	 "credentials": [{"accountId":"111111111111","accessKeyId":"AKIDLEGACY","secretAccessKey":"s"}],
	 "users": [
	  {"accountId":"111111111111","name":"ci","path":"/build/",
	   "policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:*:111111111111:repository/team-a/*"}]},
	               "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}"],
	   "accessKeys":[{"accessKeyId":"AKIDCI","secretAccessKey":"s1"},{"accessKeyId":"AKIDCI2","secretAccessKey":"s2"}]},
	  {"accountId":"111111111111","name":"nobody","policies":[],"accessKeys":[{"accessKeyId":"AKIDNONE","secretAccessKey":"s"}]},
	  {"accountId":"111111111111","name":"admin","accessKeys":[{"accessKeyId":"AKIDADMIN","secretAccessKey":"s"}]}
	 ],
	 "roles": [
	  {"accountId":"222222222222","name":"deploy","path":"/svc/","readOnly":true,
	   "sessions":[{"name":"ci-7","accessKeyId":"ASIADEPLOY","secretAccessKey":"s","sessionToken":"tok"}]}
	 ]}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := auth.LoadKeyring(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, arn, role, typ string
		policies            int
		firstID             string
	}{
		{"AKIDLEGACY", "arn:aws:iam::111111111111:user/AKIDLEGACY", "", "User", 1, "ecrd-administrator"},
		{"AKIDCI", "arn:aws:iam::111111111111:user/build/ci", "", "User", 2, ""},
		{"AKIDCI2", "arn:aws:iam::111111111111:user/build/ci", "", "User", 2, ""},
		{"AKIDNONE", "arn:aws:iam::111111111111:user/nobody", "", "User", 0, ""},
		{"AKIDADMIN", "arn:aws:iam::111111111111:user/admin", "", "User", 1, "ecrd-administrator"},
		{"ASIADEPLOY", "arn:aws:sts::222222222222:assumed-role/deploy/ci-7", "arn:aws:iam::222222222222:role/svc/deploy", "AssumedRole", 1, "ecrd-read-only"},
	} {
		got, ok := k.Lookup(c.key)
		if !ok || got.Identity == nil {
			t.Fatalf("%s: %+v, %v", c.key, got, ok)
		}
		id := got.Identity
		if id.ARN != c.arn || id.RoleARN != c.role || id.Type != c.typ || len(id.Policies) != c.policies ||
			c.firstID != "" && id.Policies[0].ID != c.firstID {
			t.Errorf("%s: identity %+v; want %s, role %q, %s, %d policies (%s)", c.key, id, c.arn, c.role, c.typ, c.policies, c.firstID)
		}
	}
	if c, _ := k.Lookup("ASIADEPLOY"); c.SessionToken != "tok" || c.AccountID != "222222222222" {
		t.Errorf("the session's key: %+v", c)
	}
}

// TestLoadIdentitiesRefused: every problem of users and roles is reported
// at once, secrets never.
func TestLoadIdentitiesRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds.json")
	body := `{"users": [
	  {"accountId":"1","name":"a","accessKeys":[{"accessKeyId":"K1","secretAccessKey":"topsecret"}]},
	  {"accountId":"111111111111","name":"bad name","accessKeys":[{"accessKeyId":"K2","secretAccessKey":"s"}]},
	  {"accountId":"111111111111","name":"p","policies":[{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}]}],"accessKeys":[{"accessKeyId":"K3","secretAccessKey":"s"}]},
	  {"accountId":"111111111111","name":"q","policies":[{"Statement":[{"Effect":"Allow","Action":"ecr:NoSuchAction","Resource":"*"}]}],"accessKeys":[{"accessKeyId":"K4","secretAccessKey":"s"}]},
	  {"accountId":"111111111111","name":"r","readOnly":true,"policies":[],"accessKeys":[{"accessKeyId":"K5","secretAccessKey":"s"}]},
	  {"accountId":"111111111111","name":"nokeys"},
	  {"accountId":"111111111111","name":"dup","accessKeys":[{"accessKeyId":"K8","secretAccessKey":"s"},{"accessKeyId":"K8","secretAccessKey":"s"}]},
	  {"accountId":"111111111111","name":"dup","accessKeys":[{"accessKeyId":"K6","secretAccessKey":"s"}]}
	 ],
	 "roles": [{"accountId":"111111111111","name":"role","sessions":[{"name":"x","accessKeyId":"K7","secretAccessKey":"s"}]}]}`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := auth.LoadKeyring(p)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`users[0]: accountId "1"`, `users[1]: name "bad name"`, "users[2]: policies[0]", "users[3]: policies[0]",
		"users[4]: readOnly and policies together", "users[5]: has no keys", `users[6].accessKeys[1]: accessKeyId "K8" is listed twice`,
		`users[7]: user "dup" of account 111111111111 is listed twice`, `roles[0].sessions[0]: name "x"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Error("a secret appears in the error")
	}
}
