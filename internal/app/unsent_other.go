//go:build !linux

package app

import "net"

// limitUnsent does nothing here: TCP_NOTSENT_LOWAT is set on Linux only,
// the platform ecrd is tested on.
func limitUnsent(net.Conn) {}
