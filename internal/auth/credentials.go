package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Keyring holds the access keys ecrd accepts, by access key ID.
type Keyring struct {
	keys map[string]Credential
	// principals are the ARNs of the users and roles the keys act for;
	// roles the names of each account's roles (assumed-role ARNs name
	// the role without its path).
	principals map[string]bool
	roles      map[string]bool // "<account>/<role name>"
}

// Exists implements registry.PrincipalDirectory: an account's root, and
// its users and roles as the file lists them (a role's sessions by the
// role), exist; known is false for an account the file does not serve.
func (k *Keyring) Exists(arn string) (exists, known bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return false, false
	}
	account, resource := parts[4], parts[5]
	served := false
	for _, c := range k.keys {
		if c.AccountID == account {
			served = true
			break
		}
	}
	if !served {
		return false, false
	}
	switch {
	case resource == "root":
		return true, true
	case strings.HasPrefix(resource, "assumed-role/"):
		role, _, _ := strings.Cut(strings.TrimPrefix(resource, "assumed-role/"), "/")
		return k.roles[account+"/"+role], true
	case strings.HasPrefix(resource, "federated-user/"):
		return true, true // made up at sign-in: nothing to look up
	}
	return k.principals[arn], true
}

// Lookup returns the credential of an access key; it fits Verifier.Lookup.
func (k *Keyring) Lookup(accessKeyID string) (Credential, bool) {
	c, ok := k.keys[accessKeyID]
	return c, ok
}

// Accounts returns how many distinct accounts the keyring serves.
func (k *Keyring) Accounts() int {
	seen := map[string]bool{}
	for _, c := range k.keys {
		seen[c.AccountID] = true
	}
	return len(seen)
}

// AccountIDs returns the accounts the keyring serves, in ascending order.
func (k *Keyring) AccountIDs() []string {
	seen := map[string]bool{}
	var ids []string
	for _, c := range k.keys {
		if !seen[c.AccountID] {
			seen[c.AccountID] = true
			ids = append(ids, c.AccountID)
		}
	}
	slices.Sort(ids)
	return ids
}

// DefaultAccessKey and DefaultSecretKey are the key ecrd accepts when no
// credentials file is given, the dummy pair local AWS tooling uses.
const (
	DefaultAccessKey = "test"
	DefaultSecretKey = "test"
)

// DefaultKeyring serves one account with the key test/test.
func DefaultKeyring(account string) *Keyring {
	k := &Keyring{keys: map[string]Credential{}}
	_ = k.add("default", Credential{AccessKeyID: DefaultAccessKey, SecretAccessKey: DefaultSecretKey, AccountID: account})
	return k
}

// credentialsFile is the JSON format of --credentials (README,
// "Credentials and identities"):
//
//	{"credentials": [
//	  {"accountId": "111111111111", "accessKeyId": "AKIA…", "secretAccessKey": "…",
//	   "sessionToken": "…", "readOnly": false}
//	 ],
//	 "users": [
//	  {"accountId": "111111111111", "name": "ci", "path": "/build/",
//	   "policies": [{"Version": "2012-10-17", "Statement": […]}],
//	   "accessKeys": [{"accessKeyId": "…", "secretAccessKey": "…"}]}
//	 ],
//	 "roles": [
//	  {"accountId": "222222222222", "name": "deploy", "readOnly": true,
//	   "sessions": [{"name": "ci-7", "accessKeyId": "…", "secretAccessKey": "…", "sessionToken": "…"}]}
//	 ]}
//
// A key of "credentials" is user/<its access key ID>, its account's
// administrator (or read-only). A user or role without "policies" is its
// account's administrator too, so that a file of keys keeps meaning what
// it meant before policies; "readOnly" is shorthand for ECR's read-only
// managed policy. An account may have several keys.
type credentialsFile struct {
	Credentials []struct {
		AccountID       string `json:"accountId"`
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		ReadOnly        bool   `json:"readOnly"`
	} `json:"credentials"`
	Users []principalFile `json:"users"`
	Roles []principalFile `json:"roles"`
}

var (
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	accessKeyRE = regexp.MustCompile(`^[A-Za-z0-9]{1,128}$`)
)

// LoadKeyring reads a credentials file, reporting every problem in it at
// once (naming entries by position and access key, never by secret).
func LoadKeyring(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f credentialsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: not a credentials file: %w", path, err)
	}
	k := &Keyring{keys: map[string]Credential{}}
	var errs []error
	for i, c := range f.Credentials {
		err := k.add(fmt.Sprintf("%s: credentials[%d]", path, i), Credential{
			AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
			AccountID: c.AccountID, ReadOnly: c.ReadOnly,
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	arns := map[string]bool{}
	for _, g := range []struct {
		kind string
		list []principalFile
	}{{"users", f.Users}, {"roles", f.Roles}} {
		kind, list := g.kind, g.list
		for i, pf := range list {
			where := fmt.Sprintf("%s: %s[%d]", path, kind, i)
			arn := kind + "/" + pf.AccountID + "/" + pf.Name
			if arns[arn] {
				errs = append(errs, fmt.Errorf("%s: %s %q of account %s is listed twice", where, kind[:len(kind)-1], pf.Name, pf.AccountID))
				continue
			}
			arns[arn] = true
			errs = append(errs, k.addPrincipal(where, pf, kind == "roles")...)
		}
	}
	if len(k.keys) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: lists no credentials", path))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return k, nil
}
