package auth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ecrd/ecrd/internal/registry"
)

func TestParseProxies(t *testing.T) {
	got, err := ParseProxies(" 10.0.0.0/8, 192.0.2.7 ,::1,2001:db8::/32,10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128", "2001:db8::/32", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("ParseProxies = %v; want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("ParseProxies[%d] = %v; want %v", i, got[i], want[i])
		}
	}
	if p, err := ParseProxies(""); err != nil || len(p) != 0 {
		t.Errorf(`ParseProxies("") = %v, %v; want none`, p, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0.1:80", "10.0.0.0/8,x"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) accepted", bad)
		}
	}
}

// TestForwarded: the source is the peer unless the peer is a trusted
// proxy; then the right-most untrusted X-Forwarded-For hop, stopping at
// a malformed one; X-Forwarded-Proto only from a trusted proxy.
func TestForwarded(t *testing.T) {
	trusted, err := ParseProxies("10.0.0.0/8,2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, peer   string
		xff, proto   []string
		tls          bool
		wantIP       string
		wantSecure   bool
		wantForwards bool
	}{
		{name: "untrusted peer: headers ignored", peer: "192.0.2.1:5555", xff: []string{"203.0.113.9"}, proto: []string{"https"}, wantIP: "192.0.2.1"},
		{name: "untrusted peer over TLS", peer: "192.0.2.1:5555", tls: true, wantIP: "192.0.2.1", wantSecure: true},
		{name: "trusted peer, no header", peer: "10.0.0.5:1", wantIP: "10.0.0.5", wantForwards: true},
		{name: "trusted peer names the client", peer: "10.0.0.5:1", xff: []string{"203.0.113.9"}, wantIP: "203.0.113.9", wantForwards: true},
		{name: "the client's own claims are left of the right-most untrusted hop", peer: "10.0.0.5:1", xff: []string{"198.51.100.1, 203.0.113.9"}, wantIP: "203.0.113.9", wantForwards: true},
		{name: "trusted hops are skipped", peer: "10.0.0.5:1", xff: []string{"203.0.113.9, 10.9.9.9", "10.0.0.7"}, wantIP: "203.0.113.9", wantForwards: true},
		{name: "a malformed hop ends the walk", peer: "10.0.0.5:1", xff: []string{"203.0.113.9, garbage, 10.0.0.7"}, wantIP: "10.0.0.7", wantForwards: true},
		{name: "every hop trusted: the left-most", peer: "10.0.0.5:1", xff: []string{"10.1.1.1, 10.2.2.2"}, wantIP: "10.1.1.1", wantForwards: true},
		{name: "IPv6 proxy and client", peer: "[2001:db8::1]:443", xff: []string{"2001:db8::42"}, wantIP: "2001:db8::42", wantForwards: true},
		{name: "IPv4-mapped peer", peer: "[::ffff:10.0.0.5]:1", xff: []string{"203.0.113.9"}, wantIP: "203.0.113.9", wantForwards: true},
		{name: "https from the proxy", peer: "10.0.0.5:1", xff: []string{"203.0.113.9"}, proto: []string{"https"}, wantIP: "203.0.113.9", wantSecure: true, wantForwards: true},
		{name: "the proxy's own (last) proto decides", peer: "10.0.0.5:1", proto: []string{"https, http"}, wantIP: "10.0.0.5", wantForwards: true},
		{name: "TLS to ecrd without a proto header", peer: "10.0.0.5:1", tls: true, wantIP: "10.0.0.5", wantSecure: true, wantForwards: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got registry.Principal
			var forwarded bool
			h := Forwarded(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = WithSource(registry.Principal{}, r)
				_, forwarded = ForwardedClient(r)
			}))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range c.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got.SourceIP != c.wantIP || got.Secure != c.wantSecure || forwarded != c.wantForwards {
				t.Errorf("source %q secure %v forwarded %v; want %q %v %v", got.SourceIP, got.Secure, forwarded, c.wantIP, c.wantSecure, c.wantForwards)
			}
		})
	}
}
