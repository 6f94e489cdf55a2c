package mmapdb

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func exampleDB(t testing.TB) *DB {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		for _, k := range []string{"e", "a", "c"} {
			mustInsert(t, tx, "idx/"+k+"/leaf", "1", k+"1")
			mustInsert(t, tx, "idx/"+k+"/leaf", "0", k+"0")
		}
		mustInsert(t, tx, "top", "", "top")
	})
	return db
}

func TestLookupOfMissingPathIsEmpty(t *testing.T) {
	db := exampleDB(t)
	current(t, db, func(s *Snapshot) {
		for _, path := range [][]string{
			{"nope"},
			{"idx", "b", "leaf"},
			{"idx", "a"},                 // an index, not records
			{"top", "deeper"},            // through a leaf
			{"idx", "a", "leaf", "more"}, // past a leaf
			{},
		} {
			l, err := s.Lookup(path...)
			if err != nil || l.Len() != 0 {
				t.Errorf("Lookup(%q) = %d records, %v; want empty, no error", path, l.Len(), err)
			}
		}
		if got := leafStrings(t, s, "idx/c/leaf"); !slices.Equal(got, []string{"0=c0", "1=c1"}) {
			t.Fatalf("idx/c/leaf = %q", got)
		}
	})
}

func TestLookupPositionFindsInsertionPoint(t *testing.T) {
	db := exampleDB(t)
	current(t, db, func(s *Snapshot) {
		cases := []struct {
			key   string
			pos   int
			found bool
		}{{"a", 0, true}, {"b", 1, false}, {"c", 1, true}, {"d", 2, false}, {"e", 2, true}, {"f", 3, false}, {"", 0, false}}
		for _, c := range cases {
			ix, pos, found, err := lookupPosition(s, "idx", c.key)
			if err != nil || pos != c.pos || found != c.found {
				t.Errorf("LookupPosition(idx, %q) = %d %v %v, want %d %v", c.key, pos, found, err, c.pos, c.found)
			}
			var rest []string
			for e, err := range ix.Entries(pos) {
				if err != nil {
					t.Fatal(err)
				}
				rest = append(rest, string(e.Key))
			}
			want := []string{"a", "c", "e"}[c.pos:]
			if !slices.Equal(rest, want) {
				t.Errorf("entries from %q = %q, want %q", c.key, rest, want)
			}
		}
		if _, _, found, err := lookupPosition(s, "top", "x"); found || err != nil {
			t.Errorf("position below a leaf: %v %v", found, err)
		}
	})
}

func TestIterationOrders(t *testing.T) {
	db := exampleDB(t)
	current(t, db, func(s *Snapshot) {
		got := dumpAll(t, s)
		want := []string{
			"idx/a/leaf 0=a0 #4", "idx/a/leaf 1=a1 #3",
			"idx/c/leaf 0=c0 #6", "idx/c/leaf 1=c1 #5",
			"idx/e/leaf 0=e0 #2", "idx/e/leaf 1=e1 #1",
			"top =top #7",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("All() = %q\nwant %q", got, want)
		}
		var ids []uint64
		for r, err := range s.IDOrder() {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, []uint64{1, 2, 3, 4, 5, 6, 7}) {
			t.Fatalf("ByIDOrder ids = %v", ids)
		}
		r, found, err := s.ByID(5)
		if err != nil || !found || string(r.Data) != "c1" {
			t.Fatalf("ByID(5) = %q %v %v", r.Data, found, err)
		}
		if _, found, err := s.ByID(8); found || err != nil {
			t.Fatalf("ByID(8) = %v %v", found, err)
		}
	})
}

func TestLookupDoesNotAllocate(t *testing.T) {
	db, _ := openTemp(t, nil)
	var paths [][]string
	update(t, db, func(tx *Txn) { paths = genRecords(t, tx, 2000) })
	n := 0
	allocs := testing.AllocsPerRun(200, func() {
		s, err := db.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		l, err := s.Lookup(paths[n%len(paths)]...)
		if err != nil || l.Len() == 0 {
			t.Fatal(l.Len(), err)
		}
		for i := range l.Len() {
			if _, err := l.At(i); err != nil {
				t.Fatal(err)
			}
		}
		s.Release()
		n++
	})
	if allocs != 0 {
		t.Fatalf("snapshot + lookup + records allocate %.1f times per run", allocs)
	}
}

func TestSupersededMappingIsUnmappedAfterLastRelease(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v1") })
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	old := s.v
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v2") })
	if n := old.refs.Load(); n != 1 {
		t.Fatalf("superseded version held by %d references, want just the snapshot's", n)
	}
	if got := leafStrings(t, s, "k"); !slices.Equal(got, []string{"=v1"}) {
		t.Fatalf("pinned snapshot reads %q", got)
	}
	s.Release()
	if n := old.refs.Load(); n != 0 {
		t.Fatalf("after the last release %d references remain", n)
	}
	if old.acquire() {
		t.Fatal("a released version could be acquired again")
	}
}

func TestSecondDBFollowsCommitsThroughTheValidFlag(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v1") })
	// No identity check: only the valid flag can tell this reader.
	reader, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for i := 2; i <= 5; i++ {
		update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
		current(t, reader, func(s *Snapshot) {
			if s.Generation() != uint64(i) {
				t.Fatalf("reader at generation %d, want %d", s.Generation(), i)
			}
		})
	}
	if st := reader.Stats(); st.Reloads != 4 {
		t.Fatalf("reader reloaded %d times, want 4", st.Reloads)
	}
}

func TestCommitKeepOldLeavesOldVersionValid(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v1") })
	reader, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, tx, "k", "", "v2")
	if err := tx.commitKeepOld(); err != nil {
		t.Fatal(err)
	}
	current(t, reader, func(s *Snapshot) {
		if s.Generation() != 1 || s.Superseded() {
			t.Fatalf("reader of a kept version: generation %d, superseded %v", s.Generation(), s.Superseded())
		}
	})
	if err := reader.Reload(); err != nil {
		t.Fatal(err)
	}
	current(t, reader, func(s *Snapshot) {
		if s.Generation() != 2 {
			t.Fatalf("after Reload: generation %d", s.Generation())
		}
	})
}

func TestKeysCompareBytewise(t *testing.T) {
	keys := []string{"abcdefgh\x00", "a", "\xff", "abcdefghi", "a\x00b", "", "abcdefgh", "a\x00", "abcdefgg\xff", "B"}
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		for _, k := range keys {
			if _, err := tx.Insert([]string{"idx", k}, nil, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
	})
	want := slices.Clone(keys)
	slices.Sort(want)
	current(t, db, func(s *Snapshot) {
		var got []string
		for r, err := range s.All() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(r.Data))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("key order %q, want %q", got, want)
		}
		for i, k := range want {
			l, err := s.Lookup("idx", k)
			if err != nil || l.Len() != 1 {
				t.Fatalf("Lookup(%q) = %d, %v", k, l.Len(), err)
			}
			_, pos, found, _ := lookupPosition(s, "idx", k)
			if pos != i || !found {
				t.Fatalf("position of %q = %d %v, want %d", k, pos, found, i)
			}
		}
		if l, _ := s.Lookup("idx", "abcdefgh\x00\x00"); l.Len() != 0 {
			t.Fatal("a key found by its prefix alone")
		}
		if err := s.Verify(nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSearchLargeIndexWithSharedPrefixes(t *testing.T) {
	var keys []string
	for i := range 3000 {
		switch i % 5 {
		case 0:
			keys = append(keys, fmt.Sprintf("/product/%d", i)) // long, shared 8-byte prefix
		case 1:
			keys = append(keys, fmt.Sprintf("/p%d", i)) // short
		case 2:
			keys = append(keys, fmt.Sprintf("/product\x00%d", i))
		case 3:
			keys = append(keys, fmt.Sprintf("%08d", i)) // exactly 8 bytes
		default:
			keys = append(keys, strings.Repeat("z", i%11))
		}
	}
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			if _, err := tx.Insert([]string{"idx", k}, nil, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
	})
	sorted := slices.Compact(slices.Sorted(slices.Values(keys)))
	probes := slices.Clone(sorted)
	for _, k := range sorted {
		probes = append(probes, k+"\x00", k+"~", "/product/"+k)
		if k != "" {
			probes = append(probes, k[:len(k)-1])
		}
	}
	current(t, db, func(s *Snapshot) {
		if err := s.Verify(nil); err != nil {
			t.Fatal(err)
		}
		ix, ok, err := s.LookupIndex("idx")
		if err != nil || !ok || ix.Len() != len(sorted) {
			t.Fatalf("index of %d keys: %v %v", ix.Len(), ok, err)
		}
		for _, p := range probes {
			want, wantFound := slices.BinarySearch(sorted, p)
			pos, found, err := ix.Search(p)
			if err != nil || pos != want || found != wantFound {
				t.Fatalf("Search(%q) = %d %v %v, want %d %v", p, pos, found, err, want, wantFound)
			}
		}
	})
}

func TestLookupUnderPrefixFollowsVersions(t *testing.T) {
	db, _ := openTemp(t, nil)
	pfx := NewPrefix("trans", "db", "actn")
	under := func(key, uri string) []string {
		var out []string
		current(t, db, func(s *Snapshot) {
			l, err := s.LookupUnder(pfx, key, uri)
			if err != nil {
				t.Fatal(err)
			}
			full, err := s.Lookup("trans", "db", "actn", key, uri)
			if err != nil || full.Len() != l.Len() {
				t.Fatalf("LookupUnder found %d, Lookup %d (%v)", l.Len(), full.Len(), err)
			}
			for i := range l.Len() {
				r, _ := l.At(i)
				out = append(out, string(r.Data))
			}
		})
		return out
	}
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "other/x", "", "o") })
	if got := under("k", "u"); got != nil {
		t.Fatalf("prefix that leads nowhere: %q", got)
	}
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "trans/db/actn/k/u", "1", "v1")
		mustInsert(t, tx, "aaa/before", "", "moves the offsets")
	})
	if got := under("k", "u"); !slices.Equal(got, []string{"v1"}) {
		t.Fatalf("after the first commit: %q", got)
	}
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "trans/db/actn/k/u", "2", "v2") })
	if got := under("k", "u"); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Fatalf("after the second commit: %q", got)
	}
	if got := under("nope", "u"); got != nil {
		t.Fatalf("missing key below the prefix: %q", got)
	}
	leafPfx := NewPrefix("other", "x")
	current(t, db, func(s *Snapshot) {
		if l, err := s.LookupUnder(leafPfx, "y"); err != nil || l.Len() != 0 {
			t.Fatalf("prefix that leads to a leaf: %d %v", l.Len(), err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if l, err := s.LookupUnder(pfx, "k", "u"); err != nil || l.Len() != 2 {
				t.Fatal(l.Len(), err)
			}
		})
		if allocs != 0 {
			t.Fatalf("LookupUnder allocates %.1f times once resolved", allocs)
		}
	})
}

// TestIdentityCheckAtATinyInterval opens readers whose first identity
// check fires at once, before Open has returned: they must close cleanly
// (under -race: without a race on the check's timer), and one must follow
// a file replaced by rename.
func TestIdentityCheckAtATinyInterval(t *testing.T) {
	src, _ := openTemp(t, nil)
	update(t, src, func(tx *Txn) {
		if _, err := tx.Insert([]string{"k"}, nil, []byte("replacement")); err != nil {
			t.Fatal(err)
		}
	})
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		if _, err := tx.Insert([]string{"k"}, nil, []byte("original")); err != nil {
			t.Fatal(err)
		}
	})
	for range 20 {
		r, err := Open(path, &Options{ReadOnly: true, CheckInterval: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}

	r, err := Open(path, &Options{ReadOnly: true, CheckInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	copyFile(t, src.Path(), path+".new")
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s, err := r.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if l, err := s.Lookup("k"); err == nil && l.Len() == 1 {
			_, d, _, _ := l.Fields(0)
			got = string(d)
		}
		s.Release()
		if got == "replacement" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader still sees %q 10 s after the file was replaced", got)
		}
		time.Sleep(time.Millisecond)
	}
}
