package app

import (
	"crypto/tls"
	"net"

	"golang.org/x/sys/unix"
)

// ackedOf returns a function that reports how many bytes of c the peer
// has acknowledged (TCP_INFO's tcpi_bytes_acked), or nil when c is not
// a TCP connection this can be asked of. Acknowledged bytes are in the
// client's kernel: the same progress a write the kernel accepted counts
// as, only seen while the write is still blocked.
func ackedOf(c net.Conn) func() (uint64, bool) {
	tc, ok := innermost(c).(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() (uint64, bool) {
		var acked uint64
		var ierr error
		if err := rc.Control(func(fd uintptr) {
			var info *unix.TCPInfo
			if info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); ierr == nil {
				acked = info.Bytes_acked
			}
		}); err != nil || ierr != nil {
			return 0, false
		}
		return acked, true
	}
}

// innermost is the connection under the listener's and TLS's wrappers.
func innermost(c net.Conn) net.Conn {
	for {
		switch cc := c.(type) {
		case *limitedConn:
			c = cc.Conn
		case *tls.Conn:
			c = cc.NetConn()
		default:
			return c
		}
	}
}
