//go:build !linux

package models

import "syscall"

// setUserTimeout does nothing outside Linux: TCP keepalives alone detect
// a dead peer there.
func setUserTimeout(_, _ string, _ syscall.RawConn) error { return nil }
