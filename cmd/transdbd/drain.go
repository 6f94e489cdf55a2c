package main

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// drainIdle is how long a request body may go without a byte arriving
// once shutdown has begun. Until then only ReadTimeout bounds a body, and
// an upload that stalls would hold the shutdown for that long; during
// the shutdown it is cut off after drainIdle (408), while an upload that
// keeps sending, however slowly, goes on.
const drainIdle = 5 * time.Second

// A drain keeps track of the request bodies being received, so that a
// shutdown can hold each to drainIdle. Responses are not concerned: a
// long dump that its client reads goes on until ShutdownTimeout.
type drain struct {
	draining atomic.Bool // set under mu
	mu       sync.Mutex
	bodies   map[*drainBody]struct{}
}

// A drainBody is a request body that drain follows until it ends or its
// handler returns.
type drainBody struct {
	io.ReadCloser
	d   *drain
	rc  *http.ResponseController
	end time.Time // the read deadline of ReadTimeout, which drainIdle never extends
}

// body returns r's body, followed by d until it ends or done is called,
// for the handler to read instead of r.Body; nil when r has no body.
func (d *drain) body(w http.ResponseWriter, r *http.Request) *drainBody {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &drainBody{ReadCloser: r.Body, d: d, rc: http.NewResponseController(w), end: time.Now().Add(readTimeout)}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bodies == nil {
		d.bodies = map[*drainBody]struct{}{}
	}
	d.bodies[b] = struct{}{}
	if d.draining.Load() {
		b.idle()
	}
	return b
}

// begin starts the drain: every body being received must go on
// arriving, drainIdle at the most between two reads.
func (d *drain) begin() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draining.Store(true)
	for b := range d.bodies {
		b.idle()
	}
}

// done stops following b: its body has ended, or its handler returned
// and the connection may go on to another request.
func (d *drain) done(b *drainBody) {
	if b == nil {
		return
	}
	d.mu.Lock()
	delete(d.bodies, b)
	d.mu.Unlock()
}

// idle sets the read deadline of b's connection to drainIdle from now,
// or to the end of its ReadTimeout if that is sooner.
func (b *drainBody) idle() {
	deadline := time.Now().Add(drainIdle)
	if b.end.Before(deadline) {
		deadline = b.end
	}
	_ = b.rc.SetReadDeadline(deadline)
}

// Read reads the body; while draining, each read must bring something
// within drainIdle.
func (b *drainBody) Read(p []byte) (int, error) {
	if b.d.draining.Load() {
		b.d.mu.Lock()
		if _, following := b.d.bodies[b]; following {
			b.idle()
		}
		b.d.mu.Unlock()
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.d.done(b)
		if b.d.draining.Load() {
			// The body is over: the read that the server goes on with,
			// to notice a client that goes away, gets ReadTimeout again.
			_ = b.rc.SetReadDeadline(b.end)
		}
	}
	return n, err
}
