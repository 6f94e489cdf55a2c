package mmapdb

import (
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
