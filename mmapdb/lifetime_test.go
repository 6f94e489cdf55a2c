package mmapdb

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// The tests in this file try every misuse of snapshot and transaction
// lifetimes that a caller can make, and check that it is refused or
// harmless: never an unmap of memory that another holder still reads.

// supersede commits n times, so that a version pinned before is replaced
// and, were its references miscounted, unmapped.
func supersede(t *testing.T, db *DB, n int) {
	t.Helper()
	for i := range n {
		update(t, db, func(tx *Txn) { mustInsert(t, tx, "other/k", "s", fmt.Sprint(i)) })
	}
}

func TestReleaseTwiceDoesNotDropAnotherHoldersPin(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "1", "kept") })

	mine, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Release()
	v := mine.v
	before := v.refs.Load()
	mine.Release()
	mine.Release()
	mine.Release()
	if got := v.refs.Load(); got != before-1 {
		t.Fatalf("three releases of one handle dropped %d references, want 1", before-got)
	}
	supersede(t, db, 3) // drops the DB's own reference to the old version
	if !theirs.Superseded() {
		t.Fatal("the old version is not superseded")
	}
	if got := leafStrings(t, theirs, "a/b"); len(got) != 1 || got[0] != "1=kept" {
		t.Fatalf("the other holder reads %q", got)
	}
	if got := v.refs.Load(); got != 1 {
		t.Fatalf("the version has %d references, want 1 (the other holder)", got)
	}
}

func TestSnapshotUseAfterReleaseFailsWithErrReleased(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "1", "x") })
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	gen := s.Generation()
	s.Release()
	supersede(t, db, 2) // the released version is unmapped now

	if _, err := s.Lookup("a", "b"); !errors.Is(err, ErrReleased) {
		t.Errorf("Lookup after Release: %v, want ErrReleased", err)
	}
	if _, err := s.Root(); !errors.Is(err, ErrReleased) {
		t.Errorf("Root after Release: %v, want ErrReleased", err)
	}
	if _, _, err := s.ByID(1); !errors.Is(err, ErrReleased) {
		t.Errorf("ByID after Release: %v, want ErrReleased", err)
	}
	if _, _, err := s.LookupIndex("a"); !errors.Is(err, ErrReleased) {
		t.Errorf("LookupIndex after Release: %v, want ErrReleased", err)
	}
	if _, err := s.LookupUnder(NewPrefix("a"), "b"); !errors.Is(err, ErrReleased) {
		t.Errorf("LookupUnder after Release: %v, want ErrReleased", err)
	}
	if err := s.Verify(nil); !errors.Is(err, ErrReleased) {
		t.Errorf("Verify after Release: %v, want ErrReleased", err)
	}
	for _, err := range s.All() {
		if !errors.Is(err, ErrReleased) {
			t.Errorf("All after Release yields %v, want ErrReleased", err)
		}
	}
	if b := s.Bytes(); b != nil {
		t.Errorf("Bytes after Release: %d bytes, want nil", len(b))
	}
	if !s.Superseded() {
		t.Error("a released snapshot does not report Superseded")
	}
	if s.Generation() != gen {
		t.Errorf("Generation after Release: %d, want %d", s.Generation(), gen)
	}
	var never Snapshot
	if _, err := never.Lookup("a", "b"); !errors.Is(err, ErrReleased) {
		t.Errorf("Lookup of a zero Snapshot: %v, want ErrReleased", err)
	}
	never.Release() // harmless
}

func TestPinRefusesAPinnedHandleAndReusesAReleasedOne(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "1", "x") })
	var s Snapshot
	if err := db.Pin(&s); err != nil {
		t.Fatal(err)
	}
	v := s.v
	refs := v.refs.Load()
	if err := db.Pin(&s); err == nil {
		t.Fatal("Pin into a pinned handle succeeded")
	}
	if got := v.refs.Load(); got != refs {
		t.Fatalf("a refused Pin changed the references from %d to %d", refs, got)
	}
	s.Release()
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "2", "y") })
	if err := db.Pin(&s); err != nil {
		t.Fatalf("Pin into a released handle: %v", err)
	}
	defer s.Release()
	if got := leafStrings(t, &s, "a/b"); len(got) != 2 {
		t.Fatalf("re-pinned handle reads %q, want the new version's two records", got)
	}
}

func TestTxnBaseCannotBeReleasedByTheCaller(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "1", "base") })
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	base := tx.Base()
	v := base.v
	refs := v.refs.Load()
	base.Release()
	base.Release()
	if got := v.refs.Load(); got != refs {
		t.Fatalf("Release of Txn.Base changed the references from %d to %d", refs, got)
	}
	// Readers of the DB switch to new versions meanwhile; the base stays.
	other, err := Open(db.Path(), &Options{NoLock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if got := leafStrings(t, tx.Base(), "a/b"); len(got) != 1 || got[0] != "1=base" {
		t.Fatalf("base reads %q", got)
	}
	mustInsert(t, tx, "a/b", "2", "new")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := base.Lookup("a", "b"); !errors.Is(err, ErrReleased) {
		t.Fatalf("the base after Commit: %v, want ErrReleased", err)
	}
}

func TestCloseWaitsForTheTransactionOfAnotherGoroutine(t *testing.T) {
	db, path := openTemp(t, nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	// Once Close has begun, no new transaction may start...
	for !db.closed.Load() {
		waitABit()
	}
	if _, err := db.Begin(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Begin during Close: %v, want ErrClosed", err)
	}
	// ... but the open one is the owner's to finish: Close did not roll
	// it back under it.
	mustInsert(t, tx, "a/b", "1", "committed during Close")
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit of the transaction open during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	current(t, again, func(s *Snapshot) {
		if got := leafStrings(t, s, "a/b"); len(got) != 1 || got[0] != "1=committed during Close" {
			t.Fatalf("after Close the file holds %q", got)
		}
	})
}

func TestSnapshotOutlivesCloseOfItsDB(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "1", "first") })
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Another handle on the file supersedes the version several times.
	other, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	supersede(t, other, 3)
	if !s.Superseded() {
		t.Fatal("the pinned version is not superseded")
	}
	if got := leafStrings(t, s, "a/b"); len(got) != 1 || got[0] != "1=first" {
		t.Fatalf("the snapshot reads %q after Close", got)
	}
	if err := s.Verify(nil); err != nil {
		t.Fatalf("Verify of the snapshot held across Close: %v", err)
	}
}

func TestUpdateWaitsForTheOpenTransaction(t *testing.T) {
	db, _ := openTemp(t, nil)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Update(func(tx *Txn) error {
				_, err := tx.Insert([]string{"w", fmt.Sprint(i)}, nil, []byte("x"))
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	current(t, db, func(s *Snapshot) {
		if s.Generation() != writers || s.Len() != writers {
			t.Fatalf("generation %d with %d records, want %d and %d", s.Generation(), s.Len(), writers, writers)
		}
	})
}

func TestUpdateRollsBackOnErrorAndPanic(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "a/b", "1", "x") })
	boom := errors.New("boom")
	err := db.Update(func(tx *Txn) error {
		mustInsert(t, tx, "a/b", "2", "lost")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic of fn did not go on")
			}
		}()
		_ = db.Update(func(tx *Txn) error {
			mustInsert(t, tx, "a/b", "3", "lost")
			panic("boom")
		})
	}()
	// The slot is free again and nothing was committed.
	if err := db.Update(func(*Txn) error { return nil }); err != nil {
		t.Fatal(err)
	}
	current(t, db, func(s *Snapshot) {
		if got := leafStrings(t, s, "a/b"); len(got) != 1 || s.Generation() != 2 {
			t.Fatalf("generation %d reads %q", s.Generation(), got)
		}
	})
}

func TestUpdateAfterCloseFails(t *testing.T) {
	db, _ := openTemp(t, nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- db.Update(func(*Txn) error { return nil }) }()
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	for !db.closed.Load() {
		waitABit()
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Fatalf("an Update waiting during Close: %v, want ErrClosed", err)
	}
	if err := db.Update(func(*Txn) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close: %v, want ErrClosed", err)
	}
}

// waitABit yields the processor while a test polls for a state that
// another goroutine is about to reach.
func waitABit() { runtime.Gosched() }
