package mmapdb

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSortIDsDenseSparseAndDuplicate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := map[string][]uint64{
		"dense":     {5, 3, 9, 4, 7, 6, 8},
		"sparse":    {1 << 40, 3, 1 << 20, 17},
		"duplicate": {4, 2, 4, 3},
		"one":       {42},
	}
	var big []uint64
	for _, i := range rng.Perm(5000) {
		big = append(big, uint64(i)*2+1) // half the slots used
	}
	cases["shuffled"] = big
	for name, ids := range cases {
		t.Run(name, func(t *testing.T) {
			entries := make([]idEntry, len(ids))
			for i, id := range ids {
				entries[i] = idEntry{id, id * 10}
			}
			sortIDs(entries)
			want := slices.Sorted(slices.Values(ids))
			for i, e := range entries {
				if e.id != want[i] || e.off != e.id*10 {
					t.Fatalf("entry %d = %+v, want id %d with its offset", i, e, want[i])
				}
			}
		})
	}
}

// TestCommitMergesCopiedAndNewIDs commits records whose IDs fall between
// those of records copied from the base version, before the first and
// after the last: the ID index of the new file must hold every one, in
// order, at the right record.
func TestCommitMergesCopiedAndNewIDs(t *testing.T) {
	db, _ := openTemp(t, nil)
	want := map[uint64]string{}
	update(t, db, func(tx *Txn) {
		for id := uint64(10); id <= 200; id += 10 {
			key := fmt.Sprintf("k%02d", id%7) // spread over several subtrees
			if err := tx.InsertID(id, []string{"a", key}, nil, fmt.Append(nil, id)); err != nil {
				t.Fatal(err)
			}
			want[id] = key
		}
	})
	update(t, db, func(tx *Txn) {
		for _, id := range []uint64{1, 15, 95, 105, 199, 500} {
			if err := tx.InsertID(id, []string{"b", "new"}, nil, fmt.Append(nil, id)); err != nil {
				t.Fatal(err)
			}
			want[id] = "new"
		}
	})
	if err := db.Verify(); err != nil {
		t.Fatal(err)
	}
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	var prev uint64
	n := 0
	for r, err := range s.IDOrder() {
		if err != nil {
			t.Fatal(err)
		}
		if r.ID <= prev {
			t.Fatalf("ID %d after %d", r.ID, prev)
		}
		prev = r.ID
		keys, err := r.Keys()
		if err != nil {
			t.Fatal(err)
		}
		if keys[1] != want[r.ID] || string(r.Data) != fmt.Sprint(r.ID) {
			t.Errorf("ID %d: keys %q data %q, want key %q", r.ID, keys, r.Data, want[r.ID])
		}
		n++
	}
	if n != len(want) {
		t.Errorf("%d records by ID, want %d", n, len(want))
	}
}
