package mmapdb

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// benchDB builds a database of n records in a temporary directory and
// returns it with 65536 key paths of random records to probe. The probes
// are laid out contiguously and read in order, as a server reads request
// parameters it has just received, so that the measurement is of the
// database's memory accesses, not of the benchmark's.
func benchDB(b *testing.B, n int) (*DB, [][]string) {
	b.Helper()
	db, err := Open(filepath.Join(b.TempDir(), "bench.mmdb"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	var paths [][]string
	update(b, db, func(tx *Txn) { paths = genRecords(b, tx, n) })
	rng := rand.New(rand.NewPCG(1, 2))
	var all strings.Builder
	picks := make([][]string, 1<<16)
	for i := range picks {
		picks[i] = paths[rng.IntN(len(paths))]
		for _, k := range picks[i] {
			all.WriteString(k)
		}
	}
	arena := all.String()
	flat := make([]string, 0, len(picks)*5)
	probes := make([][]string, len(picks))
	at := 0
	for i, p := range picks {
		start := len(flat)
		for _, k := range p {
			flat = append(flat, arena[at:at+len(k)])
			at += len(k)
		}
		probes[i] = flat[start:len(flat):len(flat)]
	}
	return db, probes
}

func BenchmarkLookupHit(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			db, paths := benchDB(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := db.Snapshot()
				if err != nil {
					b.Fatal(err)
				}
				l, err := s.Lookup(paths[i%len(paths)]...)
				if err != nil || l.Len() == 0 {
					b.Fatal(l.Len(), err)
				}
				for j := range l.Len() {
					if _, err := l.At(j); err != nil {
						b.Fatal(err)
					}
				}
				s.Release()
			}
		})
	}
}

func BenchmarkLookupMiss(b *testing.B) {
	db, _ := benchDB(b, 100_000)
	miss := []string{"trans", "db", "actn", "site042.example.com", "/no/such/uri"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, _ := db.Snapshot()
		if l, err := s.Lookup(miss...); err != nil || l.Len() != 0 {
			b.Fatal(l.Len(), err)
		}
		s.Release()
	}
}

// BenchmarkBuild measures a full build: Begin, n inserts, Commit (with
// its fsync), from records generated beforehand.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			type rec struct {
				keys       []string
				sort, data []byte
			}
			recs := make([]rec, n)
			for i := range recs {
				leaf := i / 4
				if i%4 == 0 {
					recs[i].keys = []string{"trans", "db", "actn", fmt.Sprintf("site%03d.example.com", leaf%100), fmt.Sprintf("/s%d/t%d", (leaf/100)%61, (leaf/100)/61)}
				} else {
					recs[i].keys = recs[i-1].keys
				}
				recs[i].sort = sortField(uint32(i%4/2), uint32(i%2))
				recs[i].data = []byte(fmt.Sprintf("Proxy: 'http://backend%d/'.$URI # record %d", i%17, i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db, err := Open(filepath.Join(b.TempDir(), "build.mmdb"), nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if _, err := tx.Insert(r.keys, r.sort, r.data); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
		})
	}
}

func BenchmarkCommitOneRecord(b *testing.B) {
	db, _ := benchDB(b, 100_000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		update(b, db, func(tx *Txn) {
			mustInsert(b, tx, "trans/db/actn/site001.example.com//bench", fmt.Sprint(i), "Proxy: 'http://backend/'.$URI")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	db, _ := benchDB(b, 100_000)
	path := db.Path()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := openVersion(path)
		if err != nil {
			b.Fatal(err)
		}
		v.release()
	}
}
