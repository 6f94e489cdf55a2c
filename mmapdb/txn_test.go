package mmapdb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

func TestBeginCreatesMissingDatabase(t *testing.T) {
	db, path := openTemp(t, nil)
	if _, err := db.Snapshot(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("snapshot of a missing file: %v, want ErrNotExist", err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Begin did not create the file: %v", err)
	}
	if g := tx.Base().Generation(); g != 0 {
		t.Fatalf("created database has generation %d, want 0", g)
	}
	mustInsert(t, tx, "a/b", "1", "x")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	current(t, db, func(s *Snapshot) {
		if s.Generation() != 1 || s.Len() != 1 {
			t.Fatalf("after first commit: generation %d, %d records", s.Generation(), s.Len())
		}
	})
}

func TestLeafOrdersBySortKeepingInsertionOrderForTies(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "k/u", "2", "two-first")
		mustInsert(t, tx, "k/u", "1", "one")
		mustInsert(t, tx, "k/u", "2", "two-second")
	})
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "k/u", "2", "two-third")
		mustInsert(t, tx, "k/u", "0", "zero")
		mustInsert(t, tx, "k/u", "3", "three")
	})
	current(t, db, func(s *Snapshot) {
		got := leafStrings(t, s, "k/u")
		want := []string{"0=zero", "1=one", "2=two-first", "2=two-second", "2=two-third", "3=three"}
		if !slices.Equal(got, want) {
			t.Fatalf("leaf = %q, want %q", got, want)
		}
	})
}

func TestIDsAllocateUpwardFromOne(t *testing.T) {
	db, _ := openTemp(t, nil)
	var ids []uint64
	update(t, db, func(tx *Txn) {
		ids = append(ids, mustInsert(t, tx, "a", "", "1"), mustInsert(t, tx, "b", "", "2"))
	})
	update(t, db, func(tx *Txn) {
		ids = append(ids, mustInsert(t, tx, "c", "", "3"))
	})
	if !slices.Equal(ids, []uint64{1, 2, 3}) {
		t.Fatalf("ids = %v, want 1 2 3", ids)
	}
}

func TestIDsWrapToLowestFreeAtMaxID(t *testing.T) {
	db, _ := openTemp(t, &Options{MaxID: 5})
	update(t, db, func(tx *Txn) {
		for range 5 {
			mustInsert(t, tx, "k", "", "x")
		}
	})
	update(t, db, func(tx *Txn) {
		for _, id := range []uint64{4, 2} {
			if _, found, err := tx.Delete(id); err != nil || !found {
				t.Fatalf("delete %d: %v %v", id, found, err)
			}
		}
	})
	update(t, db, func(tx *Txn) {
		if id := mustInsert(t, tx, "k", "", "y"); id != 2 {
			t.Fatalf("first id after wrap = %d, want the lowest free, 2", id)
		}
		if id := mustInsert(t, tx, "k", "", "z"); id != 4 {
			t.Fatalf("second id after wrap = %d, want 4", id)
		}
		if _, err := tx.Insert([]string{"k"}, nil, nil); !errors.Is(err, ErrIDsExhausted) {
			t.Fatalf("insert into a full id space: %v, want ErrIDsExhausted", err)
		}
	})
}

func TestInsertIDRefusesDuplicates(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "a", "", "1")
	})
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.InsertID(1, []string{"b"}, nil, nil); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("InsertID of a committed id: %v, want ErrDuplicateID", err)
	}
	if err := tx.InsertID(7, []string{"b"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.InsertID(7, []string{"c"}, nil, nil); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("InsertID of a pending id: %v, want ErrDuplicateID", err)
	}
	if err := tx.InsertID(0, []string{"c"}, nil, nil); err == nil {
		t.Fatal("InsertID(0) succeeded")
	}
	if id := mustInsert(t, tx, "c", "", ""); id != 8 {
		t.Fatalf("id after InsertID(7) = %d, want 8", id)
	}
}

func TestSetNextIDIsCommittedAndSkipsIDsInUse(t *testing.T) {
	db, _ := openTemp(t, &Options{MaxID: 100})
	update(t, db, func(tx *Txn) {
		for _, id := range []uint64{3, 1} {
			if err := tx.InsertID(id, []string{"k"}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, bad := range []uint64{0, 102, 1 << 40} {
			if err := tx.SetNextID(bad); err == nil {
				t.Errorf("SetNextID(%d) succeeded", bad)
			}
		}
		if err := tx.SetNextID(50); err != nil {
			t.Fatal(err)
		}
	})
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s.NextID() != 50 {
		t.Errorf("committed next id %d, want 50", s.NextID())
	}
	s.Release()
	update(t, db, func(tx *Txn) {
		if err := tx.SetNextID(101); err != nil {
			t.Fatal(err)
		}
		// Past MaxID: the lowest free ID, skipping 1 and 3.
		if id := mustInsert(t, tx, "k", "", ""); id != 2 {
			t.Errorf("id after SetNextID(MaxID+1) = %d, want 2", id)
		}
		if err := tx.SetNextID(3); err != nil {
			t.Fatal(err)
		}
		if id := mustInsert(t, tx, "k", "", ""); id != 4 {
			t.Errorf("id after SetNextID(3) = %d, want 4 (3 is in use)", id)
		}
	})
}

func TestInsertIDViewKeepsTheCallersBytesUntilCommit(t *testing.T) {
	db, _ := openTemp(t, nil)
	sort, data := []byte("s"), []byte("viewed")
	update(t, db, func(tx *Txn) {
		if err := tx.InsertIDView(5, []string{"k"}, sort, data); err != nil {
			t.Fatal(err)
		}
		r, found, err := tx.Get(5)
		if err != nil || !found || &r.Data[0] != &data[0] {
			t.Errorf("Get of a viewed record: %q %v %v, want the caller's bytes", r.Data, found, err)
		}
		if err := tx.InsertIDView(5, []string{"k"}, sort, data); !errors.Is(err, ErrDuplicateID) {
			t.Errorf("InsertIDView of a pending id: %v, want ErrDuplicateID", err)
		}
	})
	data[0] = 'X' // after the commit: the file holds its own copy
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	r, found, err := s.ByID(5)
	if err != nil || !found || string(r.Data) != "viewed" || s.NextID() != 6 {
		t.Errorf("committed %q %v %v, next id %d", r.Data, found, err, s.NextID())
	}
}

func TestMixingRecordsAndSubIndicesFails(t *testing.T) {
	cases := []struct {
		name          string
		first, second string
		sameTxn       bool
	}{
		{"records then deeper key, same txn", "a", "a/b", true},
		{"deeper key then records, same txn", "a/b", "a", true},
		{"records then deeper key, committed", "a", "a/b", false},
		{"deeper key then records, committed", "a/b", "a", false},
		{"deep prefix", "a/b/c", "a/b", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db, _ := openTemp(t, nil)
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			mustInsert(t, tx, c.first, "", "x")
			if !c.sameTxn {
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				if tx, err = db.Begin(); err != nil {
					t.Fatal(err)
				}
			}
			defer tx.Rollback()
			_, err = tx.Insert(splitPath(c.second), nil, []byte("y"))
			if !errors.Is(err, ErrMixed) {
				t.Fatalf("insert %s after %s: %v, want ErrMixed", c.second, c.first, err)
			}
		})
	}
}

func TestRecordsMayReplaceDeletedSubIndex(t *testing.T) {
	db, _ := openTemp(t, nil)
	var id uint64
	update(t, db, func(tx *Txn) { id = mustInsert(t, tx, "a/b", "", "deep") })
	update(t, db, func(tx *Txn) {
		if _, found, err := tx.Delete(id); err != nil || !found {
			t.Fatal(found, err)
		}
		mustInsert(t, tx, "a", "", "shallow")
	})
	current(t, db, func(s *Snapshot) {
		if got := dumpAll(t, s); !slices.Equal(got, []string{"a =shallow #2"}) {
			t.Fatalf("records = %q", got)
		}
	})
}

func TestInsertNeedsAKey(t *testing.T) {
	db, _ := openTemp(t, nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Insert(nil, nil, []byte("x")); !errors.Is(err, ErrMixed) {
		t.Fatalf("insert at the root: %v, want ErrMixed", err)
	}
}

func TestChangesAreInvisibleUntilCommit(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "old") })
	other, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, tx, "k/u", "2", "new")
	for _, d := range []*DB{db, other} {
		current(t, d, func(s *Snapshot) {
			if got := leafStrings(t, s, "k/u"); !slices.Equal(got, []string{"1=old"}) {
				t.Fatalf("before commit a reader sees %q", got)
			}
		})
	}
	pinned, err := other.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer pinned.Release()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*DB{db, other} {
		current(t, d, func(s *Snapshot) {
			if got := leafStrings(t, s, "k/u"); !slices.Equal(got, []string{"1=old", "2=new"}) {
				t.Fatalf("after commit a reader sees %q", got)
			}
		})
	}
	if !pinned.Superseded() {
		t.Fatal("the old snapshot does not know it is superseded")
	}
	if got := leafStrings(t, pinned, "k/u"); !slices.Equal(got, []string{"1=old"}) {
		t.Fatalf("a snapshot pinned before the commit sees %q", got)
	}
}

func TestTxnLookupSeesItsOwnChanges(t *testing.T) {
	db, _ := openTemp(t, nil)
	var idB uint64
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "k/u", "1", "a")
		idB = mustInsert(t, tx, "k/u", "3", "b")
	})
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	c := mustInsert(t, tx, "k/u", "2", "c")
	if _, _, err := tx.Delete(idB); err != nil {
		t.Fatal(err)
	}
	recs, err := tx.Lookup("k", "u")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Sort)+"="+string(r.Data))
	}
	if !slices.Equal(got, []string{"1=a", "2=c"}) {
		t.Fatalf("txn lookup = %q", got)
	}
	if r, found, err := tx.Get(c); err != nil || !found || string(r.Data) != "c" {
		t.Fatalf("Get(pending) = %v %v %v", r, found, err)
	}
	if _, found, _ := tx.Get(idB); found {
		t.Fatal("Get finds a record deleted in the transaction")
	}
	if keys, err := recs[1].Keys(); err != nil || !slices.Equal(keys, []string{"k", "u"}) {
		t.Fatalf("keys of a pending record = %q, %v", keys, err)
	}
}

func TestDeleteReturnsTheRecord(t *testing.T) {
	db, _ := openTemp(t, nil)
	var id uint64
	update(t, db, func(tx *Txn) { id = mustInsert(t, tx, "k/u", "s", "d") })
	update(t, db, func(tx *Txn) {
		r, found, err := tx.Delete(id)
		if err != nil || !found {
			t.Fatal(found, err)
		}
		keys, _ := r.Keys()
		if string(r.Sort) != "s" || string(r.Data) != "d" || r.ID != id || !slices.Equal(keys, []string{"k", "u"}) {
			t.Fatalf("deleted record = %q %q %d %q", r.Sort, r.Data, r.ID, keys)
		}
		if _, found, _ := tx.Delete(id); found {
			t.Fatal("a second delete of the same id found it")
		}
		if _, found, _ := tx.Delete(999); found {
			t.Fatal("delete of a missing id found it")
		}
		pending := mustInsert(t, tx, "k/v", "", "p")
		if _, found, _ := tx.Delete(pending); !found {
			t.Fatal("delete of a pending record did not find it")
		}
	})
	current(t, db, func(s *Snapshot) {
		if s.Len() != 0 {
			t.Fatalf("%d records left: %q", s.Len(), dumpAll(t, s))
		}
		root, _ := s.Root()
		if root.Len() != 0 {
			t.Fatalf("empty indices were kept: root has %d keys", root.Len())
		}
	})
}

func TestRollbackForgetsEverything(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "keep") })
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, tx, "k", "", "drop")
	if err := tx.Clear(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	current(t, db, func(s *Snapshot) {
		if got := dumpAll(t, s); !slices.Equal(got, []string{"k =keep #1"}) || s.Generation() != 1 {
			t.Fatalf("after rollback: generation %d, %q", s.Generation(), got)
		}
	})
	if err := tx.Commit(); !errors.Is(err, ErrNoTxn) {
		t.Fatalf("commit after rollback: %v, want ErrNoTxn", err)
	}
}

func TestClearEmptiesAndKeepsIDsGoing(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		if err := tx.Clear(); err != nil {
			t.Fatalf("clear of an empty database: %v", err)
		}
	})
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "a/b", "", "1")
		mustInsert(t, tx, "a/c", "", "2")
	})
	update(t, db, func(tx *Txn) {
		if err := tx.Clear(); err != nil {
			t.Fatal(err)
		}
		if id := mustInsert(t, tx, "a", "", "after"); id != 3 {
			t.Fatalf("id after clear = %d, want 3", id)
		}
	})
	current(t, db, func(s *Snapshot) {
		if got := dumpAll(t, s); !slices.Equal(got, []string{"a =after #3"}) {
			t.Fatalf("after clear: %q", got)
		}
	})
	if st := db.Stats(); st.Commits != 3 || st.Inserts != 3 || st.Deletes != 2 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestTxnStateErrors(t *testing.T) {
	db, _ := openTemp(t, nil)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Begin(); !errors.Is(err, ErrTxnActive) {
		t.Fatalf("second Begin: %v, want ErrTxnActive", err)
	}
	if err := db.Reload(); !errors.Is(err, ErrTxnActive) {
		t.Fatalf("Reload in a transaction: %v, want ErrTxnActive", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Insert([]string{"k"}, nil, nil); !errors.Is(err, ErrNoTxn) {
		t.Fatalf("insert after commit: %v, want ErrNoTxn", err)
	}
	if _, _, err := tx.Delete(1); !errors.Is(err, ErrNoTxn) {
		t.Fatalf("delete after commit: %v, want ErrNoTxn", err)
	}
	if err := tx.Rollback(); !errors.Is(err, ErrNoTxn) {
		t.Fatalf("rollback after commit: %v, want ErrNoTxn", err)
	}
	if err := db.Reload(); err != nil {
		t.Fatalf("Reload after the transaction: %v", err)
	}
	tx2, err := db.Begin()
	if err != nil {
		t.Fatalf("Begin after commit: %v", err)
	}
	tx2.Rollback()
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	rw, path := openTemp(t, nil)
	update(t, rw, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	ro, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Begin(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Begin on read-only: %v, want ErrReadOnly", err)
	}
	if err := ro.Restore(path); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Restore on read-only: %v, want ErrReadOnly", err)
	}
}

func TestReadOnlyWaitsForMissingFile(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/late.mmdb"
	ro, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Snapshot(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("snapshot of a missing file: %v, want ErrNotExist", err)
	}
	rw, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	update(t, rw, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	if err := ro.Reload(); err != nil {
		t.Fatal(err)
	}
	current(t, ro, func(s *Snapshot) {
		if s.Len() != 1 {
			t.Fatalf("%d records", s.Len())
		}
	})
}

func TestCommitOnLargeTreeKeepsEverything(t *testing.T) {
	db, _ := openTemp(t, nil)
	var paths [][]string
	update(t, db, func(tx *Txn) { paths = genRecords(t, tx, 5000) })
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "trans/db/actn/new.example.com//", "x", "new")
		if _, _, err := tx.Delete(17); err != nil {
			t.Fatal(err)
		}
	})
	current(t, db, func(s *Snapshot) {
		if s.Len() != 5000 {
			t.Fatalf("%d records, want 5000", s.Len())
		}
		if err := s.Verify(nil); err != nil {
			t.Fatal(err)
		}
		for i, p := range paths {
			if i+1 == 17 {
				continue // deleted, and alone under its path
			}
			l, err := s.Lookup(p...)
			if err != nil || l.Len() == 0 {
				t.Fatalf("record %d at %q: %d, %v", i, p, l.Len(), err)
			}
		}
		if _, found, _ := s.ByID(17); found {
			t.Fatal("deleted id 17 still found")
		}
		r, found, err := s.ByID(5001)
		if err != nil || !found || string(r.Data) != "new" {
			t.Fatalf("ByID(5001) = %q %v %v", r.Data, found, err)
		}
	})
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

// LookupSort lists what Lookup lists with that sort field, in the same
// order, whatever the mix of base records, inserted and deleted ones.
func TestLookupSortIsLookupOfOneSortField(t *testing.T) {
	db, _ := openTemp(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	sorts := []string{"a", "b", "bb", "c"}
	var ids []uint64
	update(t, db, func(tx *Txn) {
		for i := range 200 {
			ids = append(ids, mustInsert(t, tx, "k/u", sorts[rng.IntN(len(sorts))], fmt.Sprint("base ", i)))
		}
	})
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for i := range 200 {
		switch rng.IntN(3) {
		case 0:
			mustInsert(t, tx, "k/u", sorts[rng.IntN(len(sorts))], fmt.Sprint("new ", i))
		case 1:
			if _, _, err := tx.Delete(ids[rng.IntN(len(ids))]); err != nil {
				t.Fatal(err)
			}
		}
		all, err := tx.Lookup("k", "u")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(sorts, "0", "z") {
			var want []string
			for _, r := range all {
				if string(r.Sort) == s {
					want = append(want, fmt.Sprint(r.ID, string(r.Data)))
				}
			}
			got, err := tx.LookupSort([]byte(s), "k", "u")
			if err != nil {
				t.Fatal(err)
			}
			var have []string
			for _, r := range got {
				have = append(have, fmt.Sprint(r.ID, string(r.Data)))
			}
			if !slices.Equal(have, want) {
				t.Fatalf("step %d, sort %q: LookupSort %q, Lookup has %q", i, s, have, want)
			}
		}
	}
	if recs, err := tx.LookupSort([]byte("a"), "no", "such"); err != nil || len(recs) != 0 {
		t.Errorf("missing path: %v, %v", recs, err)
	}
}
