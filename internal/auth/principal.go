package auth

import (
	"net"
	"net/http"

	"github.com/ecrd/ecrd/internal/registry"
)

// Principal is whom a request authenticated with c acts for, as the core
// evaluates it: the key's identity and policies, and where the request
// came from (aws:SourceIp is the peer's address; aws:SecureTransport
// whether it came over TLS).
func Principal(c Credential, r *http.Request) registry.Principal {
	id := c.Identity
	if id == nil {
		id = KeyUser(c.AccountID, c.AccessKeyID, c.ReadOnly)
	}
	p := registry.Principal{
		Account: registry.RegistryID(c.AccountID), AccessKeyID: c.AccessKeyID,
		PrincipalARN: id.ARN, RoleARN: id.RoleARN, Type: id.Type, UserName: id.Name,
		Policies: id.Policies, PolicyVersion: id.PolicyVersion,
	}
	return WithSource(p, r)
}

// WithSource sets where r came from on p: the peer, or the client a
// trusted proxy names (Forwarded).
func WithSource(p registry.Principal, r *http.Request) registry.Principal {
	if s, ok := r.Context().Value(sourceKey{}).(source); ok {
		p.SourceIP, p.Secure = s.addr, s.secure
		return p
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		p.SourceIP = host
	}
	p.Secure = r.TLS != nil
	return p
}
