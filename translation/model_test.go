package translation_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"transdb/translation"
)

// TestRandomTransactionsMatchModel runs random transactions of inserts,
// updates, deletes and clears against a provider and against a plain
// slice of records, and compares the two after every transaction; a
// table under another base key in the same file must stay untouched.
// Records are inserted at free places only: with two actions at one
// block and order, which note belongs to which is ambiguous (as in the
// Perl provider).
func TestRandomTransactionsMatchModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	path := dbPath(t)
	p := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"trans", "db"}})
	neighbour := newProvider(t, translation.Options{FileName: path, BaseKey: []string{"other"}})
	inTxn(t, neighbour, func(tx *translation.Txn) { mustInsert(t, tx, rec("k0", "/", 0, 0, "neighbour", "n")) })

	var model []translation.Record // committed records with their IDs
	keys := []string{"k0", "k1", "k2"}
	uris := []string{"/", "/a", "/a/b", ":PRE:"}
	randomRecord := func() translation.Record {
		r := rec(keys[rng.IntN(len(keys))], uris[rng.IntN(len(uris))], uint32(rng.IntN(3)), uint32(rng.IntN(3)),
			fmt.Sprintf("action %d", rng.IntN(1000)), "")
		if rng.IntN(2) == 0 {
			r.Note = fmt.Sprintf("note %d", rng.IntN(1000))
		}
		return r
	}
	// freeRecord returns a random record at a place free in recs.
	freeRecord := func(recs []translation.Record) (translation.Record, bool) {
		for range 10 {
			r := randomRecord()
			if !slices.ContainsFunc(recs, func(o translation.Record) bool { return samePlace(o, r) }) {
				return r, true
			}
		}
		return translation.Record{}, false
	}
	// deleteFrom removes from recs the record that Delete(old) deletes.
	deleteFrom := func(recs []translation.Record, old translation.Record) ([]translation.Record, bool) {
		i := slices.IndexFunc(recs, func(r translation.Record) bool {
			return r.ID == old.ID && r.Key == old.Key && r.URI == old.URI && r.Block == old.Block && r.Order == old.Order
		})
		if i < 0 {
			return recs, false
		}
		return slices.Delete(recs, i, i+1), true
	}

	for txn := range 60 {
		work := slices.Clone(model)
		tx := begin(t, p)
		for range 1 + rng.IntN(8) {
			switch op := rng.IntN(10); {
			case op < 5:
				r, ok := freeRecord(work)
				if !ok {
					continue
				}
				id, err := tx.Insert(r)
				if err != nil {
					t.Fatal(err)
				}
				r.ID = id
				work = append(work, r)
			case op < 7 || op < 9 && len(work) == 0:
				old := randomRecord()
				if len(work) > 0 && rng.IntN(4) > 0 {
					old = work[rng.IntN(len(work))]
					if rng.IntN(4) == 0 {
						old.Order++ // a stale place: must not match
					}
				}
				n, err := tx.Delete(old)
				if err != nil {
					t.Fatal(err)
				}
				var deleted bool
				work, deleted = deleteFrom(work, old)
				if (n == 1) != deleted {
					t.Fatalf("txn %d: Delete(%+v) = %d, model deleted %v", txn, old, n, deleted)
				}
			case op < 9:
				old := work[rng.IntN(len(work))]
				if rng.IntN(4) == 0 {
					old.ID += 1000 // a stale ID
				}
				rest, _ := deleteFrom(slices.Clone(work), old)
				r, ok := freeRecord(rest)
				if !ok {
					continue
				}
				n, id, err := tx.Update(old, r)
				if err != nil {
					t.Fatal(err)
				}
				var deleted bool
				if work, deleted = deleteFrom(work, old); deleted {
					r.ID = id
					work = append(work, r)
				}
				if (n == 1) != deleted {
					t.Fatalf("txn %d: Update(%+v) = %d, model updated %v", txn, old, n, deleted)
				}
			default:
				n, err := tx.Clear()
				if err != nil {
					t.Fatal(err)
				}
				if n != len(work) {
					t.Fatalf("txn %d: Clear = %d, model holds %d", txn, n, len(work))
				}
				work = nil
			}
		}
		if rng.IntN(5) == 0 {
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
		} else {
			if _, err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			model = work
		}

		want := slices.Clone(model)
		slices.SortStableFunc(want, func(a, b translation.Record) int {
			return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.URI, b.URI),
				cmp.Compare(a.Block, b.Block), cmp.Compare(a.Order, b.Order))
		})
		if got := collect(t, p); !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("after transaction %d the table holds\n%+v\nthe model\n%+v", txn, got, want)
		}
		checkFetch(t, neighbour, "k0", "/", true, `k0 / 0 0 "neighbour" "n"`)
	}
}

func samePlace(a, b translation.Record) bool {
	return a.Key == b.Key && a.URI == b.URI && a.Block == b.Block && a.Order == b.Order
}
