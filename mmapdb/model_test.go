package mmapdb

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// modelRec is a record of the in-memory model the database is checked
// against.
type modelRec struct {
	path       string
	sort, data string
	id         uint64
	seq        int // insertion order, for ties
}

// TestRandomCommitsMatchModel runs random transactions (inserts into new
// and existing key paths, deletes, clears, rollbacks) against the database
// and an in-memory model, and compares the whole content, the lookups and
// Verify after every commit. Most commits leave most subtrees untouched,
// so the copying of unchanged subtrees is exercised along with rewrites.
func TestRandomCommitsMatchModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			db, _ := openTemp(t, nil)
			var model []modelRec
			seq := 0
			paths := []string{}
			for i := range 40 {
				paths = append(paths, fmt.Sprintf("p%d/k%02d/u%d", i%3, i%17, i))
			}
			for round := range 30 {
				tx, err := db.Begin()
				if err != nil {
					t.Fatal(err)
				}
				next := slices.Clone(model)
				ops := 1 + rng.IntN(8)
				for range ops {
					switch r := rng.IntN(20); {
					case r == 0:
						if err := tx.Clear(); err != nil {
							t.Fatal(err)
						}
						next = nil
					case r < 6 && len(next) > 0:
						victim := next[rng.IntN(len(next))]
						if _, found, err := tx.Delete(victim.id); err != nil || !found {
							t.Fatalf("delete %d: %v %v", victim.id, found, err)
						}
						next = slices.DeleteFunc(next, func(m modelRec) bool { return m.id == victim.id })
					default:
						path := paths[rng.IntN(len(paths))]
						sort := fmt.Sprintf("%02d", rng.IntN(5))
						data := fmt.Sprintf("r%d-%d", round, rng.IntN(1000))
						id, err := tx.Insert(strings.Split(path, "/"), []byte(sort), []byte(data))
						if err != nil {
							t.Fatal(err)
						}
						seq++
						next = append(next, modelRec{path, sort, data, id, seq})
					}
				}
				if rng.IntN(6) == 0 {
					if err := tx.Rollback(); err != nil {
						t.Fatal(err)
					}
				} else {
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
					model = next
				}
				checkModel(t, db, model)
			}
		})
	}
}

func checkModel(t *testing.T, db *DB, model []modelRec) {
	t.Helper()
	want := slices.Clone(model)
	slices.SortStableFunc(want, func(a, b modelRec) int {
		if c := slices.Compare(strings.Split(a.path, "/"), strings.Split(b.path, "/")); c != 0 {
			return c
		}
		if c := strings.Compare(a.sort, b.sort); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	var wantDump []string
	for _, m := range want {
		wantDump = append(wantDump, fmt.Sprintf("%s %s=%s #%d", m.path, m.sort, m.data, m.id))
	}
	current(t, db, func(s *Snapshot) {
		if err := s.Verify(nil); err != nil {
			t.Fatal(err)
		}
		if got := dumpAll(t, s); !slices.Equal(got, wantDump) {
			t.Fatalf("content after generation %d:\n got %q\nwant %q", s.Generation(), got, wantDump)
		}
		for _, m := range want {
			r, found, err := s.ByID(m.id)
			if err != nil || !found || !bytes.Equal(r.Data, []byte(m.data)) {
				t.Fatalf("ByID(%d) = %q %v %v, want %q", m.id, r.Data, found, err, m.data)
			}
			l, err := s.Lookup(strings.Split(m.path, "/")...)
			if err != nil || l.Len() == 0 {
				t.Fatalf("Lookup(%s) = %d, %v", m.path, l.Len(), err)
			}
		}
		if s.Len() != uint64(len(want)) {
			t.Fatalf("header counts %d records, model %d", s.Len(), len(want))
		}
	})
}
