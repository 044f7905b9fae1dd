package models

import "syscall"

// tcpUserTimeout is Linux's TCP_USER_TIMEOUT socket option (not in
// package syscall).
const tcpUserTimeout = 0x12

// setUserTimeout sets TCP_USER_TIMEOUT on a PostgreSQL socket: data (or a
// keepalive probe) unacknowledged for that long breaks the connection.
func setUserTimeout(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(deadPeerTimeout.Milliseconds()))
	})
	if err != nil {
		return err
	}
	return serr
}
