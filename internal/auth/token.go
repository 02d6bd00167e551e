package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Token errors. Verify returns them wrapped or as they are; match with
// errors.Is.
var (
	// ErrTokenInvalid: not a token this server issued, or altered.
	ErrTokenInvalid = errors.New("authorization token is invalid")
	// ErrTokenExpired: a genuine token past its expiry.
	ErrTokenExpired = errors.New("authorization token has expired")
	// ErrTokenAccount: a genuine token of another account.
	ErrTokenAccount = errors.New("authorization token is for another account")
)

// tokenPrefix versions the password format, so that a later format can be
// told apart and old tokens refused cleanly.
const tokenPrefix = "ecrd1."

// Tokens issues and verifies the passwords that GetAuthorizationToken hands
// out for docker login. A password is its claims signed with HMAC-SHA256
// under a server key that every replica shares (kept in the metadata
// store), so any replica verifies any token, across restarts, and nothing
// needs storing per token.
type Tokens struct {
	// Key signs tokens; at least 32 random bytes.
	Key []byte
	// TTL is how long a token is valid (ECR: 12 hours).
	TTL time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Claims are what a token asserts.
type Claims struct {
	Account     string `json:"a"`
	AccessKeyID string `json:"k"`
	ReadOnly    bool   `json:"ro,omitempty"`
	// Public marks a token of ECR Public's GetAuthorizationToken: it logs
	// in to the public /v2/ listener, and only there.
	Public    bool      `json:"p,omitempty"`
	ExpiresAt time.Time `json:"-"`
	Expires   int64     `json:"e"`
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Issue returns a password asserting the account, access key and read-only
// flag, valid for TTL, and when it expires.
func (t *Tokens) Issue(account, accessKeyID string, readOnly bool) (string, time.Time) {
	return t.issue(Claims{Account: account, AccessKeyID: accessKeyID, ReadOnly: readOnly})
}

// IssuePublic is Issue for ECR Public: the token logs in to the public
// registries' /v2/ listener instead of the private one.
func (t *Tokens) IssuePublic(account, accessKeyID string, readOnly bool) (string, time.Time) {
	return t.issue(Claims{Account: account, AccessKeyID: accessKeyID, ReadOnly: readOnly, Public: true})
}

func (t *Tokens) issue(claims Claims) (string, time.Time) {
	exp := t.now().Add(t.TTL).Truncate(time.Second)
	claims.Expires = exp.Unix()
	payload, _ := json.Marshal(claims) // a struct of strings, bool and int cannot fail
	body := tokenPrefix + base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(t.mac(body)), exp
}

// Verify checks a password: signed by this server's key, unexpired, and
// for account. It returns the claims of a valid token.
func (t *Tokens) Verify(password, account string) (Claims, error) {
	c, err := t.Parse(password)
	if err != nil {
		return c, err
	}
	if c.Account != account {
		return c, ErrTokenAccount
	}
	return c, nil
}

// Parse checks that a password is signed by this server's key and
// unexpired, and returns its claims; the caller decides which account it
// may act for (the /v2/ API serves the token's own account).
func (t *Tokens) Parse(password string) (Claims, error) {
	var c Claims
	body, sig, ok := cutLast(password, ".")
	if !ok || !strings.HasPrefix(body, tokenPrefix) {
		return c, ErrTokenInvalid
	}
	// Strict decoding: otherwise the unused low bits of the last character
	// could change without changing the bytes, and an altered token verify.
	got, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || !hmac.Equal(got, t.mac(body)) {
		return c, ErrTokenInvalid
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(body, tokenPrefix))
	if err != nil || json.Unmarshal(payload, &c) != nil {
		return c, ErrTokenInvalid
	}
	c.ExpiresAt = time.Unix(c.Expires, 0).UTC()
	if !t.now().Before(c.ExpiresAt) {
		return c, ErrTokenExpired
	}
	return c, nil
}

// DecodeAuthorizationToken splits an authorizationToken (base64 of
// "AWS:<password>", as GetAuthorizationToken returns and docker sends in
// Basic auth) into user and password.
func DecodeAuthorizationToken(token string) (user, password string, err error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		return "", "", ErrTokenInvalid
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", ErrTokenInvalid
	}
	return user, password, nil
}

// EncodeAuthorizationToken is the inverse of DecodeAuthorizationToken for
// user "AWS", the only user ECR knows.
func EncodeAuthorizationToken(password string) string {
	return base64.StdEncoding.EncodeToString([]byte("AWS:" + password))
}

func (t *Tokens) mac(body string) []byte {
	m := hmac.New(sha256.New, t.Key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
