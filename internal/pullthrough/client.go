package pullthrough

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// client speaks the OCI distribution API to one upstream registry as one
// user (or anonymously), answering its challenges as docker does: Basic
// with the credentials, or a Bearer token from the challenge's realm,
// kept per scope.
type client struct {
	base  *url.URL
	creds *Credentials
	http  *http.Client

	mu     sync.Mutex
	tokens map[string]string // scope → bearer token
	basic  bool              // the upstream asked for Basic
}

func newClient(base *url.URL, creds *Credentials, hc *http.Client) *client {
	return &client{base: base, creds: creds, http: hc, tokens: map[string]string{}}
}

// errAuth is an upstream that refused the credentials (or their absence).
var errAuth = errors.New("the authentication to the upstream registry failed")

// do sends a request for path under scope (repository:<name>:pull, or ""
// for the base), authenticating as the upstream asks, and returns the
// response, whatever its status, but 401 after authenticating: errAuth.
func (c *client) do(ctx context.Context, method, path, scope string, header http.Header) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, c.base.JoinPath(path).String(), nil)
		if err != nil {
			return nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		c.authorize(req, scope)
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		challenge := resp.Header.Get("WWW-Authenticate")
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if attempt > 0 {
			return nil, errAuth
		}
		if err := c.answer(ctx, challenge, scope); err != nil {
			return nil, err
		}
	}
}

func (c *client) authorize(req *http.Request, scope string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tok, ok := c.tokens[scope]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if c.basic && c.creds != nil {
		req.SetBasicAuth(c.creds.Username, c.creds.AccessToken)
	}
}

// answer meets a 401's challenge: a Basic one by sending the credentials
// from then on, a Bearer one by fetching a token for scope.
func (c *client) answer(ctx context.Context, challenge, scope string) error {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if c.creds == nil {
			return errAuth
		}
		c.mu.Lock()
		c.basic = true
		c.mu.Unlock()
		return nil
	case "bearer":
	default:
		return fmt.Errorf("%w: the upstream answered 401 with the challenge %q", errAuth, challenge)
	}
	realm, err := url.Parse(params["realm"])
	if err != nil || (realm.Scheme != "https" && realm.Scheme != "http") {
		return fmt.Errorf("%w: the token realm %q is not a URL", errAuth, params["realm"])
	}
	q := realm.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return err
	}
	if c.creds != nil {
		req.SetBasicAuth(c.creds.Username, c.creds.AccessToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: the token endpoint answered %s", errAuth, resp.Status)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return fmt.Errorf("the token endpoint's answer: %w", err)
	}
	if tok.Token == "" {
		tok.Token = tok.AccessToken
	}
	if tok.Token == "" {
		return fmt.Errorf("%w: the token endpoint gave no token", errAuth)
	}
	c.mu.Lock()
	c.tokens[scope] = tok.Token
	c.mu.Unlock()
	return nil
}

// parseChallenge splits a WWW-Authenticate value into its scheme and
// parameters (quoted values unquoted).
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(after, `"`) {
			end := strings.Index(after[1:], `"`)
			if end < 0 {
				v, rest = after[1:], ""
			} else {
				v, rest = after[1:1+end], after[2+end:]
			}
		} else {
			v, rest, _ = strings.Cut(after, ",")
		}
		params[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return scheme, params
}

// ping checks that the upstream answers /v2/ to these credentials.
func (c *client) ping(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodGet, "/v2/", "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the upstream registry answered GET /v2/ with %s", resp.Status)
	}
	return nil
}
