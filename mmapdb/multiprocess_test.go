package mmapdb

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The readers test's database: generation g holds genCount(g) records
// spread over the leaves v/0 .. v/7, plus one record under "gen" (none in
// generation 0, the empty database), and the data of every record is g in
// decimal. A reader that mixes two versions sees data that disagrees with
// the generation in the header, or a record count that does not fit it.
const (
	genVersions   = 100 // generations the writer commits after generation 0
	genCheckpoint = 10  // the writer waits for the readers every so many
	genLeaves     = 8
	genReaders    = 8 // reader goroutines in the parent
)

func genCount(g uint64) int {
	if g == 0 {
		return 0
	}
	return 300 + int(g*137%700)
}

// genLeafCount is the number of records under v/m in generation g.
func genLeafCount(g uint64, m int) int { return (genCount(g) - m + genLeaves - 1) / genLeaves }

// genWrite replaces the content of tx with generation g.
func genWrite(tx *Txn, g uint64) error {
	if err := tx.Clear(); err != nil {
		return err
	}
	data := []byte(strconv.FormatUint(g, 10))
	for j := range genCount(g) {
		keys := []string{"v", strconv.Itoa(j % genLeaves)}
		if _, err := tx.Insert(keys, fmt.Appendf(nil, "%05d", j), data); err != nil {
			return err
		}
	}
	_, err := tx.Insert([]string{"gen"}, nil, data)
	return err
}

// genCheck reads s through lookups and a full iteration and checks that
// all it sees belongs to the one generation in its header. It returns
// that generation.
func genCheck(s *Snapshot) (uint64, error) {
	g := s.Generation()
	if g > genVersions {
		return g, fmt.Errorf("generation %d, only %d were committed", g, genVersions)
	}
	data := strconv.FormatUint(g, 10)
	wantLen := genCount(g)
	if g > 0 {
		wantLen++
	}
	if s.Len() != uint64(wantLen) {
		return g, fmt.Errorf("generation %d: header says %d records, want %d", g, s.Len(), wantLen)
	}
	l, err := s.Lookup("gen")
	if err != nil {
		return g, err
	}
	if want := min(int(g), 1); l.Len() != want {
		return g, fmt.Errorf("generation %d: %d records under gen, want %d", g, l.Len(), want)
	}
	if l.Len() == 1 {
		r, err := l.At(0)
		if err != nil {
			return g, err
		}
		if string(r.Data) != data {
			return g, fmt.Errorf("generation %d: gen says %q", g, r.Data)
		}
	}
	for m := range genLeaves {
		l, err := s.Lookup("v", strconv.Itoa(m))
		if err != nil {
			return g, err
		}
		if want := genLeafCount(g, m); l.Len() != want {
			return g, fmt.Errorf("generation %d: %d records under v/%d, want %d", g, l.Len(), m, want)
		}
		for i := range l.Len() {
			r, err := l.At(i)
			if err != nil {
				return g, err
			}
			if want := fmt.Sprintf("%05d", i*genLeaves+m); string(r.Sort) != want || string(r.Data) != data {
				return g, fmt.Errorf("generation %d: v/%d record %d is %q=%q, want %q=%q", g, m, i, r.Sort, r.Data, want, data)
			}
		}
	}
	n := 0
	for r, err := range s.All() {
		if err != nil {
			return g, err
		}
		if string(r.Data) != data {
			return g, fmt.Errorf("generation %d: record %d has data %q", g, r.ID, r.Data)
		}
		n++
	}
	if n != wantLen {
		return g, fmt.Errorf("generation %d: iteration found %d records, want %d", g, n, wantLen)
	}
	return g, nil
}

// genRead takes a snapshot of db, checks it and releases it.
func genRead(db *DB) (uint64, error) {
	s, err := db.Snapshot()
	if err != nil {
		return 0, err
	}
	defer s.Release()
	return genCheck(s)
}

// runGenWriter is the writing child of the readers test: on "go" it
// commits generations 1..genVersions, and after each checkpoint waits for
// "ack <g>", the parent's word that every reader has seen it.
func runGenWriter(path string, in *childInput) error {
	db, err := Open(path, &Options{LockTimeout: childWait, CheckInterval: -1})
	if err != nil {
		return err
	}
	tellParent("ready")
	if cmd := in.next(); cmd != "go" {
		return fmt.Errorf("command %q, want go", cmd)
	}
	for g := uint64(1); g <= genVersions; g++ {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if base := tx.Base().Generation(); base != g-1 {
			tx.Rollback()
			return fmt.Errorf("transaction starts from generation %d, want %d", base, g-1)
		}
		if err := genWrite(tx, g); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		tellParent("committed %d", g)
		if g%genCheckpoint == 0 {
			if cmd, want := in.next(), fmt.Sprintf("ack %d", g); cmd != want {
				return fmt.Errorf("command %q, want %q", cmd, want)
			}
		}
	}
	return nil
}

// runGenReader is the reading child of the readers test: it reads and
// checks snapshots until it sees the last generation, reporting "ready"
// after its first read and "saw <g>" for each new generation. It gives
// up when no new generation has come for childWait: a bound on a writer
// that hangs, not on the whole run, which takes longer than that on a
// loaded machine.
func runGenReader(path string, _ *childInput) error {
	db, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	seen := map[uint64]bool{}
	deadline := time.Now().Add(childWait)
	for reads := 0; ; reads++ {
		g, err := genRead(db)
		if err != nil {
			return fmt.Errorf("read %d: %w", reads, err)
		}
		if reads == 0 {
			tellParent("ready")
		}
		if !seen[g] {
			seen[g] = true
			tellParent("saw %d", g)
			deadline = time.Now().Add(childWait)
		}
		if g == genVersions {
			tellParent("distinct %d reads %d reloads %d", len(seen), reads+1, db.Stats().Reloads)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("generation %d for %v, want %d", g, childWait, genVersions)
		}
	}
}

// TestReadersSeeOneVersionWhileAnotherProcessCommits has a child process
// commit generation after generation while reader goroutines in this
// process and a reader in another process check that every snapshot shows
// exactly one generation: its header, lookups and a full iteration agree.
func TestReadersSeeOneVersionWhileAnotherProcessCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gen.mmdb")
	createGeneration0(t, path)

	db, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	reader := startChild(t, "gen-reader", path)
	reader.expect("ready")
	writer := startChild(t, "gen-writer", path)
	writer.expect("ready")

	// seen[g] is closed once a goroutine has read generation g.
	var seen [genVersions + 1]chan struct{}
	var once [genVersions + 1]sync.Once
	for g := range seen {
		seen[g] = make(chan struct{})
	}
	var (
		stop     atomic.Bool           // readers give up
		failed   = make(chan struct{}) // closed at the first failure
		failOnce sync.Once
		mu       sync.Mutex
		failures []string
		distinct = map[uint64]bool{}
		reads    atomic.Int64
		wg       sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
		stop.Store(true)
		failOnce.Do(func() { close(failed) })
	}
	for r := range genReaders {
		wg.Go(func() {
			for !stop.Load() {
				g, err := genRead(db)
				reads.Add(1)
				if err != nil {
					fail("reader %d: %v", r, err)
					return
				}
				once[g].Do(func() {
					mu.Lock()
					distinct[g] = true
					mu.Unlock()
					close(seen[g])
				})
				if g == genVersions {
					return
				}
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	writer.send("go")
	for g := genCheckpoint; g <= genVersions; g += genCheckpoint {
		want := fmt.Sprintf("committed %d", g)
		if _, ok := writer.next(func(l string) bool { return l == want }, childWait); !ok {
			t.Fatalf("no %q from %v", want, writer)
		}
		select {
		case <-seen[g]:
		case <-failed:
			stop.Store(true)
			wg.Wait()
			t.Fatalf("reader goroutines failed: %q", failures)
		case <-time.After(childWait):
			t.Fatalf("no reader goroutine saw generation %d within %v", g, childWait)
		}
		want = fmt.Sprintf("saw %d", g)
		if _, ok := reader.next(func(l string) bool { return l == want }, childWait); !ok {
			t.Fatalf("no %q from %v", want, reader)
		}
		writer.send(fmt.Sprintf("ack %d", g))
	}
	if err := writer.wait(); err != nil {
		t.Fatalf("%v: %v", writer, err)
	}
	summary := reader.expect("distinct ")
	if err := reader.wait(); err != nil {
		t.Fatalf("%v: %v", reader, err)
	}
	wg.Wait()

	for _, f := range failures {
		t.Error(f)
	}
	var childDistinct, childReads int
	var childReloads uint64
	if _, err := fmt.Sscanf(summary, "distinct %d reads %d reloads %d", &childDistinct, &childReads, &childReloads); err != nil {
		t.Fatalf("reader child said %q: %v", summary, err)
	}
	st := db.Stats()
	t.Logf("parent: %d reads over %d goroutines saw %d distinct generations, %d reloads; reader process: %d reads saw %d distinct generations, %d reloads",
		reads.Load(), genReaders, len(distinct), st.Reloads, childReads, childDistinct, childReloads)
	if atLeast := genVersions / genCheckpoint; len(distinct) < atLeast || childDistinct < atLeast {
		t.Errorf("distinct generations seen: %d in this process, %d in the reader process; want at least %d each", len(distinct), childDistinct, atLeast)
	}
	if g, err := genRead(db); err != nil || g != genVersions {
		t.Errorf("final generation %d, %v; want %d", g, err, genVersions)
	}
	if st.Reloads == 0 {
		t.Error("Stats().Reloads = 0: the reader never switched versions")
	}
	if err := VerifyFile(path, nil); err != nil {
		t.Error(err)
	}
}

// runLockHolder is the child of the lock test: it begins a transaction,
// inserts a record, leaves a temporary file as a writer killed in the
// middle of a commit would, reports "locked <temp file>", and then on
// "commit" or "rollback" ends the transaction and reports "released".
func runLockHolder(path string, in *childInput) error {
	db, err := Open(path, &Options{LockTimeout: childWait, CheckInterval: -1})
	if err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Insert([]string{"holder"}, nil, []byte("committed by the lock holder")); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), tempPrefix(path)+"*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString("half a database"); err != nil {
		return err
	}
	tellParent("locked %s", tmp.Name())
	switch cmd := in.next(); cmd {
	case "commit":
		err = tx.Commit()
	case "rollback":
		err = tx.Rollback()
	default:
		err = fmt.Errorf("command %q", cmd)
	}
	if err != nil {
		return err
	}
	tellParent("released")
	in.next() // wait for EOF: exit only when the parent is done
	return nil
}

// TestLockSerialisesWritersAcrossProcesses holds a transaction open in a
// child process and checks that Begin in another process waits for it:
// with a LockTimeout it fails with ErrLockFailed, without one it returns
// only once the child has committed, rolled back or been killed, works
// from the version the child left, and removes the child's temporary file.
func TestLockSerialisesWritersAcrossProcesses(t *testing.T) {
	tests := []struct {
		name    string
		release func(t *testing.T, c *childProcess)
		wantGen uint64 // the generation the next Begin starts from
		kept    int    // records of the lock holder it finds
	}{
		{"commit releases the lock", func(t *testing.T, c *childProcess) {
			c.send("commit")
			c.expect("released")
		}, 1, 1},
		{"rollback releases the lock", func(t *testing.T, c *childProcess) {
			c.send("rollback")
			c.expect("released")
		}, 0, 0},
		{"SIGKILL releases the lock", func(t *testing.T, c *childProcess) {
			c.kill()
			if err := c.wait(); !killedBySIGKILL(err) {
				t.Fatalf("%v did not die of SIGKILL: %v", c, err)
			}
		}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lock.mmdb")
			createGeneration0(t, path)
			impatient, err := Open(path, &Options{LockTimeout: 100 * time.Millisecond, CheckInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer impatient.Close()

			holder := startChild(t, "lock-holder", path)
			line := holder.expect("locked ")
			stale := line[len("locked "):]

			if tx, err := impatient.Begin(); !errors.Is(err, ErrLockFailed) {
				if err == nil {
					tx.Rollback()
				}
				t.Fatalf("Begin while another process holds the lock: %v, want ErrLockFailed", err)
			}

			patient, err := Open(path, &Options{LockTimeout: childWait, CheckInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer patient.Close()
			var released atomic.Bool
			type result struct {
				tx           *Txn
				err          error
				afterRelease bool
			}
			begun := make(chan result, 1)
			go func() {
				tx, err := patient.Begin()
				begun <- result{tx: tx, err: err, afterRelease: released.Load()}
			}()

			// The lock is still held, and the patient Begin still waits.
			if tx, err := impatient.Begin(); !errors.Is(err, ErrLockFailed) {
				if err == nil {
					tx.Rollback()
				}
				t.Fatalf("second Begin while another process holds the lock: %v, want ErrLockFailed", err)
			}
			select {
			case r := <-begun:
				t.Fatalf("Begin returned (%v) while another process holds the lock", r.err)
			default:
			}

			released.Store(true)
			tt.release(t, holder)

			var r result
			select {
			case r = <-begun:
			case <-time.After(childWait):
				t.Fatalf("Begin still waiting %v after the lock holder let go", childWait)
			}
			if r.err != nil {
				t.Fatalf("Begin after the lock holder let go: %v", r.err)
			}
			defer r.tx.Rollback()
			if !r.afterRelease {
				t.Error("Begin returned before the lock holder let go")
			}
			if g := r.tx.Base().Generation(); g != tt.wantGen {
				t.Errorf("Begin works from generation %d, want %d", g, tt.wantGen)
			}
			if recs, err := r.tx.Lookup("holder"); err != nil || len(recs) != tt.kept {
				t.Errorf("Begin finds %d records of the lock holder (%v), want %d", len(recs), err, tt.kept)
			}
			if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("temporary file %s of the lock holder survives the next Begin: %v", stale, err)
			}
			if left := writerTempFiles(t, path); len(left) > 0 {
				t.Errorf("temporary files after Begin: %q", left)
			}
			if _, err := r.tx.Insert([]string{"next"}, nil, []byte("writer")); err != nil {
				t.Fatal(err)
			}
			if err := r.tx.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := VerifyFile(path, nil); err != nil {
				t.Error(err)
			}
			// And the lock is free again for a process that does not wait.
			tx, err := impatient.Begin()
			if err != nil {
				t.Fatalf("Begin after the last writer committed: %v", err)
			}
			if g := tx.Base().Generation(); g != tt.wantGen+1 {
				t.Errorf("generation %d after the last commit, want %d", g, tt.wantGen+1)
			}
			tx.Rollback()
		})
	}
}

// TestReaderPicksUpDatabaseReplacedByRename replaces the file under an
// open reader the way other tools do (a complete database renamed over
// it, no valid flag cleared) and checks that the reader moves to it
// through its periodic identity check.
func TestReaderPicksUpDatabaseReplacedByRename(t *testing.T) {
	// commitMarker commits one version whose "marker" record says m.
	commitMarker := func(t *testing.T, db *DB, m string) {
		t.Helper()
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Clear(); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Insert([]string{"marker"}, nil, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		// replacement writes, while path holds marker "current", a
		// complete database with marker "replacement" and returns it.
		replacement func(t *testing.T, db *DB, path string) string
	}{
		{"backup of an older version", func(t *testing.T, db *DB, path string) string {
			commitMarker(t, db, "replacement")
			backup := filepath.Join(t.TempDir(), "backup.mmdb")
			if err := db.Backup(backup); err != nil {
				t.Fatal(err)
			}
			commitMarker(t, db, "current")
			return backup
		}},
		{"database built in another directory", func(t *testing.T, _ *DB, _ string) string {
			other := filepath.Join(t.TempDir(), "other.mmdb")
			odb, err := Open(other, &Options{CheckInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer odb.Close()
			for range 3 {
				commitMarker(t, odb, "replacement")
			}
			return other
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "replaced.mmdb")
			w, err := Open(path, &Options{CheckInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			repl := tt.replacement(t, w, path)
			commitMarker(t, w, "current")

			r, err := Open(path, &Options{ReadOnly: true, CheckInterval: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			old, err := r.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			defer old.Release()
			if m := replacedMarker(t, old); m != "current" {
				t.Fatalf("reader starts with marker %q, want current", m)
			}
			replGen := generationOfFile(t, repl)

			if err := os.Rename(repl, path); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				s, err := r.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				m, g := replacedMarker(t, s), s.Generation()
				s.Release()
				if m == "replacement" {
					if g != replGen {
						t.Errorf("replacement read as generation %d, the file has %d", g, replGen)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reader still sees marker %q 5s after the file was replaced", m)
				}
				time.Sleep(5 * time.Millisecond) // polling the background identity check
			}
			if old.Superseded() {
				t.Error("the replaced version's valid flag was cleared: the reader did not need the identity check")
			}
			if replacedMarker(t, old) != "current" {
				t.Error("a snapshot taken before the replacement changed")
			}
			if st := r.Stats(); st.Reloads == 0 {
				t.Error("Stats().Reloads = 0 after picking up the replacement")
			}
		})
	}
}

// createGeneration0 creates the empty database, generation 0, at path, as the
// first Begin does.
func createGeneration0(t *testing.T, path string) {
	t.Helper()
	beginRollback(t, path, &Options{CheckInterval: -1})
}

// beginRollback opens the database at path, begins a transaction and rolls
// it back: what creates a missing database and clears the temporary files
// of dead writers, without a commit.
func beginRollback(t *testing.T, path string, opts *Options) {
	t.Helper()
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}

// replacedMarker returns the data of the "marker" record of s.
func replacedMarker(t *testing.T, s *Snapshot) string {
	t.Helper()
	l, err := s.Lookup("marker")
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 1 {
		t.Fatalf("%d marker records, want 1", l.Len())
	}
	r, err := l.At(0)
	if err != nil {
		t.Fatal(err)
	}
	return string(r.Data)
}

// generationOfFile returns the generation of the database file at path.
func generationOfFile(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	return s.Generation()
}

// Churn bounds for TestReadersNeverTouchAnUnmappedVersion: the readers
// stop after churnReloads version switches or churnTime, whichever first.
const (
	churnReloads = 500
	churnTime    = 2 * time.Second
	churnReaders = 8
)

// runChurnWriter commits tiny versions as fast as it can until it is told
// to stop.
func runChurnWriter(path string, in *childInput) error {
	db, err := Open(path, &Options{LockTimeout: childWait, CheckInterval: -1})
	if err != nil {
		return err
	}
	tellParent("ready")
	for g := 0; ; g++ {
		select {
		case cmd := <-in.lines:
			if cmd != "stop" {
				return fmt.Errorf("command %q, want stop", cmd)
			}
			return nil
		default:
		}
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if err := tx.Clear(); err != nil {
			return err
		}
		if _, err := tx.Insert([]string{"g"}, nil, strconv.AppendInt(nil, int64(g), 10)); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

// runChurnReader takes and releases snapshots in several goroutines,
// doing nothing in between, so that the DB switches versions while other
// goroutines are between loading the current version and pinning it. It
// reports "reloads <n> snapshots <m>" at the end.
func runChurnReader(path string, _ *childInput) error {
	db, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		return err
	}
	defer db.Close()
	tellParent("ready")
	var (
		stop      atomic.Bool
		snapshots atomic.Int64
		wg        sync.WaitGroup
		mu        sync.Mutex
		firstErr  error
	)
	for range churnReaders {
		wg.Go(func() {
			var last uint64
			for !stop.Load() {
				s, err := db.Snapshot()
				if err == nil {
					g := s.Generation()
					s.Release()
					if g < last {
						err = fmt.Errorf("generation went back from %d to %d", last, g)
					}
					last = g
				}
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
					stop.Store(true)
					return
				}
				snapshots.Add(1)
			}
		})
	}
	deadline := time.Now().Add(churnTime)
	for db.Stats().Reloads < churnReloads && time.Now().Before(deadline) && !stop.Load() {
		time.Sleep(time.Millisecond) // pacing the check of the counters
	}
	stop.Store(true)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	tellParent("reloads %d snapshots %d", db.Stats().Reloads, snapshots.Load())
	return nil
}

// TestReadersNeverTouchAnUnmappedVersion runs reader goroutines that do
// nothing but take and release snapshots while another process commits
// as fast as it can. A superseded version is unmapped when its last
// snapshot is released; a reader that looks at a version's mapping (its
// valid flag) before pinning it faults on the unmapped memory. The
// readers run in a child process so that such a fault fails this test
// instead of killing the test binary.
func TestReadersNeverTouchAnUnmappedVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "churn.mmdb")
	createGeneration0(t, path)
	writer := startChild(t, "churn-writer", path)
	writer.expect("ready")
	reader := startChild(t, "churn-reader", path)
	reader.expect("ready")
	line, ok := reader.next(func(l string) bool { return strings.HasPrefix(l, "reloads ") }, childWait)
	if !ok {
		t.Fatalf("reader process failed: %v", reader)
	}
	if err := reader.wait(); err != nil {
		t.Fatalf("%v: %v", reader, err)
	}
	writer.send("stop")
	if err := writer.wait(); err != nil {
		t.Errorf("%v: %v", writer, err)
	}
	t.Logf("reader process: %s", line)
}
