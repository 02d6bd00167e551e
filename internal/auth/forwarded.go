package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseProxies parses a comma-separated list of addresses and CIDR
// prefixes: the proxies whose X-Forwarded-For and X-Forwarded-Proto a
// server believes.
func ParseProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// source is where a request came from, as the trusted proxies said.
type source struct {
	addr   string
	secure bool
}

type sourceKey struct{}

// Forwarded makes requests that arrive from a trusted proxy carry the
// client the proxy names: the right-most address of X-Forwarded-For that
// is not itself a trusted proxy (each proxy appends the address it heard
// from, so entries to its left are the client's word, and only the
// right-most untrusted one is a proxy's), and X-Forwarded-Proto https as
// TLS. That is aws:SourceIp and aws:SecureTransport behind a load
// balancer. Requests from anyone else keep their peer's address,
// whatever they send. With no trusted proxies, next is returned as is.
func Forwarded(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := peerAddr(r)
		if !ok || !isTrusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		client := peer
		hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(hops[i])
			if err != nil {
				break // a malformed hop: believe no further
			}
			client = a.Unmap()
			if !isTrusted(client) {
				break
			}
		}
		secure := r.TLS != nil
		if protos := forwardedFor(r.Header.Values("X-Forwarded-Proto")); len(protos) > 0 {
			secure = strings.EqualFold(protos[len(protos)-1], "https")
		}
		ctx := context.WithValue(r.Context(), sourceKey{}, source{client.String(), secure})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ForwardedClient is the client a trusted proxy named for r (Forwarded);
// false when r came from no trusted proxy.
func ForwardedClient(r *http.Request) (string, bool) {
	s, ok := r.Context().Value(sourceKey{}).(source)
	return s.addr, ok
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// forwardedFor splits header values on commas, trimmed, in order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(item))
		}
	}
	return out
}
