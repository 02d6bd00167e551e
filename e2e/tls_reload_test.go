package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecrd/ecrd/internal/tlstest"
)

// presented is the serial number of the certificate a new connection to
// base (an https:// URL) is shown, checked against p's authority.
func (p *tlsProcess) presented(t *testing.T, base string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(base, "https://"), &tls.Config{RootCAs: p.ca.Pool()})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", base, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// waitPresented waits until both listeners present want's certificate.
func (p *tlsProcess) waitPresented(t *testing.T, step string, want tlstest.Pair) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second) // polls are 2 s apart; a change is read on the second
	for {
		api, pub := p.presented(t, p.api), p.presented(t, p.pub)
		if api == want.Serial.String() && pub == api {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the listeners present serials %s and %s, want %s (%s); log:\n%s", step, api, pub, want.Serial, want.Subject, p.logText(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the log contains want n times.
func (p *tlsProcess) waitLog(t *testing.T, want string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); strings.Count(p.logText(t), want) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say %q %d times within 20s:\n%s", want, n, p.logText(t))
		}
	}
}

// TestTLS_Reload: a new certificate is served after SIGHUP, and after only
// its files changed; a broken replacement keeps the one served and logs
// an error; open connections are not disturbed.
func TestTLS_Reload(t *testing.T) {
	t.Parallel()
	p, first := startTLSProcess(t, "first")
	p.waitPresented(t, "at start", first)
	issue := func(cn string) tlstest.Pair {
		t.Helper()
		pair, err := p.ca.Issue(cn)
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	// The client keeps this connection open across the reloads and sends
	// its later requests on it.
	p.h2Do(t, 401, http.MethodGet, p.api+"/v2/", "", "", nil)

	second := issue("second")
	if err := second.Write(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitPresented(t, "after SIGHUP", second)
	p.waitLog(t, `msg="TLS certificate reloaded" subject="CN=second"`, 1)

	third := issue("third")
	if err := third.Write(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	p.waitPresented(t, "after the files changed, no signal", third)
	p.waitLog(t, `msg="TLS certificate reloaded" subject="CN=third"`, 1)

	// A garbage key, by SIGHUP and by the poll: errors, and the third
	// certificate still served.
	if err := os.WriteFile(p.keyFile, []byte("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `level=ERROR msg="TLS certificate not reloaded: still serving the previous one"`, 1)
	if got := p.presented(t, p.api); got != third.Serial.String() {
		t.Fatalf("after a garbage key: serving serial %s, want the third's %s", got, third.Serial)
	}
	if err := os.WriteFile(p.certFile, issue("fourth").Cert, 0o644); err != nil { // its key never comes
		t.Fatal(err)
	}
	p.waitLog(t, `level=ERROR msg="TLS certificate not reloaded: still serving the previous one"`, 2)
	if got := p.presented(t, p.api); got != third.Serial.String() {
		t.Fatalf("after a certificate without its key: serving serial %s, want the third's %s", got, third.Serial)
	}
	p.h2Do(t, 401, http.MethodGet, p.api+"/v2/", "", "", nil)

	fifth := issue("fifth")
	if err := fifth.Write(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	p.waitPresented(t, "after the pair was repaired", fifth)
	select {
	case <-p.exited:
		t.Fatalf("ecrd exited; its log:\n%s", p.logText(t))
	default:
	}
}

// TestTLS_StartupRefused: a missing or mismatched pair stops start-up
// with status 2 and a message naming the flag.
func TestTLS_StartupRefused(t *testing.T) {
	t.Parallel()
	ca, err := tlstest.NewCA("ecrd e2e CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, err := ca.Issue("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ca.Issue("b")
	if err != nil {
		t.Fatal(err)
	}
	certA, keyB := filepath.Join(dir, "a.crt"), filepath.Join(dir, "b.key")
	if err := os.WriteFile(certA, a.Cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyB, b.Key, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.crt")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"MissingCert", []string{"--tls-cert", missing, "--tls-key", keyB}, []string{"--tls-cert", "no such file"}},
		{"MismatchedKey", []string{"--tls-cert", certA, "--tls-key", keyB}, []string{"--tls-key", "private key does not match public key"}},
		{"CertWithoutKey", []string{"--tls-cert", certA}, []string{"--tls-cert", "--tls-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"serve", "--listen", "127.0.0.1:0", "--public-listen", "127.0.0.1:0",
				"--data-dir", t.TempDir(), "--account-id", testAccount}, tc.args...)
			out, err := exec.CommandContext(c, ecrdBinary(t), args...).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("ecrd serve %s: %v; want exit status 2\n%s", strings.Join(tc.args, " "), err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("ecrd serve %s says %q, which does not name %q", strings.Join(tc.args, " "), out, w)
				}
			}
		})
	}
}
