package httpprovider

import (
	"errors"
	"sync"
	"time"
	"unsafe"

	"transdb/internal/fault"
	"transdb/mmapdb"
	"transdb/translation"
)

// Background verification. Opening a version reads its header only, so
// a byte flipped in the body of a file (by a disk, a copy, a hand) would
// be served without notice. The server therefore verifies every version
// of its files that it maps, as transdbd verify does, in the background:
// paced so that it takes a quarter of one core and of the disk's time at
// the most, never holding up a lookup or a commit. A failure is logged
// (level ERROR), counted in transdb_verify_failures_total and turns
// /readyz to 503 while that version is served. A version whose file this
// process verified before (a follower verifies each file it installs) is
// taken as verified without reading it again.

// DefaultVerifyInterval is how often the server looks for a newly mapped
// version to verify when Options.VerifyInterval is 0.
const DefaultVerifyInterval = time.Second

// verifyDuty is the pause after each step of a verification, as a
// multiple of the time the step took: 3 keeps the verifier busy a
// quarter of the time.
const verifyDuty = 3

// errVerifyStopped ends a verification when the server closes.
var errVerifyStopped = errors.New("httpprovider: server closed")

// A verifier verifies the versions of a server's files, one at a time,
// in a goroutine of its own.
type verifier struct {
	s        *Server
	interval time.Duration
	wake     chan struct{} // a check now, as on Recheck
	stop     chan struct{} // closed by close
	done     chan struct{} // closed when the goroutine ends
	once     sync.Once     // of close
}

// verifyState is what the verifier knows of one database file. The
// version it verifies or verified last stays pinned until the next one,
// so that no later version can be mapped at its address: the address
// tells whether the version served is the one verified.
type verifyState struct {
	mu       sync.Mutex
	snap     *translation.Snapshot // the version verified last or now; nil before the first
	finished bool                  // snap's verification is over
	err      error                 // its failure; nil when it verified
	good     uint64                // generation of the last version that verified
	anyGood  bool                  // good is set
	failures uint64                // versions that failed
}

// startVerifier starts verifying the versions of s's files every
// interval, and at once.
func startVerifier(s *Server, interval time.Duration) *verifier {
	v := &verifier{
		s:        s,
		interval: interval,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go v.run()
	return v
}

// check asks for a check of the files now.
func (v *verifier) check() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// close stops the verifier, ending a verification under way, and lets
// go of the versions it holds.
func (v *verifier) close() {
	v.once.Do(func() { close(v.stop) })
	<-v.done
	for _, f := range v.s.files {
		st := &f.verified
		st.mu.Lock()
		if st.snap != nil {
			st.snap.Release()
			st.snap = nil
		}
		st.mu.Unlock()
	}
}

func (v *verifier) run() {
	defer close(v.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
		case <-v.wake:
		}
		for _, f := range v.s.files {
			// A file written over in place faults the reads of its
			// mapping, from the snapshot's header on.
			ok := true
			if err := fault.Call(func() error { ok = v.verifyNewest(f); return nil }); err != nil {
				v.s.log.Error("httpprovider: the database file changed while it was verified: it was written over in place",
					"file", f.path, "err", err)
			}
			if !ok {
				return
			}
		}
		t.Reset(v.interval)
	}
}

// verifyNewest verifies the newest version of f unless it did so
// already. It reports false when the server closed meanwhile.
func (v *verifier) verifyNewest(f *dbFile) bool {
	snap, err := f.provider.p.Snapshot()
	if err != nil {
		return true // no database (yet): nothing to verify
	}
	st := &f.verified
	st.mu.Lock()
	if st.snap != nil && sameVersion(st.snap, snap) {
		st.mu.Unlock()
		snap.Release()
		return true
	}
	if st.snap != nil {
		st.snap.Release()
	}
	st.snap, st.finished, st.err = snap, false, nil
	st.mu.Unlock()

	// The log first: what /readyz and /metrics say is in the log.
	log := v.s.log
	if snap.Verified() {
		// Installed by a follower, which verified the file before it
		// put it in place.
		log.Info("httpprovider: database version verified when it was installed", "file", f.path,
			"generation", snap.Generation(), "bytes", len(snap.Bytes()))
	} else {
		start := time.Now()
		err = mmapdb.VerifyBytes(snap.Bytes(), v.pacer())
		switch {
		case errors.Is(err, errVerifyStopped):
			return false
		case err != nil:
			log.Error("httpprovider: the database version served fails verification: it is damaged: restore a backup",
				"file", f.path, "generation", snap.Generation(), "err", err)
		default:
			log.Info("httpprovider: database version verified", "file", f.path, "generation", snap.Generation(),
				"bytes", len(snap.Bytes()), "took", time.Since(start).Round(time.Millisecond).String())
		}
	}
	st.mu.Lock()
	st.finished, st.err = true, err
	if err == nil {
		st.good, st.anyGood = snap.Generation(), true
	} else {
		st.failures++
	}
	st.mu.Unlock()
	return true
}

// pacer returns the pause function of one verification: after each
// step it sleeps verifyDuty times as long as the step took, and it ends
// the verification when the server closes.
func (v *verifier) pacer() func() error {
	last := time.Now()
	return func() error {
		t := time.NewTimer(verifyDuty * time.Since(last))
		defer t.Stop()
		select {
		case <-v.stop:
			return errVerifyStopped
		case <-t.C:
		}
		last = time.Now()
		return nil
	}
}

// sameVersion reports whether a and b are pinned snapshots of one mapped
// version.
func sameVersion(a, b *translation.Snapshot) bool {
	x, y := a.Bytes(), b.Bytes()
	return unsafe.SliceData(x) == unsafe.SliceData(y) && len(x) == len(y)
}

// A verification is the verifier's word on the version of a file that
// a request sees.
type verification struct {
	state    string // "verified", "failed", "pending" or "off"
	err      error  // the failure, when failed
	good     uint64 // generation of the last version that verified
	anyGood  bool
	failures uint64
}

// verificationOf returns the verification of snap, a version of f.
func (s *Server) verificationOf(f *dbFile, snap *translation.Snapshot) verification {
	if s.verifier == nil {
		return verification{state: "off"}
	}
	st := &f.verified
	st.mu.Lock()
	defer st.mu.Unlock()
	r := verification{state: "pending", good: st.good, anyGood: st.anyGood, failures: st.failures}
	if st.snap != nil && st.finished && sameVersion(st.snap, snap) {
		r.state, r.err = "verified", st.err
		if st.err != nil {
			r.state = "failed"
		}
	}
	return r
}
