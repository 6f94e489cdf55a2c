package httpprovider

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"transdb/internal/fault"
	"transdb/mmapdb"
)

// Automatic backups. After a commit of the server to a file whose
// backups are configured, a goroutine of the file's backupper copies the
// newest version, pinned, to the backup directory (mmapdb.WriteBackup:
// a temporary file, fsync, verification, rename) and then prunes the
// backups by the layered policy. The commit's answer does not wait for
// it, and no request does. Backups never overlap; the commits made while
// one is written are followed by one backup of the newest version, and
// with Every by none before Every has passed since the last one.

// Backups configure the automatic backups of one database file (see
// Options.Backups).
type Backups struct {
	// Dir is the directory the backups are written to. It must exist.
	Dir string

	// Every is the shortest time between the starts of two backups:
	// commits made sooner after a backup are backed up together, Every
	// after it. Zero means a backup after every commit (or after every
	// backup, when commits come faster than backups).
	Every time.Duration

	// Policy says which backups stay (mmapdb.PruneBackups): it is
	// applied after each backup and when the server starts.
	Policy mmapdb.BackupPolicy
}

// A clock tells the time of the backups and runs the ones held back by
// Every; tests replace the real one.
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d and returns a
	// function that cancels the call, reporting whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// realClock is the clock of the system.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// A backupper takes the automatic backups of one database file.
type backupper struct {
	f     *dbFile
	opts  Backups
	log   *slog.Logger
	clock clock

	mu      sync.Mutex
	idle    sync.Cond   // signalled when running ends; on mu
	want    uint64      // the newest generation the server committed
	done    uint64      // the newest generation backed up, or given up after a failure
	running bool        // a backup, or the first pruning, is under way
	held    func() bool // stops the backup held back by Every; nil when none
	last    time.Time   // when the last backup started; zero before the first
	closed  bool        // Close has begun: no backup starts any more
	newest  time.Time   // when the newest backup on disk was taken; zero when none is known
	written uint64      // backups written
	failed  uint64      // backups that failed
}

// newBackupper returns the backupper of f and starts pruning f's
// backups in the background.
func newBackupper(f *dbFile, opts Backups, log *slog.Logger, c clock) *backupper {
	b := &backupper{f: f, opts: opts, log: log, clock: c, running: true}
	b.idle.L = &b.mu
	go func() {
		b.prune(b.clock.Now())
		b.mu.Lock()
		b.running = false
		b.idle.Broadcast()
		b.schedule()
		b.mu.Unlock()
	}()
	return b
}

// committed asks for a backup of generation gen, which the server has
// just committed. It does not wait for the backup.
func (b *backupper) committed(gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.want = max(b.want, gen)
	b.schedule()
}

// schedule starts the backup that is asked for, now or, when the last
// one started less than Every ago, once Every has passed. b.mu is held.
func (b *backupper) schedule() {
	if b.closed || b.running || b.held != nil || b.want <= b.done {
		return
	}
	if b.opts.Every > 0 && !b.last.IsZero() {
		if wait := b.last.Add(b.opts.Every).Sub(b.clock.Now()); wait > 0 {
			b.held = b.clock.AfterFunc(wait, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.held = nil
				b.schedule()
			})
			return
		}
	}
	b.running = true
	go b.run()
}

// run takes a backup and then lets the next one be scheduled.
func (b *backupper) run() {
	now := b.clock.Now()
	b.mu.Lock()
	target := b.want
	b.last = now
	b.mu.Unlock()

	gen, ok := b.backup(target, now)

	b.mu.Lock()
	defer b.mu.Unlock()
	// The backup holds the newest version, which commits made since the
	// run began may have made newer than target. After a failure the
	// generations asked for so far are given up: the next commit tries
	// again, rather than a loop on a full disk.
	b.done = max(b.done, target, gen)
	if ok {
		b.written++
		if now.After(b.newest) {
			b.newest = now
		}
	} else {
		b.failed++
	}
	b.running = false
	b.idle.Broadcast()
	b.schedule()
}

// backup writes a backup of the newest version, taken at now, and
// prunes the backups; it returns the generation backed up and whether
// the backup was written. target is the generation asked for, for the
// log of a failure.
func (b *backupper) backup(target uint64, now time.Time) (uint64, bool) {
	start := time.Now()
	var path string
	var gen uint64
	var size int
	err := fault.Call(func() (err error) {
		path, gen, size, err = b.write(now)
		return err
	})
	if err != nil {
		b.log.Error("httpprovider: automatic backup failed", "file", b.f.path, "generation", target, "dir", b.opts.Dir, "err", err)
		return 0, false
	}
	b.log.Info("httpprovider: backup written", "file", b.f.path, "generation", gen, "backup", path,
		"bytes", size, "took", time.Since(start).Round(time.Millisecond).String())
	b.prune(now)
	return gen, true
}

// write writes a backup of the newest version of the file, taken at
// now, and returns its path, generation and size.
func (b *backupper) write(now time.Time) (string, uint64, int, error) {
	snap, err := b.f.provider.p.Snapshot()
	if err != nil {
		return "", 0, 0, fmt.Errorf("no version to back up: %w", err)
	}
	defer snap.Release()
	data := snap.Bytes()
	path, err := mmapdb.WriteBackup(b.opts.Dir, b.f.path, data, now)
	return path, snap.Generation(), len(data), err
}

// prune deletes the backups that the policy lets go at now, and learns
// when the newest backup left was taken.
func (b *backupper) prune(now time.Time) {
	removed, err := mmapdb.PruneBackups(b.opts.Dir, b.f.path, b.opts.Policy, now)
	if len(removed) > 0 {
		b.log.Info("httpprovider: old backups deleted", "file", b.f.path, "deleted", removed)
	}
	if err != nil {
		b.log.Error("httpprovider: pruning the backups failed", "file", b.f.path, "dir", b.opts.Dir, "err", err)
		return
	}
	files, err := mmapdb.Backups(b.opts.Dir, b.f.path)
	if err != nil || len(files) == 0 {
		return
	}
	b.mu.Lock()
	if files[0].Time.After(b.newest) {
		b.newest = files[0].Time
	}
	b.mu.Unlock()
}

// settle waits until no backup is under way.
func (b *backupper) settle() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.running {
		b.idle.Wait()
	}
}

// close waits for the backup under way and then takes the one that
// Every holds back, if any, so that the last commits are backed up too.
// Later commits start no backup.
func (b *backupper) close() {
	b.mu.Lock()
	b.closed = true
	if b.held != nil {
		b.held()
		b.held = nil
	}
	for b.running {
		b.idle.Wait()
	}
	pending := b.want > b.done
	if pending {
		b.running = true
	}
	b.mu.Unlock()
	if pending {
		b.run()
	}
}

// backupState is what the metrics report of a file's backups.
type backupState struct {
	written, failed uint64
	newest          time.Time // zero when there is none
	now             time.Time
}

// state returns the counts and the time of the newest backup.
func (b *backupper) state() backupState {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	return backupState{written: b.written, failed: b.failed, newest: b.newest, now: now}
}
