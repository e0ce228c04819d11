package esl

import (
	"net"
	"syscall"
)

// waitReadable blocks until nc has a byte to read, has reached its end or failed, without a
// buffer: it peeks at one byte with MSG_PEEK and lets the runtime's poller wait while there is
// none. The error is the connection's (closed), as a read would give it; other errors and the
// end of input are left to the read that follows. A connection that is not a socket returns
// at once.
func waitReadable(nc net.Conn) error {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN && err != syscall.EINTR
	})
}
