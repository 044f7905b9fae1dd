package models_test

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/cosworth/cosworth/internal/dbtest"
	"github.com/cosworth/cosworth/models"
)

// TestDeadPeerDetection: the PostgreSQL connections Open makes carry TCP
// keepalives and TCP_USER_TIMEOUT, the kernel settings that break a
// connection to a partitioned server while a query waits on it (a
// partition that drops packets cannot be simulated without root, so the
// settings themselves are checked on a real connection).
func TestDeadPeerDetection(t *testing.T) {
	dsn, _ := dbtest.PostgresSchemaURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := models.Open(ctx, dsn, models.WithMaxConns(1))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := models.Acquire(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tc, ok := conn.Conn().PgConn().Conn().(*net.TCPConn)
	if !ok {
		t.Skipf("not a TCP connection: %T", conn.Conn().PgConn().Conn())
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var keepAlive, idle, userTimeout int
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		keepAlive, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
		if gerr == nil {
			idle, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
		}
		if gerr == nil {
			userTimeout, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, 0x12) // TCP_USER_TIMEOUT
		}
	}); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if keepAlive == 0 || idle != 2 || userTimeout != 5000 {
		t.Fatalf("SO_KEEPALIVE %d, TCP_KEEPIDLE %ds, TCP_USER_TIMEOUT %dms; want on, 2s, 5000ms", keepAlive, idle, userTimeout)
	}
}
