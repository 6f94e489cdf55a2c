package perlmmapdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"transdb/mmapdb"
)

// DefaultFollowInterval is how often a Follower looks at the Perl file
// when FollowOptions.Interval is 0.
const DefaultFollowInterval = time.Second

// maxRetryWait bounds the wait before a failed import of one version of
// the Perl file is tried again.
const maxRetryWait = time.Minute

// supersededWait is the wait before a look at the Perl file again after
// finding it superseded: its writer has just renamed the new version
// into place, as the module itself retries after 0.1 s.
const supersededWait = 100 * time.Millisecond

// staleSuperseded is how long a superseded file may stay at the path
// before it counts as a failed import: the module renames the new
// version into place before it marks the old one, so only a copy of an
// old file (or a writer gone mid-commit) leaves one there that long.
const staleSuperseded = 5 * time.Second

// FollowOptions configure Follow.
type FollowOptions struct {
	// Interval is how often the identity (device, inode, size and
	// modification time) of the Perl file is compared with the version
	// imported last. Zero means DefaultFollowInterval.
	Interval time.Duration

	// NoLock opens the database without its lock file; see
	// mmapdb.Options.NoLock.
	NoLock bool

	// Logger receives a line for each import and each failure; nil means
	// slog.Default().
	Logger *slog.Logger

	// stale is staleSuperseded, shorter in the tests.
	stale time.Duration
}

// FollowStatus is what a Follower has done.
type FollowStatus struct {
	Source   string       // the Perl file followed
	Imports  uint64       // imports committed
	Failures uint64       // imports that failed
	Last     ImportResult // the last import committed
	LastTime time.Time    // when it was committed; zero before the first
	// Err is the failure of the last attempt, nil when it succeeded or
	// none was made yet: while it is set the database holds the last
	// version imported, or nothing imported yet.
	Err error
}

// Follower keeps a database a copy of a Perl MMapDB file that Perl
// writers keep changing; see Follow.
type Follower struct {
	dbPath, perlPath string
	opts             FollowOptions
	log              *slog.Logger

	stop, wake, done chan struct{}

	mu sync.Mutex
	st FollowStatus

	// The state of the goroutine.
	imported  identity // the version imported last
	haveOne   bool     // imported is set
	failedID  identity // the version whose import failed last
	failedN   int      // consecutive failures of it
	retryAt   time.Time
	lastError string // the message logged last, not to repeat it
	// supersededID is the superseded version at the path since
	// supersededSince.
	supersededID    identity
	supersededSince time.Time
}

// Follow imports the Perl file at perlPath into the database at dbPath
// (see Import) now, in a goroutine of its own, and again whenever the
// file at perlPath is another one: the module replaces it on every
// commit, renaming a new file over it and zeroing byte 4 of the old one.
// It compares the file's identity every Interval, so a commit is
// imported within about one Interval and the time an import takes.
// Meanwhile the database serves the version imported before: each
// import is one transaction. A file found superseded is looked at again
// after 0.1 s, for the new one, and counts as a failed import once it
// has stayed superseded for 5 s; a failed import (a missing or corrupt
// file, a database that cannot be written) is logged and tried again
// later, at once when the file changes, else after a wait that doubles up
// to a minute. Close stops it.
//
// The database becomes a mirror of the Perl file: every import replaces
// all of its content, so nothing else should write to it.
func Follow(dbPath, perlPath string, opts FollowOptions) *Follower {
	if opts.Interval <= 0 {
		opts.Interval = DefaultFollowInterval
	}
	if opts.stale <= 0 {
		opts.stale = staleSuperseded
	}
	f := &Follower{
		dbPath: dbPath, perlPath: perlPath, opts: opts, log: opts.Logger,
		stop: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{}),
		st: FollowStatus{Source: perlPath},
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	go f.run()
	return f
}

// Status returns what the follower has done so far.
func (f *Follower) Status() FollowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

// Check makes the follower look at the Perl file now instead of at the
// end of its Interval, and try a failed version again at once.
func (f *Follower) Check() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Close stops the follower, after the import in progress, if any.
// Closing a closed Follower does nothing.
func (f *Follower) Close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
}

func (f *Follower) run() {
	defer close(f.done)
	for {
		wait := f.step()
		t := time.NewTimer(wait)
		select {
		case <-f.stop:
			t.Stop()
			return
		case <-f.wake:
			t.Stop()
			f.retryAt = time.Time{}
		case <-t.C:
		}
	}
}

// step looks at the Perl file once, imports it when it is a version not
// imported yet, and returns the wait before the next look.
func (f *Follower) step() time.Duration {
	var id identity
	fi, err := os.Stat(f.perlPath)
	if err == nil {
		id = identityOf(fi)
		if f.haveOne && id == f.imported {
			return f.opts.Interval
		}
	}
	if id == f.failedID && f.failedN > 0 && time.Now().Before(f.retryAt) {
		return f.opts.Interval
	}
	if err != nil {
		f.fail(id, err)
		return f.opts.Interval
	}
	start := time.Now()
	pf, err := Open(f.perlPath)
	if errors.Is(err, ErrSuperseded) {
		return f.superseded(id)
	}
	if err != nil {
		f.fail(id, err)
		return f.opts.Interval
	}
	defer pf.Close()
	id = pf.ident // what is imported: the file may have been replaced since the stat
	res, err := f.importFile(pf)
	if errors.Is(err, ErrSuperseded) {
		return f.superseded(id)
	}
	if err != nil {
		f.fail(id, err)
		return f.opts.Interval
	}
	f.imported, f.haveOne = id, true
	f.failedN, f.lastError = 0, ""
	f.mu.Lock()
	f.st.Imports++
	f.st.Last, f.st.LastTime, f.st.Err = res, time.Now(), nil
	f.mu.Unlock()
	f.log.Info("perlmmapdb: imported", "file", f.dbPath, "from", f.perlPath, "records", res.Records,
		"generation", res.Generation, "duration", time.Since(start).Round(time.Millisecond).String())
	return f.opts.Interval
}

// superseded handles the version id found superseded at the path: it is
// looked at again soon, since its writer has just put the new version in
// its place; but one that stays beyond staleSuperseded is a failed
// import, reported and retried as any.
func (f *Follower) superseded(id identity) time.Duration {
	now := time.Now()
	if id != f.supersededID || f.supersededSince.IsZero() {
		f.supersededID, f.supersededSince = id, now
	}
	if now.Sub(f.supersededSince) < f.opts.stale {
		return supersededWait
	}
	f.fail(id, fmt.Errorf("import %s: no newer version has replaced it for %s: %w", f.perlPath, f.opts.stale, ErrSuperseded))
	return f.opts.Interval
}

// importFile imports pf into the database, opened for this import only.
func (f *Follower) importFile(pf *File) (ImportResult, error) {
	db, err := mmapdb.Open(f.dbPath, &mmapdb.Options{NoLock: f.opts.NoLock, CheckInterval: -1})
	if err != nil {
		return ImportResult{}, err
	}
	defer db.Close()
	return Import(db, pf)
}

// fail records a failed attempt on the version id and schedules the next
// one.
func (f *Follower) fail(id identity, err error) {
	if id != f.failedID {
		f.failedID, f.failedN = id, 0
	}
	f.failedN++
	wait := f.opts.Interval << min(f.failedN-1, 16)
	f.retryAt = time.Now().Add(min(wait, max(maxRetryWait, f.opts.Interval)))
	f.mu.Lock()
	f.st.Failures++
	f.st.Err = err
	f.mu.Unlock()
	if msg := err.Error(); msg != f.lastError {
		f.lastError = msg
		level := slog.LevelError
		if errors.Is(err, fs.ErrNotExist) {
			level = slog.LevelWarn
		}
		f.log.Log(context.Background(), level, "perlmmapdb: import failed; the database keeps its version", "file", f.dbPath, "from", f.perlPath, "err", err)
	}
}
