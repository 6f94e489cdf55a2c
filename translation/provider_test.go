package translation_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"transdb/mmapdb"
	"transdb/translation"
)

// newProvider returns a started provider that the test stops at its end.
func newProvider(t testing.TB, opts translation.Options) *translation.Provider {
	t.Helper()
	p, err := translation.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// dbPath returns the path of a database file in a fresh directory.
func dbPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "trans.mmdb")
}

// writable returns a started writable provider on a new file with base
// key ["trans", "db"].
func writable(t testing.TB) *translation.Provider {
	t.Helper()
	p := newProvider(t, translation.Options{FileName: dbPath(t), BaseKey: []string{"trans", "db"}})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// inTxn runs fn in a transaction of p and commits it, returning the
// committed generation. When fn fails the test, the transaction is
// rolled back, so that Stop does not wait for it.
func inTxn(t testing.TB, p *translation.Provider, fn func(tx *translation.Txn)) uint64 {
	t.Helper()
	tx, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	fn(tx)
	committed = true
	gen, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return gen
}

// begin begins a transaction of p that the test rolls back at its end
// unless it has ended by then.
func begin(t testing.TB, p *translation.Provider) *translation.Txn {
	t.Helper()
	tx, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

func mustInsert(t testing.TB, tx *translation.Txn, recs ...translation.Record) []uint64 {
	t.Helper()
	var ids []uint64
	for _, r := range recs {
		id, err := tx.Insert(r)
		if err != nil {
			t.Fatalf("Insert(%+v): %v", r, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func mustFetch(t testing.TB, p *translation.Provider, key, uri string, withNotes bool) []translation.Record {
	t.Helper()
	list, err := p.Fetch(key, uri, withNotes)
	if err != nil {
		t.Fatalf("Fetch(%q, %q, %v): %v", key, uri, withNotes, err)
	}
	return list
}

// brief renders records without their IDs, checking that every record
// has one: "KEY URI BLOCK ORDER ACTION [NOTE]".
func brief(t testing.TB, recs []translation.Record) []string {
	t.Helper()
	out := []string{}
	for _, r := range recs {
		if r.ID == 0 {
			t.Errorf("record %+v has no ID", r)
		}
		s := fmt.Sprintf("%s %s %d %d %q", r.Key, r.URI, r.Block, r.Order, r.Action)
		if r.Note != "" {
			s += fmt.Sprintf(" %q", r.Note)
		}
		out = append(out, s)
	}
	return out
}

func checkFetch(t testing.TB, p *translation.Provider, key, uri string, withNotes bool, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := brief(t, mustFetch(t, p, key, uri, withNotes)); !reflect.DeepEqual(got, want) {
		t.Errorf("Fetch(%q, %q, %v):\n got %q\nwant %q", key, uri, withNotes, got, want)
	}
}

func rec(key, uri string, block, order uint32, action, note string) translation.Record {
	return translation.Record{Key: key, URI: uri, Block: block, Order: order, Action: action, Note: note}
}

func TestNewJoinsRelativeFileNameToRoot(t *testing.T) {
	root := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name           string
		fileName, root string
		want           string
	}{
		{"relative with root", "trans.mmdb", root, filepath.Join(root, "trans.mmdb")},
		{"relative in a sub-directory", "sub/../trans.mmdb", root, filepath.Join(root, "trans.mmdb")},
		{"absolute ignores root", filepath.Join(root, "abs.mmdb"), "/elsewhere", filepath.Join(root, "abs.mmdb")},
		{"relative without root", "rel.mmdb", "", filepath.Join(wd, "rel.mmdb")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, translation.Options{FileName: tt.fileName, Root: tt.root, ReadOnly: true})
			if p.Path() != tt.want {
				t.Errorf("Path() = %q, want %q", p.Path(), tt.want)
			}
		})
	}
	if _, err := translation.New(translation.Options{Root: root}); err == nil {
		t.Error("New without FileName succeeded")
	}
}

func TestBeginOnReadOnlyProviderFails(t *testing.T) {
	path := dbPath(t)
	rw := newProvider(t, translation.Options{FileName: path})
	if err := rw.Start(); err != nil {
		t.Fatal(err)
	}
	ro := newProvider(t, translation.Options{FileName: path, ReadOnly: true})
	tx, err := ro.Begin()
	if !errors.Is(err, translation.ErrReadOnly) || !errors.Is(err, mmapdb.ErrReadOnly) || tx != nil {
		t.Errorf("Begin on a read-only provider: %v, %v; want no transaction and ErrReadOnly", tx, err)
	}
	called := false
	if _, err := ro.Update(func(*translation.Txn) error { called = true; return nil }); !errors.Is(err, translation.ErrReadOnly) || called {
		t.Errorf("Update on a read-only provider: %v (fn called: %v), want ErrReadOnly", err, called)
	}
	if _, err := ro.Append(rw, false); !errors.Is(err, translation.ErrReadOnly) {
		t.Errorf("Append to a read-only provider: %v, want ErrReadOnly", err)
	}
	if _, _, err := ro.Load(strings.NewReader(""), translation.LoadOptions{}); !errors.Is(err, translation.ErrReadOnly) {
		t.Errorf("Load into a read-only provider: %v, want ErrReadOnly", err)
	}
}

func TestTxnAfterRollbackFailsWithErrNoTxn(t *testing.T) {
	p := writable(t)
	tx := begin(t, p)
	mustInsert(t, tx, rec("k", "/u", 0, 0, "a", ""))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	checkTxnEnded(t, p, tx, "Rollback")
	checkFetch(t, p, "k", "/u", false)
}

func TestBeginTwiceFails(t *testing.T) {
	path := dbPath(t)
	p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"a"}})
	other := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"b"}})
	tx := begin(t, p)
	if again, err := p.Begin(); !errors.Is(err, translation.ErrTxnActive) || again != nil {
		t.Errorf("second Begin: %v, %v; want no transaction and ErrTxnActive", again, err)
	}
	if again, err := other.Begin(); !errors.Is(err, translation.ErrTxnActive) || again != nil {
		t.Errorf("Begin of another provider on the same file: %v, %v; want no transaction and ErrTxnActive", again, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	otx, err := other.Begin()
	if err != nil {
		t.Fatalf("Begin after the other provider's rollback: %v", err)
	}
	if err := otx.Rollback(); err != nil {
		t.Error(err)
	}
}

// TestStartInsideTxnSucceeds: while a transaction is open on the file,
// Start of its provider or of another one returns nil, since no other
// writer can have committed meanwhile, and leaves the transaction be.
func TestStartInsideTxnSucceeds(t *testing.T) {
	path := dbPath(t)
	p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"a"}})
	other := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"b"}})
	tx := begin(t, p)
	mustInsert(t, tx, rec("k", "/u", 0, 0, "a", ""))
	if err := p.Start(); err != nil {
		t.Errorf("Start inside a transaction: %v, want nil", err)
	}
	if err := other.Start(); err != nil {
		t.Errorf("Start of another provider while one has a transaction: %v", err)
	}
	checkFetch(t, p, "k", "/u", false)
	if gen, err := tx.Commit(); err != nil || gen != 1 {
		t.Fatalf("Commit after Start = %d, %v; want generation 1", gen, err)
	}
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`)
}

func TestInsertRejectsInvalidKeyOrURI(t *testing.T) {
	p := writable(t)
	tx := begin(t, p)
	for _, tt := range []struct{ key, uri string }{
		{"k 1", "/u"},
		{"k", "/a b"},
		{"k\t", "/u"},
		{"k", "/u\n"},
		{"k", "/\u00a0"},
		{"", "/u"},
		{"k", ""},
	} {
		_, err := tx.Insert(rec(tt.key, tt.uri, 0, 0, "a", ""))
		if !errors.Is(err, translation.ErrInvalidRecord) {
			t.Errorf("Insert(%q, %q): %v, want ErrInvalidRecord", tt.key, tt.uri, err)
		}
	}
	if n, _, err := tx.Update(rec("k", "/u", 0, 0, "", ""), rec("k k", "/u", 0, 0, "a", "")); !errors.Is(err, translation.ErrInvalidRecord) || n != 0 {
		t.Errorf("Update to an invalid record: %d, %v; want 0, ErrInvalidRecord", n, err)
	}
}

func TestFetchSeesOwnCommit(t *testing.T) {
	p := writable(t)
	checkFetch(t, p, "k", "/u", false)
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k", "/u", 0, 0, "a", ""))
		// Uncommitted changes are invisible, to the writer too.
		checkFetch(t, p, "k", "/u", false)
	})
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`)
}

func TestFetchOrdersByBlockThenOrder(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx,
			rec("k", "/u", 1, 0, "b1o0", ""),
			rec("k", "/u", 0, 2, "b0o2", ""),
			rec("k", "/u", 256, 0, "b256o0", ""),
			rec("k", "/u", 0, 0xffffffff, "b0omax", ""),
			rec("k", "/u", 0, 10, "b0o10", ""),
			rec("k", "/u", 1<<32-1, 1<<32-1, "max", ""),
		)
	})
	checkFetch(t, p, "k", "/u", false,
		`k /u 0 2 "b0o2"`, `k /u 0 10 "b0o10"`, `k /u 0 4294967295 "b0omax"`,
		`k /u 1 0 "b1o0"`, `k /u 256 0 "b256o0"`, `k /u 4294967295 4294967295 "max"`)
}

func TestFetchWithNotesPairsNotesBySortField(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx,
			rec("k", "/u", 0, 0, "a", ""),
			rec("k", "/u", 0, 1, "b", "note b"),
			rec("k", "/u", 2, 0, "c", ""),
			rec("k", "/u", 3, 0, "d", "note d"),
			rec("k", "/v", 0, 0, "e", "note e"),
		)
	})
	checkFetch(t, p, "k", "/u", true, `k /u 0 0 "a"`, `k /u 0 1 "b" "note b"`, `k /u 2 0 "c"`, `k /u 3 0 "d" "note d"`)
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`, `k /u 0 1 "b"`, `k /u 2 0 "c"`, `k /u 3 0 "d"`)
}

func TestFetchOfMissingIsEmpty(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "")) })
	for _, tt := range [][2]string{{"k", "/v"}, {"x", "/u"}, {"", ""}, {"k", ""}} {
		list, err := p.Fetch(tt[0], tt[1], true)
		if err != nil || list == nil || len(list) != 0 {
			t.Errorf("Fetch(%q, %q) = %v, %v; want an empty list", tt[0], tt[1], list, err)
		}
	}
}

func TestFetchOnMissingFileOfReadOnlyProvider(t *testing.T) {
	path := dbPath(t)
	ro := newProvider(t, translation.Options{FileName: path, ReadOnly: true})
	if _, err := ro.Fetch("k", "/u", false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Fetch on a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := ro.Start(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Start of a read-only provider on a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a read-only provider created the file: %v", err)
	}

	// Once a writer has created the file, the reader serves it. (NoLock
	// gives the writer a database of its own in this process, as a
	// writer in another process would have.)
	rw := newProvider(t, translation.Options{FileName: path, NoLock: true})
	if err := rw.Start(); err != nil {
		t.Fatalf("Start of a writable provider on a missing file: %v", err)
	}
	if gen, err := rw.Generation(); err != nil || gen != 0 {
		t.Errorf("Generation of a created file = %d, %v; want 0", gen, err)
	}
	inTxn(t, rw, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "")) })
	if err := ro.Start(); err != nil {
		t.Fatal(err)
	}
	checkFetch(t, ro, "k", "/u", false, `k /u 0 0 "a"`)
}

// TestStopWaitsForOpenTxnThenEndsProvider: Stop of the last provider on
// a file closes it, which waits for the open transaction to end; Stop
// rolls nothing back, so the transaction can still commit.
func TestStopWaitsForOpenTxnThenEndsProvider(t *testing.T) {
	p := writable(t)
	tx := begin(t, p)
	mustInsert(t, tx, rec("k", "/u", 0, 0, "a", ""))
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop() }()
	// The provider is stopped at once; closing the file waits.
	for {
		_, err := p.Fetch("k", "/u", false)
		if errors.Is(err, translation.ErrStopped) {
			break
		}
		if err != nil {
			t.Fatalf("Fetch while stopping: %v", err)
		}
		runtime.Gosched()
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a transaction was open", err)
	default:
	}
	if gen, err := tx.Commit(); err != nil || gen != 1 {
		t.Fatalf("Commit during Stop = %d, %v; want generation 1", gen, err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := p.Fetch("k", "/u", false); !errors.Is(err, translation.ErrStopped) {
		t.Errorf("Fetch after Stop: %v, want ErrStopped", err)
	}
	if tx, err := p.Begin(); !errors.Is(err, translation.ErrStopped) || tx != nil {
		t.Errorf("Begin after Stop: %v, %v; want no transaction and ErrStopped", tx, err)
	}
	if _, err := p.Update(func(*translation.Txn) error { return nil }); !errors.Is(err, translation.ErrStopped) {
		t.Errorf("Update after Stop: %v, want ErrStopped", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	// The commit made while Stop waited is in the file.
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`)
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 1, "b", "")) })
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`, `k /u 0 1 "b"`)
}

func TestDeleteRemovesMatchingNote(t *testing.T) {
	p := writable(t)
	var ids []uint64
	inTxn(t, p, func(tx *translation.Txn) {
		ids = mustInsert(t, tx,
			rec("k", "/u", 0, 0, "a", "note a"),
			rec("k", "/u", 0, 1, "b", "note b"),
			rec("k", "/u", 0, 2, "c", "note c"),
		)
	})
	inTxn(t, p, func(tx *translation.Txn) {
		if n, err := tx.Delete(translation.Record{Key: "k", URI: "/u", Block: 0, Order: 1, ID: ids[1]}); n != 1 || err != nil {
			t.Fatalf("Delete = %d, %v; want 1", n, err)
		}
	})
	checkFetch(t, p, "k", "/u", true, `k /u 0 0 "a" "note a"`, `k /u 0 2 "c" "note c"`)
	// A new action at the same place does not inherit the old note.
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 1, "b2", "")) })
	checkFetch(t, p, "k", "/u", true, `k /u 0 0 "a" "note a"`, `k /u 0 1 "b2"`, `k /u 0 2 "c" "note c"`)
}

// Actions that share a block and order are paired with their notes in
// order: deleting one takes the note a fetch showed with it, and the
// others keep theirs.
func TestDeleteOfOneOfTwoAtOnePlaceKeepsTheOtherNote(t *testing.T) {
	p := writable(t)
	var ids []uint64
	inTxn(t, p, func(tx *translation.Txn) {
		ids = mustInsert(t, tx, rec("k", "/a", 0, 0, "first", "n1"), rec("k", "/a", 0, 0, "second", "n2"))
	})
	checkFetch(t, p, "k", "/a", true, `k /a 0 0 "first" "n1"`, `k /a 0 0 "second" "n2"`)
	inTxn(t, p, func(tx *translation.Txn) {
		if n, err := tx.Delete(translation.Record{Key: "k", URI: "/a", ID: ids[1]}); n != 1 || err != nil {
			t.Fatalf("Delete = %d, %v; want 1", n, err)
		}
	})
	checkFetch(t, p, "k", "/a", true, `k /a 0 0 "first" "n1"`)
	inTxn(t, p, func(tx *translation.Txn) {
		ids = mustInsert(t, tx, rec("k", "/a", 0, 0, "third", "n3"))
		if n, err := tx.Delete(translation.Record{Key: "k", URI: "/a", ID: ids[0]}); n != 1 || err != nil {
			t.Fatalf("Delete in the transaction that inserted it = %d, %v; want 1", n, err)
		}
	})
	checkFetch(t, p, "k", "/a", true, `k /a 0 0 "first" "n1"`)
}

func TestDeleteRequiresMatchingRecord(t *testing.T) {
	p := writable(t)
	other := newProvider(t, translation.Options{FileName: p.Path(), BaseKey: []string{"other"}})
	var id, otherID uint64
	inTxn(t, p, func(tx *translation.Txn) { id = mustInsert(t, tx, rec("k", "/u", 1, 2, "a", "n"))[0] })
	inTxn(t, other, func(tx *translation.Txn) { otherID = mustInsert(t, tx, rec("k", "/u", 1, 2, "a", "n"))[0] })
	old := translation.Record{Key: "k", URI: "/u", Block: 1, Order: 2, ID: id}
	for _, tt := range []struct {
		name string
		edit func(r *translation.Record)
	}{
		{"other key", func(r *translation.Record) { r.Key = "x" }},
		{"other uri", func(r *translation.Record) { r.URI = "/v" }},
		{"other block", func(r *translation.Record) { r.Block = 2 }},
		{"other order", func(r *translation.Record) { r.Order = 1 }},
		{"unknown id", func(r *translation.Record) { r.ID = 1000 }},
		{"id zero", func(r *translation.Record) { r.ID = 0 }},
		{"id of the note", func(r *translation.Record) { r.ID = id + 1 }},
		{"id of another base key", func(r *translation.Record) { r.ID = otherID }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := old
			tt.edit(&r)
			inTxn(t, p, func(tx *translation.Txn) {
				if n, err := tx.Delete(r); n != 0 || err != nil {
					t.Errorf("Delete(%+v) = %d, %v; want 0", r, n, err)
				}
			})
			checkFetch(t, p, "k", "/u", true, `k /u 1 2 "a" "n"`)
			checkFetch(t, other, "k", "/u", true, `k /u 1 2 "a" "n"`)
		})
	}
	// The action and notes do not have to match: ID and place do.
	inTxn(t, p, func(tx *translation.Txn) {
		if n, err := tx.Delete(translation.Record{Key: "k", URI: "/u", Block: 1, Order: 2, Action: "other", ID: id}); n != 1 || err != nil {
			t.Errorf("Delete = %d, %v; want 1", n, err)
		}
	})
	checkFetch(t, p, "k", "/u", true)
	checkFetch(t, other, "k", "/u", true, `k /u 1 2 "a" "n"`)
}

func TestDeleteOfRecordInsertedInSameTransaction(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		id := mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "n"))[0]
		if n, err := tx.Delete(translation.Record{Key: "k", URI: "/u", ID: id}); n != 1 || err != nil {
			t.Fatalf("Delete = %d, %v; want 1", n, err)
		}
		mustInsert(t, tx, rec("k", "/u", 0, 0, "b", ""))
	})
	checkFetch(t, p, "k", "/u", true, `k /u 0 0 "b"`)
}

func TestUpdateInsertsOnlyWhenDeleteMatched(t *testing.T) {
	for _, tt := range []struct {
		name string
		old  func(id uint64) translation.Record
		want []string
	}{
		{"stale id", func(id uint64) translation.Record { return translation.Record{Key: "k", URI: "/u", ID: id + 100} },
			[]string{`k /u 0 0 "a" "n"`}},
		{"wrong place", func(id uint64) translation.Record { return translation.Record{Key: "k", URI: "/u", Order: 1, ID: id} },
			[]string{`k /u 0 0 "a" "n"`}},
		{"matching", func(id uint64) translation.Record { return translation.Record{Key: "k", URI: "/u", ID: id} },
			[]string{`k /v 1 0 "new" "new note"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writable(t)
			var id, newID uint64
			var n int
			inTxn(t, p, func(tx *translation.Txn) { id = mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "n"))[0] })
			inTxn(t, p, func(tx *translation.Txn) {
				var err error
				if n, newID, err = tx.Update(tt.old(id), rec("k", "/v", 1, 0, "new", "new note")); err != nil {
					t.Fatal(err)
				}
			})
			if updated := len(tt.want) == 1 && strings.Contains(tt.want[0], "new"); (n == 1) != updated || (newID != 0) != updated {
				t.Errorf("Update = %d, %d; want %v", n, newID, updated)
			}
			got := append(brief(t, mustFetch(t, p, "k", "/u", true)), brief(t, mustFetch(t, p, "k", "/v", true))...)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("after Update: %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClearLeavesOtherBaseKeys(t *testing.T) {
	path := dbPath(t)
	a := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"a"}})
	b := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"b"}})
	top := newProvider(t, translation.Options{FileName: path})
	inTxn(t, a, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "in a", "note a")) })
	inTxn(t, b, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "in b", "note b")) })
	inTxn(t, top, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "at the top", "")) })
	inTxn(t, a, func(tx *translation.Txn) {
		if n, err := tx.Clear(); err != nil || n != 1 {
			t.Fatalf("Clear = %d, %v; want 1", n, err)
		}
	})
	checkFetch(t, a, "k", "/u", true)
	checkFetch(t, b, "k", "/u", true, `k /u 0 0 "in b" "note b"`)
	checkFetch(t, top, "k", "/u", true, `k /u 0 0 "at the top"`)
	if st, err := a.Stats(); err != nil || st.Records != 0 {
		t.Errorf("Stats of the cleared table: %+v, %v", st, err)
	}
}

func TestClearRemovesPendingInserts(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "old", "")) })
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k", "/u", 0, 1, "pending", "n"), rec("k2", "/v", 0, 0, "pending", ""))
		if n, err := tx.Clear(); err != nil || n != 3 {
			t.Fatalf("Clear = %d, %v; want 3: one committed action, two pending", n, err)
		}
		mustInsert(t, tx, rec("k3", "/w", 0, 0, "after clear", "n3"))
	})
	keys, err := p.ListKeysAndURIs("")
	if err != nil || !reflect.DeepEqual(keys, [][2]string{{"k3", "/w"}}) {
		t.Errorf("ListKeysAndURIs after Clear = %q, %v", keys, err)
	}
	checkFetch(t, p, "k3", "/w", true, `k3 /w 0 0 "after clear" "n3"`)
}

func TestClearOfEmptyDatabaseSucceeds(t *testing.T) {
	p := writable(t)
	for range 2 {
		inTxn(t, p, func(tx *translation.Txn) {
			if n, err := tx.Clear(); err != nil || n != 0 {
				t.Fatalf("Clear = %d, %v; want 0", n, err)
			}
		})
	}
}

func TestRollbackForgetsChanges(t *testing.T) {
	p := writable(t)
	var id uint64
	inTxn(t, p, func(tx *translation.Txn) { id = mustInsert(t, tx, rec("k", "/u", 0, 0, "a", ""))[0] })
	tx := begin(t, p)
	mustInsert(t, tx, rec("k", "/u", 0, 1, "b", ""))
	if n, err := tx.Delete(translation.Record{Key: "k", URI: "/u", ID: id}); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v; want 1", n, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	checkFetch(t, p, "k", "/u", false, `k /u 0 0 "a"`)
}

func TestListKeysAndURIs(t *testing.T) {
	p := writable(t)
	if keys, err := p.ListKeys(); err != nil || keys == nil || len(keys) != 0 {
		t.Errorf("ListKeys of an empty table = %q, %v", keys, err)
	}
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx,
			rec("b", "/x", 0, 0, "1", ""),
			rec("a", "/y", 0, 0, "2", ""),
			rec("a", "/", 0, 0, "3", ""),
			rec("a", ":PRE:", 0, 0, "4", ""),
			rec("a", "/y", 1, 0, "5", ""),
		)
	})
	keys, err := p.ListKeys()
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "b"}) {
		t.Errorf("ListKeys = %q, %v", keys, err)
	}
	for _, tt := range []struct {
		key  string
		want [][2]string
	}{
		{"", [][2]string{{"a", "/"}, {"a", "/y"}, {"a", ":PRE:"}, {"b", "/x"}}},
		{"a", [][2]string{{"a", "/"}, {"a", "/y"}, {"a", ":PRE:"}}},
		{"b", [][2]string{{"b", "/x"}}},
		{"c", [][2]string{}},
	} {
		got, err := p.ListKeysAndURIs(tt.key)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ListKeysAndURIs(%q) = %q, %v; want %q", tt.key, got, err, tt.want)
		}
	}
}

func TestStats(t *testing.T) {
	p := writable(t)
	gen := inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "n"), rec("k", "/v", 0, 0, "b", ""))
	})
	mustFetch(t, p, "k", "/u", false)
	if _, err := p.Resolve("k", "/u"); err != nil {
		t.Fatal(err)
	}
	st, err := p.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Generation != gen || st.Records != 2 || st.StoredRecords != 3 || st.FileSize <= 0 || st.Reads != 2 ||
		st.Commits != 1 || st.Creates != 2 || st.Deletes != 0 {
		t.Errorf("Stats = %+v; want generation %d, 2 records (3 stored: 2 actions and a note), 2 reads, 1 commit, 2 creates", st, gen)
	}
}

// TestReadOnlyProviderStartSeesOtherProcessCommit commits from a second
// process, TestHelperProcessCommit run from the test binary.
func TestReadOnlyProviderStartSeesOtherProcessCommit(t *testing.T) {
	path := dbPath(t)
	rw := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}})
	inTxn(t, rw, func(tx *translation.Txn) { mustInsert(t, tx, rec("k1", "u1", 0, 0, "a", "")) })
	if err := rw.Stop(); err != nil {
		t.Fatal(err)
	}

	ro := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}, ReadOnly: true})
	checkFetch(t, ro, "k1", "u1", true, `k1 u1 0 0 "a"`)
	before, _ := ro.Generation()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessCommit$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TRANSDB_TEST_COMMIT_FILE="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}

	// The commit cleared the valid flag of the mapped version: the next
	// read moves on by itself, and Start maps the newest version too.
	checkFetch(t, ro, "k1", "u1", true, `k1 u1 0 0 "a"`, `k1 u1 0 1 "from another process" "its note"`)
	if err := ro.Start(); err != nil {
		t.Fatal(err)
	}
	checkFetch(t, ro, "k1", "u1", true, `k1 u1 0 0 "a"`, `k1 u1 0 1 "from another process" "its note"`)
	if after, _ := ro.Generation(); after != before+1 {
		t.Errorf("generation %d after the other process's commit, want %d", after, before+1)
	}
}

// TestHelperProcessCommit is the second process of
// TestReadOnlyProviderStartSeesOtherProcessCommit.
func TestHelperProcessCommit(t *testing.T) {
	path := os.Getenv("TRANSDB_TEST_COMMIT_FILE")
	if path == "" {
		t.Skip("runs as a helper process only")
	}
	p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}})
	inTxn(t, p, func(tx *translation.Txn) {
		mustInsert(t, tx, rec("k1", "u1", 0, 1, "from another process", "its note"))
	})
}

func TestReadOnlyProviderSeesCommitWithoutStart(t *testing.T) {
	path := dbPath(t)
	ro := newProvider(t, translation.Options{FileName: path, ReadOnly: true, NoLock: true})
	rw := newProvider(t, translation.Options{FileName: path})
	inTxn(t, rw, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 0, "a", "")) })
	checkFetch(t, ro, "k", "/u", false, `k /u 0 0 "a"`)
	inTxn(t, rw, func(tx *translation.Txn) { mustInsert(t, tx, rec("k", "/u", 0, 1, "b", "")) })
	checkFetch(t, ro, "k", "/u", false, `k /u 0 0 "a"`, `k /u 0 1 "b"`)
}

func TestFetchDuringCommitsSeesWholeVersions(t *testing.T) {
	p := writable(t)
	ro := newProvider(t, translation.Options{FileName: p.Path(), BaseKey: []string{"trans", "db"}, ReadOnly: true})
	// Every version holds a block list of n records, each action "n".
	const versions = 20
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 2 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				s, err := ro.Snapshot()
				if err != nil {
					errs <- err
					return
				}
				list, err := s.Fetch("k", "/u", true)
				gen := s.Generation()
				s.Release()
				if err != nil {
					errs <- err
					return
				}
				for _, r := range list {
					if r.Action != fmt.Sprint(len(list)) || r.Note != "n" {
						errs <- fmt.Errorf("generation %d: mixed block list %+v", gen, list)
						return
					}
				}
			}
		}()
	}
	for v := 1; v <= versions; v++ {
		inTxn(t, p, func(tx *translation.Txn) {
			if n, err := tx.Clear(); err != nil || n != v-1 {
				t.Fatalf("Clear = %d, %v; want %d", n, err, v-1)
			}
			for i := range v {
				mustInsert(t, tx, rec("k", "/u", 0, uint32(i), fmt.Sprint(v), "n"))
			}
		})
	}
	close(done)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestForeignDataUnderBaseKeyIsReported(t *testing.T) {
	for _, tt := range []struct {
		name string
		keys []string
		sort string
	}{
		{"sort field not 8 bytes", []string{"trans", "db", "actn", "k", "/u"}, "short"},
		{"records directly under a key", []string{"trans", "db", "actn", "k"}, "\x00\x00\x00\x00\x00\x00\x00\x00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := dbPath(t)
			db, err := mmapdb.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			txn, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := txn.Insert(tt.keys, []byte(tt.sort), []byte("data")); err != nil {
				t.Fatal(err)
			}
			if err := txn.Commit(); err != nil {
				t.Fatal(err)
			}
			db.Close()

			p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}, ReadOnly: true})
			if _, err := p.Fetch(tt.keys[3], tt.keys[len(tt.keys)-1], false); len(tt.keys) == 5 && !errors.Is(err, mmapdb.ErrCorrupt) {
				t.Errorf("Fetch: %v, want ErrCorrupt", err)
			}
			var iterErr error
			for _, err := range p.Iterator() {
				iterErr = err
			}
			if !errors.Is(iterErr, mmapdb.ErrCorrupt) {
				t.Errorf("Iterator: %v, want ErrCorrupt", iterErr)
			}
			if err := p.Dump(new(strings.Builder), translation.FormatText); !errors.Is(err, mmapdb.ErrCorrupt) {
				t.Errorf("Dump: %v, want ErrCorrupt", err)
			}
			if _, err := p.Stats(); !errors.Is(err, mmapdb.ErrCorrupt) && len(tt.keys) == 4 {
				t.Errorf("Stats: %v, want ErrCorrupt", err)
			}
		})
	}
}
