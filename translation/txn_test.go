package translation_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"transdb/mmapdb"
	"transdb/translation"
)

// checkTxnEnded checks that every method of tx, which has been ended by
// how (Commit or Rollback), fails with ErrNoTxn, and that the file is
// free for the next transaction.
func checkTxnEnded(t *testing.T, p *translation.Provider, tx *translation.Txn, how string) {
	t.Helper()
	r := rec("k", "/u", 0, 0, "a", "")
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"Insert", func() error { _, err := tx.Insert(r); return err }},
		{"Update", func() error { _, _, err := tx.Update(r, r); return err }},
		{"Delete", func() error { _, err := tx.Delete(r); return err }},
		{"Clear", func() error { _, err := tx.Clear(); return err }},
		{"Append", func() error { _, err := tx.Append(recordList{r}, false); return err }},
		{"Commit", func() error { _, err := tx.Commit(); return err }},
		{"Rollback", tx.Rollback},
	} {
		if err := op.do(); !errors.Is(err, translation.ErrNoTxn) {
			t.Errorf("%s after %s: %v, want ErrNoTxn", op.name, how, err)
		}
	}
	next, err := p.Begin()
	if err != nil {
		t.Fatalf("Begin after %s: %v", how, err)
	}
	if err := next.Rollback(); err != nil {
		t.Error(err)
	}
}

// checkWaitsForOpenTxn runs write in a goroutine while a transaction of
// p, which inserts the action "in the open transaction" at k9 /, is
// open, and then commits that transaction. write is a write of p that
// runs a transaction of its own; it calls began once that transaction
// has begun and returns the generation it committed. It must wait for
// the open transaction: not begin before its commit, and commit the
// generation after it.
func checkWaitsForOpenTxn(t *testing.T, p *translation.Provider, write func(began func()) (uint64, error)) {
	t.Helper()
	tx := begin(t, p)
	mustInsert(t, tx, rec("k9", "/", 0, 0, "in the open transaction", ""))
	var began atomic.Bool
	type result struct {
		gen uint64
		err error
	}
	started := make(chan struct{})
	done := make(chan result, 1)
	go func() {
		close(started)
		gen, err := write(func() { began.Store(true) })
		done <- result{gen, err}
	}()
	<-started
	select {
	case r := <-done:
		t.Fatalf("the write returned (generation %d, %v) while a transaction was open", r.gen, r.err)
	default:
	}
	// Until Commit the open transaction holds the file: the write cannot
	// have begun.
	if began.Load() {
		t.Error("the write began its transaction while another was open")
	}
	gen, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.gen != gen+1 {
		t.Fatalf("the write = generation %d, %v; want %d, after the open transaction's %d", r.gen, r.err, gen+1, gen)
	}
	if !began.Load() {
		t.Error("the write never began a transaction")
	}
	checkFetch(t, p, "k9", "/", false, `k9 / 0 0 "in the open transaction"`)
}

// TestTxnBelongsToItsCaller keeps a transaction open on each of two
// files at once, each in its own goroutine: they do not get in each
// other's way, and each commit lands in its own file.
func TestTxnBelongsToItsCaller(t *testing.T) {
	providers := []*translation.Provider{writable(t), writable(t)}
	const records = 20
	var open sync.WaitGroup // both transactions are open
	open.Add(len(providers))
	errs := make(chan error, len(providers))
	for i, p := range providers {
		go func() {
			errs <- func() error {
				tx, err := p.Begin()
				if err != nil {
					open.Done()
					return err
				}
				defer tx.Rollback()
				open.Done()
				open.Wait()
				for j := range records {
					if _, err := tx.Insert(rec(fmt.Sprint("file", i), "/", 0, uint32(j), fmt.Sprint(j), "")); err != nil {
						return err
					}
				}
				gen, err := tx.Commit()
				if err != nil || gen != 1 {
					return fmt.Errorf("Commit in file %d = %d, %v; want generation 1", i, gen, err)
				}
				return nil
			}()
		}()
	}
	for range providers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for i, p := range providers {
		keys, err := p.ListKeys()
		if want := []string{fmt.Sprint("file", i)}; err != nil || !reflect.DeepEqual(keys, want) {
			t.Errorf("keys of file %d = %q, %v; want %q", i, keys, err, want)
		}
		if st, err := p.Stats(); err != nil || st.Generation != 1 || st.Records != records || st.Commits != 1 || st.Creates != records {
			t.Errorf("Stats of file %d = %+v, %v; want generation 1, %d records, 1 commit", i, st, err, records)
		}
	}
}

// TestUpdateQueuesConcurrentWriters runs Update from 8 goroutines at
// once, through two providers with different base keys on one file:
// each waits for the others' transactions, and every insert lands.
func TestUpdateQueuesConcurrentWriters(t *testing.T) {
	path := dbPath(t)
	providers := []*translation.Provider{
		newProvider(t, translation.Options{FileName: path, BaseKey: []string{"a"}}),
		newProvider(t, translation.Options{FileName: path, BaseKey: []string{"b"}}),
	}
	if err := providers[0].Start(); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	start := make(chan struct{})
	gens := make(chan uint64, writers)
	errs := make(chan error, writers)
	for i := range writers {
		p := providers[i%len(providers)]
		go func() {
			<-start
			gen, err := p.Update(func(tx *translation.Txn) error {
				_, err := tx.Insert(rec("k", fmt.Sprint("/", i), 0, 0, fmt.Sprint("writer ", i), "n"))
				return err
			})
			gens <- gen
			errs <- err
		}()
	}
	close(start)
	var got []uint64
	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("Update: %v", err)
		}
		got = append(got, <-gens)
	}
	slices.Sort(got)
	if want := []uint64{1, 2, 3, 4, 5, 6, 7, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("Update returned generations %v, want %v", got, want)
	}
	for i, p := range providers {
		var want []string
		for w := i; w < writers; w += len(providers) {
			want = append(want, fmt.Sprintf(`k /%d 0 0 "writer %d" "n"`, w, w))
		}
		if got := brief(t, collect(t, p)); !reflect.DeepEqual(got, want) {
			t.Errorf("table %q holds\n%q\nwant\n%q", p.BaseKey(), got, want)
		}
		st, err := p.Stats()
		if err != nil || st.Generation != writers || st.Commits != writers/2 || st.Creates != writers/2 || st.StoredRecords != 2*writers {
			t.Errorf("Stats of %q = %+v, %v; want generation %d, %d commits and creates, %d stored records",
				p.BaseKey(), st, err, writers, writers/2, 2*writers)
		}
	}
}

func TestUpdateRollsBackOnErrorAndPanic(t *testing.T) {
	p := writable(t)
	insert := func(tx *translation.Txn) {
		if _, err := tx.Insert(rec("k", "/u", 0, 0, "a", "n")); err != nil {
			t.Fatal(err)
		}
	}
	// checkNothingChanged checks that the file is at generation 0, empty,
	// and free for the next transaction.
	checkNothingChanged := func(after string) {
		t.Helper()
		if st, err := p.Stats(); err != nil || st.Generation != 0 || st.StoredRecords != 0 || st.Commits != 0 || st.Creates != 0 {
			t.Errorf("Stats after %s = %+v, %v; want generation 0, nothing stored, no commits", after, st, err)
		}
		checkFetch(t, p, "k", "/u", true)
		tx, err := p.Begin()
		if err != nil {
			t.Fatalf("Begin after %s: %v", after, err)
		}
		tx.Rollback()
	}

	errFailed := errors.New("fn failed")
	var inside *translation.Txn
	gen, err := p.Update(func(tx *translation.Txn) error {
		inside = tx
		insert(tx)
		return fmt.Errorf("wrapped: %w", errFailed)
	})
	if !errors.Is(err, errFailed) || gen != 0 {
		t.Errorf("Update with a failing fn = %d, %v; want 0 and fn's error", gen, err)
	}
	checkNothingChanged("an error")
	if _, err := inside.Insert(rec("k", "/u", 0, 1, "b", "")); !errors.Is(err, translation.ErrNoTxn) {
		t.Errorf("Insert into the transaction of a failed Update: %v, want ErrNoTxn", err)
	}

	panicked := func() (v any) {
		defer func() { v = recover() }()
		p.Update(func(tx *translation.Txn) error {
			insert(tx)
			panic("fn panics")
		})
		return nil
	}()
	if panicked != "fn panics" {
		t.Errorf("Update with a panicking fn: recovered %v, want fn's panic", panicked)
	}
	checkNothingChanged("a panic")

	gen, err = p.Update(func(tx *translation.Txn) error {
		insert(tx)
		return nil
	})
	if err != nil || gen != 1 {
		t.Fatalf("Update = %d, %v; want generation 1", gen, err)
	}
	checkFetch(t, p, "k", "/u", true, `k /u 0 0 "a" "n"`)
	if st, err := p.Stats(); err != nil || st.Generation != 1 || st.Commits != 1 || st.Creates != 1 {
		t.Errorf("Stats after a committed Update = %+v, %v; want generation 1, 1 commit, 1 create", st, err)
	}
}

func TestClearReturnsTheActionsRemoved(t *testing.T) {
	path := dbPath(t)
	p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}})
	other := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"other"}})
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx,
			rec("k", "/u", 0, 0, "a", "note a"),
			rec("k", "/u", 0, 1, "b", ""),
			rec("k2", "/v", 0, 0, "c", "note c"),
		)
	})
	inTxn(t, other, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k", "/u", 0, 0, "other", "other note"), rec("k3", "/w", 0, 0, "other 2", ""))
	})
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k4", "/x", 0, 0, "pending", "pending note"))
		if n, err := tx.Clear(); err != nil || n != 4 {
			t.Errorf("Clear = %d, %v; want 4: 3 committed actions and 1 pending, notes not counted", n, err)
		}
		if n, err := tx.Clear(); err != nil || n != 0 {
			t.Errorf("second Clear = %d, %v; want 0", n, err)
		}
	})
	if got := collect(t, p); len(got) != 0 {
		t.Errorf("the cleared table holds %v", got)
	}
	checkFetch(t, other, "k", "/u", true, `k /u 0 0 "other" "other note"`)
	checkFetch(t, other, "k3", "/w", true, `k3 /w 0 0 "other 2"`)
	if st, err := p.Stats(); err != nil || st.Records != 0 || st.StoredRecords != 3 {
		t.Errorf("Stats after Clear = %+v, %v; want no records, 3 stored (those of the other base key)", st, err)
	}
}

func TestCountersCountActions(t *testing.T) {
	path := dbPath(t)
	p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}})
	other := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"other"}})
	check := func(after string, records int, stored, commits, creates, deletes uint64) {
		t.Helper()
		st, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != records || st.StoredRecords != stored || st.Commits != commits || st.Creates != creates || st.Deletes != deletes {
			t.Errorf("after %s: Stats = %+v; want %d records, %d stored, %d commits, %d creates, %d deletes",
				after, st, records, stored, commits, creates, deletes)
		}
	}
	var id uint64
	inTxn(t, p, func(tx *translation.Txn) { id = mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "note"))[0] })
	check("an insert with a note", 1, 2, 1, 1, 0)

	tx := begin(t, p)
	mustInsert(t, tx, rec("k", "/u", 0, 1, "b", "note"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	check("a rollback", 1, 2, 1, 1, 0)

	inTxn(t, other, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "other", "")) })
	check("a commit of another provider", 1, 3, 1, 1, 0)

	inTxn(t, p, func(tx *translation.Txn) {
		if n, err := tx.Delete(translation.Record{Key: "k", URI: "/u", ID: id}); err != nil || n != 1 {
			t.Fatalf("Delete = %d, %v; want 1", n, err)
		}
	})
	check("a delete", 0, 1, 2, 1, 1)

	if _, err := p.Update(func(tx *translation.Txn) error {
		mustInsert(t, tx, rec("k", "/u", 0, 0, "c", ""), rec("k", "/v", 0, 0, "d", "note"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("an Update of two inserts", 2, 4, 3, 3, 1)

	if st, err := other.Stats(); err != nil || st.Commits != 1 || st.Creates != 1 || st.Deletes != 0 || st.Records != 1 {
		t.Errorf("Stats of the other provider = %+v, %v; want 1 commit, 1 create, 1 record", st, err)
	}
}

func TestSnapshotReleaseIsIdempotent(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "n")) })
	released, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	held, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	released.Release()
	released.Release() // does nothing: it must not drop the pin of held

	// Two commits supersede the version; held keeps it mapped.
	for i := range 2 {
		inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 1, uint32(i), "later", "")) })
	}
	if !held.Superseded() || held.Generation() != 1 {
		t.Errorf("held snapshot: superseded %v, generation %d; want true, 1", held.Superseded(), held.Generation())
	}
	if got := brief(t, collect(t, held)); !reflect.DeepEqual(got, []string{`k /u 0 0 "a" "n"`}) {
		t.Errorf("held snapshot of a superseded version holds %q", got)
	}
	list, err := held.Fetch("k", "/u", true)
	if got := brief(t, list); err != nil || !reflect.DeepEqual(got, []string{`k /u 0 0 "a" "n"`}) {
		t.Errorf("Fetch through the held snapshot = %q, %v", got, err)
	}

	// The released handle refuses to read.
	if _, err := released.Fetch("k", "/u", true); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("Fetch after Release: %v, want ErrReleased", err)
	}
	if _, err := released.ListKeys(); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("ListKeys after Release: %v, want ErrReleased", err)
	}
	var iterErr error
	for _, err := range released.Iterator() {
		iterErr = err
	}
	if !errors.Is(iterErr, mmapdb.ErrReleased) {
		t.Errorf("Iterator after Release: %v, want ErrReleased", iterErr)
	}
	if _, err := released.Resolve("k", "/u"); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("Resolve after Release: %v, want ErrReleased", err)
	}
	if b := released.Bytes(); b != nil {
		t.Errorf("Bytes after Release = %d bytes, want nil", len(b))
	}

	held.Release()
	held.Release()
	if _, err := held.Fetch("k", "/u", true); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("Fetch after the second Release: %v, want ErrReleased", err)
	}
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`, `k /u 1 0 "later"`, `k /u 1 1 "later"`)
}

func TestViewReleasesItsSnapshot(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "")) })
	var seen *translation.Snapshot
	err := p.View(func(s *translation.Snapshot) error {
		seen = s
		// The view keeps its version while commits go on.
		inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 1, "b", "")) })
		list, err := s.Fetch("k", "/u", false)
		if got := brief(t, list); err != nil || s.Generation() != 1 || !reflect.DeepEqual(got, []string{`k /u 0 0 "a"`}) {
			t.Errorf("Fetch inside View = %q, %v at generation %d; want the version of generation 1", got, err, s.Generation())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seen.Fetch("k", "/u", false); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("Fetch through the snapshot of View after it returned: %v, want ErrReleased", err)
	}

	errFailed := errors.New("fn failed")
	seen = nil
	if err := p.View(func(s *translation.Snapshot) error { seen = s; return errFailed }); err != errFailed {
		t.Errorf("View = %v, want fn's error", err)
	}
	if _, err := seen.ListKeys(); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("ListKeys through the snapshot of a failed View: %v, want ErrReleased", err)
	}

	func() {
		defer func() { recover() }()
		p.View(func(s *translation.Snapshot) error { seen = s; panic("fn panics") })
	}()
	if _, err := seen.ListKeys(); !errors.Is(err, mmapdb.ErrReleased) {
		t.Errorf("ListKeys through the snapshot of a panicking View: %v, want ErrReleased", err)
	}
}

func TestTxnAfterCommitFailsWithErrNoTxn(t *testing.T) {
	p := writable(t)
	var id uint64
	inTxn(t, p, func(tx *translation.Txn) { id = mustInsert(t, tx, rec("k", "/u", 0, 0, "a", ""))[0] })
	tx := begin(t, p)
	base := tx.Generation()
	mustInsert(t, tx, rec("k", "/u", 0, 1, "b", ""))
	gen, err := tx.Commit()
	if err != nil || gen != base+1 {
		t.Fatalf("Commit = %d, %v; want %d", gen, err, base+1)
	}
	checkTxnEnded(t, p, tx, "Commit")
	if n, err := tx.Delete(translation.Record{Key: "k", URI: "/u", ID: id}); !errors.Is(err, translation.ErrNoTxn) || n != 0 {
		t.Errorf("Delete of a committed record after Commit = %d, %v; want 0, ErrNoTxn", n, err)
	}
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`, `k /u 0 1 "b"`)
	if now, err := p.Generation(); err != nil || now != gen {
		t.Errorf("generation %d, %v after the failed calls, want %d", now, err, gen)
	}
}
