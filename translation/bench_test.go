package translation_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"transdb/internal/httpload"
	"transdb/translation"
	"transdb/translation/transgen"
)

// benchSizes are the table sizes of the benchmarks.
var benchSizes = []struct {
	name string
	n    int
}{
	{"100k", 100_000},
	{"1M", 1_000_000},
}

// A benchTable is a database built once per size and kept for all
// benchmarks of the run.
type benchTable struct {
	p            *translation.Provider
	hits, misses [][2]string // Fetch probes
	requests     [][2]string // Resolve probes: key and a uri below an existing one
}

var benchTables struct {
	sync.Mutex
	dir    string
	tables map[int]*benchTable
}

// TestMain removes the benchmark databases after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, t := range benchTables.tables {
		t.p.Stop()
	}
	if benchTables.dir != "" {
		os.RemoveAll(benchTables.dir)
	}
	os.Exit(code)
}

// table returns the benchmark table of n transgen rows, building it on
// first use.
func table(b *testing.B, n int) *benchTable {
	b.Helper()
	if n >= 1_000_000 && testing.Short() {
		b.Skip("1M records: skipped in -short mode")
	}
	benchTables.Lock()
	defer benchTables.Unlock()
	if t := benchTables.tables[n]; t != nil {
		return t
	}
	if benchTables.dir == "" {
		dir, err := os.MkdirTemp("", "translation-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchTables.dir = dir
		benchTables.tables = make(map[int]*benchTable)
	}
	rows := transgen.Generate(n, 1)
	p, err := translation.New(translation.Options{
		FileName: fmt.Sprintf("trans-%d.mmdb", n),
		Root:     benchTables.dir,
		BaseKey:  []string{"trans", "db"},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := httpload.InsertRows(p, rows); err != nil {
		b.Fatal(err)
	}
	t := &benchTable{p: p}
	t.hits, t.misses = transgen.Probes(rows, 4096, 2)
	for _, h := range t.hits {
		if h[1] != translation.PreURI {
			t.requests = append(t.requests, [2]string{h[0], strings.TrimSuffix(h[1], "/") + "/page/index.html"})
		}
	}
	benchTables.tables[n] = t
	return t
}

// BenchmarkFetch fetches block lists without notes. A hit allocates the
// returned list and its action strings, nothing else; a miss allocates
// nothing.
func BenchmarkFetch(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			t := table(b, size.n)
			for _, probe := range []struct {
				name  string
				pairs [][2]string
			}{{"hit", t.hits}, {"miss", t.misses}} {
				b.Run(probe.name, func(b *testing.B) {
					b.ReportAllocs()
					records := 0
					i := 0
					for b.Loop() {
						pair := probe.pairs[i%len(probe.pairs)]
						i++
						list, err := t.p.Fetch(pair[0], pair[1], false)
						if err != nil {
							b.Fatal(err)
						}
						records += len(list)
					}
					b.ReportMetric(float64(records)/float64(i), "records/op")
				})
			}
		})
	}
}

// BenchmarkResolve resolves request uris two levels below an existing
// uri: every request walks to "/" and finds the :PRE: list, its uri's
// list and that of "/".
func BenchmarkResolve(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			t := table(b, size.n)
			b.ReportAllocs()
			matches := 0
			i := 0
			for b.Loop() {
				req := t.requests[i%len(t.requests)]
				i++
				res, err := t.p.Resolve(req[0], req[1])
				if err != nil {
					b.Fatal(err)
				}
				matches += len(res.Matches)
			}
			b.ReportMetric(float64(matches)/float64(i), "matches/op")
		})
	}
}
