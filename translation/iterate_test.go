package translation_test

import (
	"errors"
	"iter"
	"reflect"
	"slices"
	"strings"
	"testing"

	"transdb/translation"
)

// recordList is a Source of records held in memory, in any order.
type recordList []translation.Record

func (l recordList) Iterator() iter.Seq2[translation.Record, error] {
	return func(yield func(translation.Record, error) bool) {
		for _, r := range l {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// collect gathers what a source yields.
func collect(t testing.TB, src translation.Source) []translation.Record {
	t.Helper()
	recs := []translation.Record{}
	for r, err := range src.Iterator() {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// mixedTable has several keys and uris, notes on some records, and is
// not in iteration order.
var mixedTable = recordList{
	rec("k2", "/b", 0, 0, "k2 b", "note k2 b"),
	rec("k1", "/z", 1, 0, "k1 z 1/0", ""),
	rec("k1", "/z", 0, 5, "k1 z 0/5", "note\nk1 z"),
	rec("k1", "/a", 0, 0, "k1 a", ""),
	rec("k10", "/", 0, 0, "k10 /", ""),
	rec("k1", ":PRE:", 2, 1, "k1 pre", "pre note"),
}

// mixedTableOrdered is mixedTable as Iterator yields it.
var mixedTableOrdered = []string{
	`k1 /a 0 0 "k1 a"`,
	`k1 /z 0 5 "k1 z 0/5" "note\nk1 z"`,
	`k1 /z 1 0 "k1 z 1/0"`,
	`k1 :PRE: 2 1 "k1 pre" "pre note"`,
	`k10 / 0 0 "k10 /"`,
	`k2 /b 0 0 "k2 b" "note k2 b"`,
}

func TestIteratorYieldsRecordsOrderedWithNotes(t *testing.T) {
	p := writable(t)
	if got := collect(t, p); len(got) != 0 {
		t.Errorf("Iterator of an empty table yields %v", got)
	}
	if _, err := p.Append(mixedTable, false); err != nil {
		t.Fatal(err)
	}
	if got := brief(t, collect(t, p)); !reflect.DeepEqual(got, mixedTableOrdered) {
		t.Errorf("Iterator yields\n%q\nwant\n%q", got, mixedTableOrdered)
	}

	// A snapshot iterates the version it pinned.
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	inTxn(t, p, func(tx *translation.Txn) {
		if n, err := tx.Clear(); err != nil || n != len(mixedTable) {
			t.Fatalf("Clear = %d, %v; want %d", n, err, len(mixedTable))
		}
	})
	if got := brief(t, collect(t, s)); !reflect.DeepEqual(got, mixedTableOrdered) {
		t.Errorf("Snapshot.Iterator after a commit yields\n%q\nwant\n%q", got, mixedTableOrdered)
	}
	if got := collect(t, p); len(got) != 0 {
		t.Errorf("Iterator after Clear yields %v", got)
	}
}

func TestIteratorStopsWhenLoopBreaks(t *testing.T) {
	p := writable(t)
	if _, err := p.Append(mixedTable, false); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range p.Iterator() {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	// The snapshot was released: a commit and a full iteration work.
	inTxn(t, p, func(tx *translation.Txn) { mustInsert(t, tx, rec("k3", "/", 0, 0, "x", "")) })
	if got := len(collect(t, p)); got != len(mixedTable)+1 {
		t.Errorf("Iterator yields %d records, want %d", got, len(mixedTable)+1)
	}
}

func TestAppendCopiesAnotherProvider(t *testing.T) {
	src := writable(t)
	if _, err := src.Append(mixedTable, false); err != nil {
		t.Fatal(err)
	}
	for _, dropNotes := range []bool{false, true} {
		dst := newProvider(t, translation.Options{FileName: dbPath(t), BaseKey: []string{"copy"}})
		// Outside a transaction Append commits on its own.
		n, err := dst.Append(src, dropNotes)
		if err != nil || n != len(mixedTable) {
			t.Fatalf("Append = %d, %v; want %d", n, err, len(mixedTable))
		}
		want := slicesClone(mixedTableOrdered)
		if dropNotes {
			for i, s := range want {
				if j := strings.Index(s, `" "`); j >= 0 {
					want[i] = s[:j+1]
				}
			}
		}
		if got := brief(t, collect(t, dst)); !reflect.DeepEqual(got, want) {
			t.Errorf("dropNotes=%v: copy holds\n%q\nwant\n%q", dropNotes, got, want)
		}
		// IDs are the destination's own.
		if changes, err := dst.Diff(src, translation.Filter{}); err != nil || (len(changes) == 0) != !dropNotes {
			t.Errorf("dropNotes=%v: Diff(copy, source) = %v, %v", dropNotes, changes, err)
		}
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

func TestTxnAppendWaitsForCommit(t *testing.T) {
	p := writable(t)
	tx := begin(t, p)
	if n, err := tx.Append(mixedTable, false); err != nil || n != len(mixedTable) {
		t.Fatalf("Append = %d, %v", n, err)
	}
	if got := collect(t, p); len(got) != 0 {
		t.Errorf("records visible before Commit: %v", got)
	}
	// Appending the provider to itself reads the committed version.
	if n, err := tx.Append(p, false); err != nil || n != 0 {
		t.Errorf("Append of itself inside the transaction = %d, %v; want 0", n, err)
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Append(p, false); err != nil || n != len(mixedTable) {
		t.Errorf("Append of itself = %d, %v; want %d", n, err, len(mixedTable))
	}
	if got := len(collect(t, p)); got != 2*len(mixedTable) {
		t.Errorf("%d records after appending the table to itself, want %d", got, 2*len(mixedTable))
	}
}

// onIterate is a Source that calls f when its iteration starts.
type onIterate struct {
	src translation.Source
	f   func()
}

func (s onIterate) Iterator() iter.Seq2[translation.Record, error] {
	return func(yield func(translation.Record, error) bool) {
		s.f()
		s.src.Iterator()(yield)
	}
}

func TestAppendWaitsForOpenTxnThenCommitsAfterIt(t *testing.T) {
	p := writable(t)
	n := 0
	checkWaitsForOpenTxn(t, p, func(began func()) (gen uint64, err error) {
		n, err = p.Append(onIterate{mixedTable, began}, false)
		if err != nil {
			return 0, err
		}
		return p.Generation()
	})
	if n != len(mixedTable) {
		t.Errorf("Append = %d, want %d", n, len(mixedTable))
	}
	got := brief(t, collect(t, p))
	want := append([]string{`k9 / 0 0 "in the open transaction"`}, mixedTableOrdered...)
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after Append holds\n%q\nwant\n%q", got, want)
	}
}

func TestAppendOutsideTransactionIsAllOrNothing(t *testing.T) {
	p := writable(t)
	bad := append(recordList{}, mixedTable...)
	bad = append(bad, rec("bad key", "/u", 0, 0, "x", ""))
	if _, err := p.Append(bad, false); !errors.Is(err, translation.ErrInvalidRecord) {
		t.Fatalf("Append of an invalid record: %v, want ErrInvalidRecord", err)
	}
	if got := collect(t, p); len(got) != 0 {
		t.Errorf("failed Append left %d records", len(got))
	}
	if st, err := p.Stats(); err != nil || st.Commits != 0 || st.Creates != 0 {
		t.Errorf("Stats after a failed Append = %+v, %v; want no commit, no creates", st, err)
	}
	// And the file is not left in a transaction.
	tx, err := p.Begin()
	if err != nil {
		t.Fatalf("Begin after a failed Append: %v", err)
	}
	tx.Rollback()
}

func TestDiff(t *testing.T) {
	base := recordList{
		rec("k", "/a", 0, 0, "a", ""),
		rec("k", "/a", 0, 1, "b", "note b"),
		rec("k", "/b", 0, 0, "c", ""),
		rec("j", "/a", 0, 0, "d", ""),
	}
	for _, tt := range []struct {
		name   string
		to     recordList
		filter translation.Filter
		want   []string
	}{
		{"same records, other ids", base, translation.Filter{}, nil},
		{"action changed", recordList{base[0], rec("k", "/a", 0, 1, "B", "note b"), base[2], base[3]}, translation.Filter{},
			[]string{`- k /a 0 1 "b" "note b"`, `+ k /a 0 1 "B" "note b"`}},
		{"note changed", recordList{base[0], rec("k", "/a", 0, 1, "b", "other"), base[2], base[3]}, translation.Filter{},
			[]string{`- k /a 0 1 "b" "note b"`, `+ k /a 0 1 "b" "other"`}},
		{"note dropped", recordList{base[0], rec("k", "/a", 0, 1, "b", ""), base[2], base[3]}, translation.Filter{},
			[]string{`- k /a 0 1 "b" "note b"`, `+ k /a 0 1 "b"`}},
		{"moved", recordList{base[0], base[1], rec("k", "/b", 1, 0, "c", ""), base[3]}, translation.Filter{},
			[]string{`- k /b 0 0 "c"`, `+ k /b 1 0 "c"`}},
		{"added and removed", recordList{base[1], base[2], base[3], rec("l", "/", 0, 0, "new", "")}, translation.Filter{},
			[]string{`- k /a 0 0 "a"`, `+ l / 0 0 "new"`}},
		{"filter by key", recordList{base[1], base[2], rec("j", "/a", 0, 0, "D", "")}, translation.Filter{Key: "j"},
			[]string{`- j /a 0 0 "d"`, `+ j /a 0 0 "D"`}},
		{"filter by uri", recordList{base[1], base[2], rec("j", "/a", 0, 0, "D", "")}, translation.Filter{URI: "/b"},
			nil},
		{"filter by key and uri", recordList{base[1], base[2], rec("j", "/a", 0, 0, "D", "")}, translation.Filter{Key: "k", URI: "/a"},
			[]string{`- k /a 0 0 "a"`}},
		{"duplicate place, order of duplicates ignored", recordList{base[0], base[1], rec("k", "/a", 0, 1, "a dup", ""), base[2], base[3]}, translation.Filter{},
			[]string{`+ k /a 0 1 "a dup"`}},
		{"everything removed", nil, translation.Filter{},
			[]string{`- j /a 0 0 "d"`, `- k /a 0 0 "a"`, `- k /a 0 1 "b" "note b"`, `- k /b 0 0 "c"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			from := writable(t)
			if _, err := from.Append(base, false); err != nil {
				t.Fatal(err)
			}
			to := writable(t)
			if _, err := to.Append(tt.to, false); err != nil {
				t.Fatal(err)
			}
			// The same comparison against providers (streamed) and
			// against unordered in-memory sources (sorted first).
			for _, pair := range []struct {
				name     string
				from, to translation.Source
			}{
				{"providers", from, to},
				{"unordered sources", base, tt.to},
				{"provider and unordered source", from, tt.to},
			} {
				changes, err := translation.Diff(pair.from, pair.to, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if changes == nil {
					t.Errorf("%s: Diff returned nil", pair.name)
				}
				var got []string
				for _, c := range changes {
					got = append(got, string(c.Op)+" "+brief(t, []translation.Record{withID(c.Record)})[0])
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s: Diff = %q\nwant %q", pair.name, got, tt.want)
				}
			}
		})
	}
}

// withID gives a record of an in-memory source an ID for brief.
func withID(r translation.Record) translation.Record {
	if r.ID == 0 {
		r.ID = 1
	}
	return r
}

func TestDiffReportsSourceErrors(t *testing.T) {
	p := writable(t)
	r, err := translation.NewReader(strings.NewReader("not a table\n"), translation.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Diff(translation.ReaderSource(r), translation.Filter{}); !errors.Is(err, translation.ErrFormat) {
		t.Errorf("Diff against malformed input: %v, want ErrFormat", err)
	}
}
