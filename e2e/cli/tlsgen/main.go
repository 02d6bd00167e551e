// Command tlsgen writes a throwaway certificate authority and a server
// certificate it signed, for the end-to-end scripts that test ecrd over
// TLS:
//
//	go run ./e2e/cli/tlsgen DIR
//
// writes DIR/ca.crt (what clients are told to trust), DIR/server.crt and
// DIR/server.key (what ecrd serves: --tls-cert, --tls-key), the server
// certificate being for 127.0.0.1, ::1 and localhost, valid for a day.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ecrd/ecrd/internal/tlstest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsgen DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "tlsgen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ca, err := tlstest.NewCA("ecrd test CA")
	if err != nil {
		return err
	}
	pair, err := ca.Issue("ecrd test server")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca.PEM, 0o644); err != nil {
		return err
	}
	return pair.Write(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
}
