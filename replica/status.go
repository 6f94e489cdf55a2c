package replica

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Status is the state of a Publisher or a Follower.
type Status struct {
	Role   string // "publish" or "follow"
	File   string // the database file
	URL    string // the NATS servers, without user information
	Bucket string
	Object string // the object's name: the file's base name

	// Connected reports whether the connection to NATS is up.
	Connected bool

	// Generation is what the replication has achieved: for a publisher
	// the generation it last put into the bucket (or found there
	// already), for a follower the generation of its file, the last
	// version it installed or the one it started with (0: no file).
	Generation uint64
	// Newest is the generation of the other side, as last seen: for a
	// publisher its file's, for a follower the bucket's object's (0:
	// none). The replication is behind while it is above Generation.
	Newest uint64
	// Behind is since when Newest has been above Generation: for a
	// publisher when it found the newer file, for a follower when the
	// newer object was put into the bucket. Zero when not behind.
	Behind time.Time

	// LastSync is the time of the last put or install; zero before the
	// first.
	LastSync time.Time
	// Transfers counts the objects put or the versions installed, Bytes
	// the bytes they moved: for a follower, the downloads that failed
	// or were refused count in Bytes too.
	Transfers, Bytes uint64
	// Failures counts the attempts that failed and are tried again: the
	// NATS servers out of reach, a transfer cut off, a timeout.
	Failures uint64
	// Refused counts the objects a follower discarded: corrupt,
	// truncated, older than its file, or without metadata. Each is
	// counted once.
	Refused uint64
	// Err is the last failure or refusal; empty after a success.
	Err string
}

// Lag returns how far the replication is behind at now: the
// generations between Generation and Newest, and the time since Behind.
// Both are 0 when it is not behind.
func (st Status) Lag(now time.Time) (generations uint64, d time.Duration) {
	if st.Newest <= st.Generation {
		return 0, 0
	}
	if !st.Behind.IsZero() {
		d = max(now.Sub(st.Behind), 0)
	}
	return st.Newest - st.Generation, d
}

// state holds a Status under a lock.
type state struct {
	mu sync.Mutex
	st Status
}

// update changes the status under the lock.
func (s *state) update(fn func(st *Status)) {
	s.mu.Lock()
	fn(&s.st)
	s.mu.Unlock()
}

// get returns a copy of the status.
func (s *state) get() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// withConn returns a copy of the status, Connected telling whether nc
// is connected now.
func (s *state) withConn(nc *nats.Conn) Status {
	st := s.get()
	st.Connected = nc.IsConnected()
	return st
}

// progress records that the other side is at generation newest, seen
// at t: a newer generation than Generation starts the time behind,
// unless it started already.
func (st *Status) progress(newest uint64, t time.Time) {
	st.Newest = newest
	switch {
	case newest <= st.Generation:
		st.Behind = time.Time{}
	case st.Behind.IsZero():
		st.Behind = t
	}
}

// synced records a put or install of generation g with n bytes at t.
func (st *Status) synced(g uint64, n int64, t time.Time) {
	st.Generation = g
	st.LastSync = t
	st.Transfers++
	st.Bytes += uint64(n)
	st.Err = ""
	st.progress(max(st.Newest, g), t)
}
