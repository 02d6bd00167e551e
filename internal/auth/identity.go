package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/ecrd/ecrd/internal/iam"
)

// Identity is an IAM principal that access keys act for: a user, or a
// session of a role.
type Identity struct {
	// ARN names the principal in policies and in refusals:
	// arn:aws:iam::<account>:user/<path><name>, or for a role session
	// arn:aws:sts::<account>:assumed-role/<role>/<session>.
	ARN string
	// RoleARN is a session's role, arn:aws:iam::<account>:role/<path><role>:
	// a resource policy naming the role applies to its sessions.
	RoleARN string
	// Type is aws:PrincipalType: "User" or "AssumedRole".
	Type string
	// Name is aws:username (users only).
	Name string
	// Policies are the principal's identity-based policies.
	Policies []iam.Policy
	// PolicyVersion names Policies' content (registry.Principal's).
	PolicyVersion string
}

// KeyUser is the identity of a key listed under "credentials", which
// names no user: user/<access key ID>, its account's administrator, or
// read-only.
func KeyUser(account, accessKeyID string, readOnly bool) *Identity {
	p := iam.AdministratorPolicy()
	if readOnly {
		p = iam.ReadOnlyPolicy()
	}
	return &Identity{
		ARN: "arn:aws:iam::" + account + ":user/" + accessKeyID, Type: "User", Name: accessKeyID,
		Policies: []iam.Policy{p}, PolicyVersion: p.ID,
	}
}

// principalFile is a user or role of the credentials file.
type principalFile struct {
	AccountID string `json:"accountId"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	ReadOnly  bool   `json:"readOnly"`
	// Policies are policy documents, as JSON objects or as strings.
	// Absent (or null) is the account's administrator, as a key of
	// "credentials" is; an empty list grants nothing.
	Policies   *[]json.RawMessage `json:"policies"`
	AccessKeys []keyFile          `json:"accessKeys"` // users
	Sessions   []keyFile          `json:"sessions"`   // roles
}

// keyFile is an access key of a user, or a role session's.
type keyFile struct {
	Name            string `json:"name"` // a role session's name
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
}

var (
	// IAM's names of users, roles and sessions, and paths.
	iamNameRE     = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	iamPathRE     = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
)

// identityPolicies parses a principal's policies, or gives the
// shorthand's, and names their version: the managed policy's ID, or a
// digest of the documents.
func identityPolicies(pf principalFile) ([]iam.Policy, string, error) {
	switch {
	case pf.ReadOnly && pf.Policies != nil:
		return nil, "", fmt.Errorf("readOnly and policies together: readOnly is shorthand for a read-only policy")
	case pf.ReadOnly:
		return []iam.Policy{iam.ReadOnlyPolicy()}, iam.ReadOnlyPolicy().ID, nil
	case pf.Policies == nil:
		return []iam.Policy{iam.AdministratorPolicy()}, iam.AdministratorPolicy().ID, nil
	}
	policies := []iam.Policy{}
	digest := sha256.New()
	for i, raw := range *pf.Policies {
		text := string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			text = s
		}
		p, err := iam.ParseIdentity(text)
		if err != nil {
			return nil, "", fmt.Errorf("policies[%d]: %w", i, err)
		}
		policies = append(policies, p)
		fmt.Fprintf(digest, "%d:%s", len(text), text)
	}
	return policies, "sha256:" + hex.EncodeToString(digest.Sum(nil)), nil
}

// addPrincipal checks a user (role false) or role of the file and adds
// its keys, returning every problem found.
func (k *Keyring) addPrincipal(where string, pf principalFile, role bool) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...)))
	}
	path := pf.Path
	if path == "" {
		path = "/"
	}
	switch {
	case !accountRE.MatchString(pf.AccountID):
		fail("accountId %q must be 12 digits", pf.AccountID)
	case !iamNameRE.MatchString(pf.Name):
		fail("name %q must be 1 to 64 letters, digits and +=,.@_-", pf.Name)
	case !iamPathRE.MatchString(path) || len(path) > 512:
		fail("path %q must begin and end with /", pf.Path)
	}
	policies, version, err := identityPolicies(pf)
	if err != nil {
		fail("%v", err)
	}
	keys := pf.AccessKeys
	if role {
		keys = pf.Sessions
		if len(pf.AccessKeys) > 0 {
			fail("a role has sessions, not accessKeys")
		}
	} else if len(pf.Sessions) > 0 {
		fail("a user has accessKeys, not sessions")
	}
	if len(errs) > 0 {
		return errs
	}
	for i, kf := range keys {
		kwhere := fmt.Sprintf("%s.accessKeys[%d]", where, i)
		id := &Identity{Type: "User", Name: pf.Name, Policies: policies, PolicyVersion: version,
			ARN: "arn:aws:iam::" + pf.AccountID + ":user" + path + pf.Name}
		if role {
			kwhere = fmt.Sprintf("%s.sessions[%d]", where, i)
			if !sessionNameRE.MatchString(kf.Name) {
				errs = append(errs, fmt.Errorf("%s: name %q must be 2 to 64 letters, digits and +=,.@_-", kwhere, kf.Name))
				continue
			}
			// An assumed role's ARN has no path; the role's has.
			id = &Identity{Type: "AssumedRole", Policies: policies, PolicyVersion: version,
				ARN:     "arn:aws:sts::" + pf.AccountID + ":assumed-role/" + pf.Name + "/" + kf.Name,
				RoleARN: "arn:aws:iam::" + pf.AccountID + ":role" + path + pf.Name}
		}
		if err := k.add(kwhere, Credential{
			AccessKeyID: kf.AccessKeyID, SecretAccessKey: kf.SecretAccessKey, SessionToken: kf.SessionToken,
			AccountID: pf.AccountID, ReadOnly: pf.ReadOnly, Identity: id,
		}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(keys) == 0 {
		fail("has no keys")
	}
	return errs
}

// add checks a key and adds it.
func (k *Keyring) add(where string, c Credential) error {
	switch {
	case !accountRE.MatchString(c.AccountID):
		return fmt.Errorf("%s: accountId %q must be 12 digits", where, c.AccountID)
	case !accessKeyRE.MatchString(c.AccessKeyID):
		return fmt.Errorf("%s: accessKeyId %q must be 1 to 128 letters and digits", where, c.AccessKeyID)
	case c.SecretAccessKey == "":
		return fmt.Errorf("%s (%s): secretAccessKey is empty", where, c.AccessKeyID)
	}
	if _, dup := k.keys[c.AccessKeyID]; dup {
		return fmt.Errorf("%s: accessKeyId %q is listed twice", where, c.AccessKeyID)
	}
	if c.Identity == nil {
		c.Identity = KeyUser(c.AccountID, c.AccessKeyID, c.ReadOnly)
	}
	k.keys[c.AccessKeyID] = c
	if k.principals == nil {
		k.principals, k.roles = map[string]bool{}, map[string]bool{}
	}
	k.principals[c.Identity.ARN] = true
	if r := c.Identity.RoleARN; r != "" {
		k.principals[r] = true
		k.roles[c.AccountID+"/"+r[strings.LastIndex(r, "/")+1:]] = true
	}
	return nil
}
