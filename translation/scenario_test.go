package translation_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"transdb/mmapdb"
	"transdb/translation"
)

// scenarioTable is the data of the Perl provider's test suite
// (t/005provider-MMapDB.t): key, uri, block, order, action, note.
const scenarioTable = `######################################################################
k1 & u1 0/0
action> a
note> note1
######################################################################
k1 & u1 1/1
action> c
note> note2
######################################################################
k1 & u1 0/1
action> b
######################################################################
k1 & u2 0/0
action> d
note> note3
######################################################################
k1 & u2 1/1
action> f
######################################################################
k1 & u2 1/0
action> e
note> note4
`

// TestPerlProviderScenario replays the test suite of
// Apache2::Translation::MMapDB step by step: a writable and a read-only
// provider on one file, with the base key given in two forms.
func TestPerlProviderScenario(t *testing.T) {
	path := dbPath(t)
	top := t
	var o, ro *translation.Provider
	var first *translation.Txn // the transaction of the first two steps
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}
	// fetchIDs returns the IDs of a block list, checking there are n.
	fetchIDs := func(t *testing.T, p *translation.Provider, n int) []uint64 {
		t.Helper()
		list := mustFetch(t, p, "k1", "u1", false)
		if len(list) != n {
			t.Fatalf("Fetch(k1, u1) has %d records, want %d", len(list), n)
		}
		var ids []uint64
		for _, r := range list {
			ids = append(ids, r.ID)
		}
		return ids
	}

	step("new providers", func(t *testing.T) {
		bk1, err := translation.ParseBaseKey("[qw/trans db/]")
		if err != nil {
			t.Fatal(err)
		}
		bk2, err := translation.ParseBaseKey(`["trans","db"]`)
		if err != nil {
			t.Fatal(err)
		}
		o = newProvider(top, translation.Options{FileName: path, BaseKey: bk1})
		ro = newProvider(top, translation.Options{FileName: path, BaseKey: bk2, ReadOnly: true})
		if !reflect.DeepEqual(o.BaseKey(), []string{"trans", "db"}) || !reflect.DeepEqual(ro.BaseKey(), o.BaseKey()) {
			t.Errorf("base keys %q and %q, want [trans db]", o.BaseKey(), ro.BaseKey())
		}
	})

	step("newly created db successfully cleared", func(t *testing.T) {
		if err := o.Start(); err != nil {
			t.Fatal(err)
		}
		var err error
		if first, err = o.Begin(); err != nil {
			t.Fatal(err)
		}
		top.Cleanup(func() { first.Rollback() })
		if n, err := first.Clear(); err != nil || n != 0 {
			t.Fatalf("Clear = %d, %v; want 0", n, err)
		}
	})

	step("append", func(t *testing.T) {
		r, err := translation.NewReader(strings.NewReader(scenarioTable), translation.FormatText)
		if err != nil {
			t.Fatal(err)
		}
		n, err := first.Append(translation.ReaderSource(r), false)
		if err != nil || n != 6 {
			t.Fatalf("Append = %d, %v; want 6", n, err)
		}
		if _, err := first.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := o.Stop(); err != nil {
			t.Fatal(err)
		}
	})

	step("readonly begin fails", func(t *testing.T) {
		if err := ro.Start(); err != nil {
			t.Fatal(err)
		}
		rtx, err := ro.Begin()
		if !errors.Is(err, translation.ErrReadOnly) || !errors.Is(err, mmapdb.ErrReadOnly) || rtx != nil {
			t.Errorf("Begin on the read-only provider: %v, %v; want no transaction and ErrReadOnly", rtx, err)
		}
		if err := ro.Stop(); err != nil {
			t.Fatal(err)
		}
	})

	step("fetch k1 u1", func(t *testing.T) {
		if err := o.Start(); err != nil {
			t.Fatal(err)
		}
		if err := ro.Start(); err != nil {
			t.Fatal(err)
		}
		checkFetch(t, ro, "k1", "u1", false, `k1 u1 0 0 "a"`, `k1 u1 0 1 "b"`, `k1 u1 1 1 "c"`)
	})

	step("fetch k1 u1 with notes", func(t *testing.T) {
		checkFetch(t, o, "k1", "u1", true, `k1 u1 0 0 "a" "note1"`, `k1 u1 0 1 "b"`, `k1 u1 1 1 "c" "note2"`)
	})

	var old *translation.Snapshot // the read-only provider's view before the update
	step("fetch k1 u1 after insert", func(t *testing.T) {
		inTxn(t, o, func(tx *translation.Txn) {
			mustInsert(t, tx, rec("k1", "u1", 1, 0, "inserted_action", "inserted_note"))
		})
		if err := ro.Start(); err != nil {
			t.Fatal(err)
		}
		checkFetch(t, ro, "k1", "u1", true,
			`k1 u1 0 0 "a" "note1"`, `k1 u1 0 1 "b"`, `k1 u1 1 0 "inserted_action" "inserted_note"`, `k1 u1 1 1 "c" "note2"`)
		var err error
		if old, err = ro.Snapshot(); err != nil {
			t.Fatal(err)
		}
		top.Cleanup(old.Release) // used by a later step
	})

	step("update", func(t *testing.T) {
		id := fetchIDs(t, o, 4)[2] // the inserted record, (1, 0)
		inTxn(t, o, func(tx *translation.Txn) {
			n, newID, err := tx.Update(translation.Record{Key: "k1", URI: "u1", Block: 1, Order: 0, ID: id},
				rec("k1", "u1", 1, 3, "updated\naction", "updated\nnote"))
			if err != nil || n != 1 || newID == 0 {
				t.Fatalf("Update = %d, %d, %v; want 1 and a new id", n, newID, err)
			}
		})
	})

	step("diff after update", func(t *testing.T) {
		removed := translation.Change{Op: '-', Record: rec("k1", "u1", 1, 0, "inserted_action", "inserted_note")}
		added := translation.Change{Op: '+', Record: rec("k1", "u1", 1, 3, "updated\naction", "updated\nnote")}
		for _, tt := range []struct {
			filter translation.Filter
			want   []translation.Change
		}{
			{translation.Filter{}, []translation.Change{removed, added}},
			{translation.Filter{Key: "k1", URI: "u1"}, []translation.Change{removed, added}},
			{translation.Filter{Key: "k1", URI: "u2"}, []translation.Change{}},
			{translation.Filter{Key: "hugo", URI: "erna"}, []translation.Change{}},
		} {
			changes, err := translation.Diff(old, o, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			for i := range changes {
				if changes[i].Record.ID == 0 {
					t.Errorf("change %d has no ID", i)
				}
				changes[i].Record.ID = 0
			}
			if !reflect.DeepEqual(changes, tt.want) {
				t.Errorf("Diff(old, new, %+v) = %+v, want %+v", tt.filter, changes, tt.want)
			}
		}
		// Both providers are at the newest version now.
		if changes, err := ro.Diff(o, translation.Filter{}); err != nil || len(changes) != 0 {
			t.Errorf("ro.Diff(o) = %+v, %v; want no changes", changes, err)
		}
	})

	step("fetch k1 u1 after update", func(t *testing.T) {
		if err := ro.Start(); err != nil {
			t.Fatal(err)
		}
		checkFetch(t, ro, "k1", "u1", true,
			`k1 u1 0 0 "a" "note1"`, `k1 u1 0 1 "b"`, `k1 u1 1 1 "c" "note2"`, `k1 u1 1 3 "updated\naction" "updated\nnote"`)
	})

	step("fetch k1 u1 after delete", func(t *testing.T) {
		id := fetchIDs(t, o, 4)[2] // (1, 1, c)
		inTxn(t, o, func(tx *translation.Txn) {
			if n, err := tx.Delete(translation.Record{Key: "k1", URI: "u1", Block: 1, Order: 1, ID: id}); n != 1 || err != nil {
				t.Fatalf("Delete = %d, %v; want 1", n, err)
			}
		})
		if err := ro.Start(); err != nil {
			t.Fatal(err)
		}
		checkFetch(t, ro, "k1", "u1", true,
			`k1 u1 0 0 "a" "note1"`, `k1 u1 0 1 "b"`, `k1 u1 1 3 "updated\naction" "updated\nnote"`)
	})

	step("iterator", func(t *testing.T) {
		var got []translation.Record
		for r, err := range o.Iterator() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		want := []string{
			`k1 u1 0 0 "a" "note1"`,
			`k1 u1 0 1 "b"`,
			`k1 u1 1 3 "updated\naction" "updated\nnote"`,
			`k1 u2 0 0 "d" "note3"`,
			`k1 u2 1 0 "e" "note4"`,
			`k1 u2 1 1 "f"`,
		}
		if b := brief(t, got); !reflect.DeepEqual(b, want) {
			t.Errorf("Iterator yields\n%q\nwant\n%q", b, want)
		}
	})

	step("cleared", func(t *testing.T) {
		inTxn(t, o, func(tx *translation.Txn) {
			if n, err := tx.Clear(); err != nil || n != 6 {
				t.Fatalf("Clear = %d, %v; want 6", n, err)
			}
		})
		if err := ro.Start(); err != nil {
			t.Fatal(err)
		}
		checkFetch(t, ro, "k1", "u1", true)
	})

	step("clear an already cleared db", func(t *testing.T) {
		inTxn(t, o, func(tx *translation.Txn) {
			if n, err := tx.Clear(); err != nil || n != 0 {
				t.Fatalf("Clear = %d, %v; want 0", n, err)
			}
		})
		if err := o.Stop(); err != nil {
			t.Fatal(err)
		}
	})
}
