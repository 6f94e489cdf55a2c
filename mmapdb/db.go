package mmapdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"transdb/internal/fault"
)

// DefaultMaxID is the highest record ID handed out unless Options.MaxID
// says otherwise: IDs are 32-bit, as in Perl's MMapDB.
const DefaultMaxID = 1<<32 - 1

// DefaultCheckInterval is how often an open DB compares the identity of
// the file at its path with the mapped one, unless Options say otherwise.
const DefaultCheckInterval = time.Second

// Options configure a DB. The zero value is a writable database with
// locking and a one-second identity check.
type Options struct {
	// ReadOnly refuses Begin, Restore and every other write with
	// ErrReadOnly. A read-only DB never creates the file.
	ReadOnly bool

	// NoLock skips the exclusive lock on <file>.lock. Only safe when a
	// single writer process is guaranteed by other means; with it, stale
	// temporary files are not cleaned up either, as they may belong to a
	// live writer.
	NoLock bool

	// LockTimeout bounds how long Begin waits for the lock; after it
	// Begin fails with ErrLockFailed. Zero waits as long as it takes.
	LockTimeout time.Duration

	// CheckInterval is how often the identity (device, inode; and size
	// and modification time, for a file written over in place) of the file
	// at the path is compared with the mapped version, so that a file
	// replaced by other tools (mv, rsync) is noticed. Commits by mmapdb
	// writers are noticed at once through the valid flag, without it, and
	// so is another version written over the file in place, through the
	// creation time in its header.
	// Zero means DefaultCheckInterval; negative disables the check.
	CheckInterval time.Duration

	// MaxID is the highest record ID; allocation wraps to the lowest free
	// ID above it. Zero means DefaultMaxID.
	MaxID uint64

	// Mode is the permission of created database files; zero means 0644.
	Mode fs.FileMode
}

// Stats are counters of one DB since Open.
type Stats struct {
	Reloads uint64 // versions switched to after the first
	Commits uint64 // transactions committed, restores included
	Inserts uint64 // records inserted by committed transactions
	Deletes uint64 // records deleted by committed transactions
}

// DB is a database file, mapped read-only. Lookups go through a Snapshot
// and are lock-free; writes go through a Txn, which builds a complete new
// file and swaps it in. A DB is safe for concurrent use.
type DB struct {
	path string
	opts Options

	cur     atomic.Pointer[version]
	mu      sync.Mutex   // serialises refresh
	retryAt atomic.Int64 // unix ns before which a failed refresh is not retried

	// writer is the slot of the one open transaction: Begin fills it,
	// the transaction's end empties it. Close fills it for good, after
	// waiting for the open transaction to end; closing wakes the Update
	// calls waiting for the slot.
	writer  chan struct{}
	closing chan struct{}

	closed  atomic.Bool
	watchMu sync.Mutex  // serialises arming the identity check with Close
	watch   *time.Timer // the identity check, every CheckInterval until Close

	reloads, commits, inserts, deletes atomic.Uint64
}

// Open opens the database at path. It maps the file if it exists, which
// costs the same whatever the file size: only the header is read. A
// missing file is not an error: Snapshot reports it (errors.Is
// fs.ErrNotExist) until a writer creates it (Begin does) or it appears.
// A file that exists but is not a valid database is an error.
func Open(path string, opts *Options) (*DB, error) {
	db := &DB{path: filepath.Clean(path),
		writer: make(chan struct{}, 1), closing: make(chan struct{})}
	if opts != nil {
		db.opts = *opts
	}
	if db.opts.MaxID == 0 {
		db.opts.MaxID = DefaultMaxID
	}
	if db.opts.CheckInterval == 0 {
		db.opts.CheckInterval = DefaultCheckInterval
	}
	if db.opts.Mode == 0 {
		db.opts.Mode = 0o644
	}
	if _, err := db.refresh(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if db.opts.CheckInterval > 0 {
		// A timer, not a goroutine of its own: nothing runs between checks,
		// and opening does not wait for a thread to start. The lock keeps a
		// first check that fires at once from seeing no timer to re-arm.
		db.watchMu.Lock()
		db.watch = time.AfterFunc(db.opts.CheckInterval, db.check)
		db.watchMu.Unlock()
	}
	return db, nil
}

// Path returns the path of the database file.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether the DB was opened read-only.
func (db *DB) ReadOnly() bool { return db.opts.ReadOnly }

// Close waits for the open transaction, if any, to end (as bbolt's
// Close does), stops the identity check and drops the DB's reference to
// the current version. Begin and Update fail with ErrClosed from the
// moment Close is called; Update calls waiting for the transaction slot
// are woken with ErrClosed. Snapshots still held stay valid until
// released. Closing a closed DB does nothing. Close must not be called by
// the goroutine that holds the open transaction: it would wait forever.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	close(db.closing)
	if db.watch != nil {
		db.watchMu.Lock()
		db.watch.Stop()
		db.watchMu.Unlock()
	}
	db.writer <- struct{}{} // taken for good: no transaction after Close
	db.mu.Lock()
	if v := db.cur.Swap(nil); v != nil {
		v.release()
	}
	db.mu.Unlock()
	return nil
}

// Snapshot pins the current version and returns a new handle to it;
// release it with Snapshot.Release. It costs one small allocation; Pin
// fills a handle the caller owns instead.
func (db *DB) Snapshot() (*Snapshot, error) {
	s := new(Snapshot)
	if err := db.Pin(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Pin pins the current version into s, which must be the zero Snapshot or
// one that is released; release it with s.Release. It checks the valid
// flag of the current mapping (a memory read) and moves to the newest
// file when a committer has superseded it; otherwise it takes no lock,
// makes no system call and allocates nothing.
func (db *DB) Pin(s *Snapshot) error {
	if st := s.state.Load(); st != snapUnpinned && st != snapReleased {
		return errors.New("mmapdb: Pin into a snapshot that is pinned")
	}
	v, err := db.pin()
	if err != nil {
		return err
	}
	s.v = v
	s.state.Store(snapHeld)
	return nil
}

// pin takes a reference to the current version, mapping the newest file
// first when the current one is superseded or there is none.
func (db *DB) pin() (*version, error) {
	for {
		v := db.cur.Load()
		if v == nil {
			if db.closed.Load() {
				return nil, ErrClosed
			}
			if err := db.refreshNow(nil); err != nil {
				return nil, err
			}
			if db.cur.Load() == nil {
				return nil, fmt.Errorf("mmapdb: %s: %w", db.path, fs.ErrNotExist)
			}
			continue
		}
		// Pin first, then look at the mapping: an unpinned version may be
		// unmapped by a concurrent switch at any moment.
		if !v.acquire() {
			continue
		}
		if v.pinnedValid() {
			return v, nil
		}
		// Superseded: move on when the newer file can be mapped; until
		// then the old version is still a consistent one to serve.
		if db.refreshNow(v) == nil && db.cur.Load() != v {
			v.release()
			continue
		}
		return v, nil
	}
}

// View calls fn with a snapshot of the current version and releases it
// when fn returns; it returns fn's error. The snapshot and everything read
// through it are valid only inside fn.
func (db *DB) View(fn func(*Snapshot) error) error {
	s, err := db.Snapshot()
	if err != nil {
		return err
	}
	defer s.Release()
	return fn(s)
}

// Update runs fn in a new transaction and commits it when fn returns nil;
// when fn returns an error or panics, the transaction is rolled back and
// the error returned (the panic goes on). Unlike Begin, Update waits for
// the transaction of another goroutine to end instead of failing with
// ErrTxnActive. fn must not end the transaction itself.
func (db *DB) Update(fn func(*Txn) error) error {
	if err := db.takeWriter(true); err != nil {
		return err
	}
	t, err := db.begin()
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = t.Rollback()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	committed = true
	return t.Commit()
}

// errWrittenInPlace is the error of a file being written over in place,
// whose body does not match its header yet.
var errWrittenInPlace = errors.New("written over in place: its body does not match its header's checksum (yet)")

// refreshNow is refresh for a reader that found stale, the current
// version (nil for none), superseded. It is rate-limited after a failure
// or when stale stays current (superseded without a successor yet), so
// that readers do not stat the file on every call while it cannot be
// switched to; a version another reader switched to is no reason to
// wait.
func (db *DB) refreshNow(stale *version) error {
	now := time.Now().UnixNano()
	if now < db.retryAt.Load() {
		return nil
	}
	if _, err := db.refresh(); err != nil || db.cur.Load() == stale {
		db.retryAt.Store(now + int64(10*time.Millisecond))
		return err
	}
	return nil
}

// Reload maps the newest version of the file now, as a reader does on its
// own when it notices one. It fails with ErrTxnActive while a transaction
// is open, as MMapDB refuses to reconnect inside a transaction.
func (db *DB) Reload() error {
	if db.closed.Load() {
		return ErrClosed
	}
	if len(db.writer) > 0 {
		return ErrTxnActive
	}
	_, err := db.refresh()
	return err
}

// Stats returns the DB's counters.
func (db *DB) Stats() Stats {
	return Stats{
		Reloads: db.reloads.Load(),
		Commits: db.commits.Load(),
		Inserts: db.inserts.Load(),
		Deletes: db.deletes.Load(),
	}
}

// refresh maps the file at the path if it is not the current version, or
// if the current version has been superseded. It reports whether it
// switched.
func (db *DB) refresh() (bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed.Load() {
		return false, ErrClosed
	}
	cur := db.cur.Load()
	for attempt := 0; ; attempt++ {
		if cur != nil {
			fi, err := os.Stat(db.path)
			if err != nil {
				return false, fmt.Errorf("mmapdb: %w", err)
			}
			if cur.current(fi) {
				return false, nil
			}
		}
		v, err := openVersion(db.path)
		if err != nil {
			return false, err
		}
		// A file written over in place by another tool (its identity
		// kept) may be mapped between its header and its body: a version
		// whose bytes change under its serial would deceive the caches
		// that trust a mapping not to change. Such a version is taken
		// only once its body is whole, which the checksum tells.
		if cur != nil && v.dev == cur.dev && v.ino == cur.ino && !v.bodyIntact() {
			v.release()
			return false, fmt.Errorf("mmapdb: %s: %w", db.path, errWrittenInPlace)
		}
		// A version superseded between stat and map: try the next one,
		// but take it anyway after a few rounds: it is still consistent.
		valid := false
		if err := fault.Call(func() error { valid = v.valid(); return nil }); err != nil {
			v.release()
			return false, err
		}
		if !valid && attempt < 3 {
			v.release()
			continue
		}
		db.cur.Store(v)
		if cur != nil {
			cur.release()
			db.reloads.Add(1)
		}
		return true, nil
	}
}

// check compares the file's identity with the mapped version and arms
// the next check, until Close.
func (db *DB) check() {
	// A missing or broken file keeps the current version serving; the next
	// check tries again. After Close, refresh does nothing.
	_, _ = db.refresh()
	db.watchMu.Lock()
	if !db.closed.Load() {
		db.watch.Reset(db.opts.CheckInterval)
	}
	db.watchMu.Unlock()
}
