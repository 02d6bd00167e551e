package pullthrough

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// upstreamKind is one of the upstream registries ECR caches from.
type upstreamKind struct {
	name string
	// url is the registry's only URL; match, when set, accepts the URLs
	// of a kind with many (one per Azure registry, ECR account and
	// region).
	url   string
	match *regexp.Regexp
	// auth: a rule needs a credentialArn.
	auth bool
}

var upstreamKinds = []upstreamKind{
	{name: "ecr-public", url: "public.ecr.aws"},
	{name: "k8s", url: "registry.k8s.io"},
	{name: "quay", url: "quay.io"},
	{name: "docker-hub", url: "registry-1.docker.io", auth: true},
	{name: "github-container-registry", url: "ghcr.io", auth: true},
	{name: "gitlab-container-registry", url: "registry.gitlab.com", auth: true},
	{name: "chainguard", url: "cgr.dev", auth: true},
	{name: "azure-container-registry", match: regexp.MustCompile(`^[a-z0-9]{5,50}\.azurecr\.io$`), auth: true},
	{name: "ecr", match: regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$`)},
}

// kindOf returns the kind a rule's upstream URL names.
func kindOf(u string) (upstreamKind, bool) {
	for _, k := range upstreamKinds {
		if u == k.url || k.match != nil && k.match.MatchString(u) {
			return k, true
		}
	}
	return upstreamKind{}, false
}

// Upstreams maps an upstream registry URL, as rules name it
// (registry-1.docker.io), to the base URL ecrd reaches it at: a mirror, a
// proxy, a test server on loopback. An upstream it does not list is
// reached at https://<its URL>.
type Upstreams map[string]*url.URL

// ParseUpstreams reads --pull-through-upstreams: comma-separated
// <upstream URL>=<base URL> pairs, the base URL http or https with no
// path.
func ParseUpstreams(s string) (Upstreams, error) {
	out := Upstreams{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, base, ok := strings.Cut(pair, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: want <upstream registry URL>=<base URL>", pair)
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("%q: the base URL must be http(s)://host[:port]", pair)
		}
		u.Path = ""
		out[name] = u
	}
	return out, nil
}

// base is where the upstream of a rule's URL is reached.
func (us Upstreams) base(upstreamURL string) *url.URL {
	if u, ok := us[upstreamURL]; ok {
		return u
	}
	return &url.URL{Scheme: "https", Host: upstreamURL}
}
