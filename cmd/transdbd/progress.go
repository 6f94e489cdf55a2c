package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress shows how far long work has come on one terminal line, which
// it rewrites after a carriage return at most every interval. It writes
// nothing when its writer is nil, so that output that is not a terminal
// (a file, a pipe, a test) stays clean.
type progress struct {
	w        io.Writer // nil: show nothing
	what     string    // "loading", "verifying"
	interval time.Duration

	mu    sync.Mutex
	last  time.Time
	width int // of the line shown, for clearing it
}

// newProgress returns the progress line for e's stderr, or one that shows
// nothing when stderr is not a terminal.
func newProgress(e *env, what string) *progress {
	p := &progress{what: what, interval: 100 * time.Millisecond}
	if e.stderrTTY {
		p.w = e.stderr
	}
	return p
}

// show rewrites the line with text, unless it was rewritten less than an
// interval ago.
func (p *progress) show(text string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	line := p.what + " " + text
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
	p.width = len(line)
}

// count shows done of total items (records), or done alone when the
// total is unknown (0).
func (p *progress) count(done, total uint64, unit string) {
	if p == nil || p.w == nil {
		return
	}
	if total == 0 {
		p.show(fmt.Sprintf("%d %s", done, unit))
		return
	}
	p.show(fmt.Sprintf("%d of %d %s (%d%%)", done, total, unit, done*100/total))
}

// bytes shows done of total bytes, or done alone when total is unknown
// (negative).
func (p *progress) bytes(done, total int64) {
	if p == nil || p.w == nil {
		return
	}
	if total <= 0 {
		p.show(formatBytes(done))
		return
	}
	p.show(fmt.Sprintf("%s of %s (%d%%)", formatBytes(done), formatBytes(total), done*100/total))
}

// done clears the line, so that what follows starts on a clean one.
func (p *progress) done() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
		p.width = 0
	}
}

// formatBytes formats n bytes for people: 512 B, 1.5 KiB, 20.0 MiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// countingReader reports the bytes read through it to a progress line.
type countingReader struct {
	r     io.Reader
	n     int64
	total int64 // -1 when unknown
	p     *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.p.bytes(c.n, c.total)
	return n, err
}
