// Package syncbuf provides a bytes.Buffer that goroutines may write and
// read at the same time: the standard error of a child process, or the
// output of a logger, that a test or benchmark reads while it grows.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent use; the zero value is
// empty and ready.
type Buffer struct {
	// Max, when positive, bounds what the buffer keeps: the first Max
	// bytes written (a child's start-up lines and first errors); the
	// rest is taken and dropped.
	Max int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer, as much of it as Max leaves room for.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max > 0 {
		b.b.Write(p[:min(len(p), max(b.Max-b.b.Len(), 0))])
		return len(p), nil
	}
	return b.b.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
