package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
)

// Keyring holds the access keys ecrd accepts, by access key ID.
type Keyring struct {
	keys map[string]Credential
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
	return &Keyring{keys: map[string]Credential{
		DefaultAccessKey: {AccessKeyID: DefaultAccessKey, SecretAccessKey: DefaultSecretKey, AccountID: account},
	}}
}

// credentialsFile is the JSON format of --credentials:
//
//	{"credentials": [
//	  {"accountId": "111111111111", "accessKeyId": "AKIA…", "secretAccessKey": "…",
//	   "sessionToken": "…", "readOnly": false}
//	]}
//
// sessionToken and readOnly are optional. An account may have several keys.
type credentialsFile struct {
	Credentials []struct {
		AccountID       string `json:"accountId"`
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		ReadOnly        bool   `json:"readOnly"`
	} `json:"credentials"`
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
		where := fmt.Sprintf("%s: credentials[%d]", path, i)
		switch {
		case !accountRE.MatchString(c.AccountID):
			errs = append(errs, fmt.Errorf("%s: accountId %q must be 12 digits", where, c.AccountID))
		case !accessKeyRE.MatchString(c.AccessKeyID):
			errs = append(errs, fmt.Errorf("%s: accessKeyId %q must be 1 to 128 letters and digits", where, c.AccessKeyID))
		case c.SecretAccessKey == "":
			errs = append(errs, fmt.Errorf("%s (%s): secretAccessKey is empty", where, c.AccessKeyID))
		case k.keys[c.AccessKeyID] != (Credential{}):
			errs = append(errs, fmt.Errorf("%s: accessKeyId %q is listed twice", where, c.AccessKeyID))
		default:
			k.keys[c.AccessKeyID] = Credential{
				AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
				AccountID: c.AccountID, ReadOnly: c.ReadOnly,
			}
		}
	}
	if len(f.Credentials) == 0 {
		errs = append(errs, fmt.Errorf("%s: lists no credentials", path))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return k, nil
}
