package esl

import (
	"bufio"
	"sync"
)

// A call in conversation (transferred, waiting for its hang-up and the recording's stop) hears
// a few events in minutes, yet its reader used to sit in a read with the connection's whole
// buffer allocated. Once the channel is marked quiet (at its transfer), the reader hands the buffer back between
// frames when it holds no unread bytes, waits until the socket is readable without a buffer
// (waitReadable), and takes one again to read the next frame. Thousands of calls in
// conversation then share a few buffers (issue 13, target 8). Before the transfer the reader
// keeps its buffer: the extra wait would cost a system call per event while the flow runs.

// readerPool holds the read buffers of quiet connections.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufBytes) }}

// quiet marks the connection as one that is mostly silent from now on.
func (c *conn) quiet() { c.isQuiet.Store(true) }

// nextFrame reads the next frame, releasing the read buffer while a quiet connection waits.
func (c *conn) nextFrame() (frame, error) {
	if c.isQuiet.Load() && c.br != nil && c.br.Buffered() == 0 {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
	}
	if c.br == nil {
		if err := waitReadable(c.nc); err != nil {
			return frame{}, err
		}
		c.br = readerPool.Get().(*bufio.Reader)
		c.br.Reset(c.nc)
	}
	return readFrame(c.br)
}
