//go:build !linux

package esl

import "net"

// waitReadable returns at once where the peek is not implemented: the read that follows waits
// with a buffer, as before.
func waitReadable(net.Conn) error { return nil }
