package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"transdb/translation/transgen"
)

// seed is the generator seed of every test and benchmark.
const seed = 1

func TestStoresReturnTheGeneratedBlockLists(t *testing.T) {
	rows := transgen.Generate(3000, seed)
	want := ExpectedLookups(rows)
	_, misses := transgen.Probes(rows, 200, seed)
	for _, s := range Stores {
		t.Run(s.Name(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			if err := s.Build(path, rows); err != nil {
				t.Fatal(err)
			}
			r, err := s.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for p, e := range want {
				if n, sum := r.Lookup(p[0], p[1]); n != e.N || sum != e.Sum {
					t.Fatalf("Lookup%v = (%d, %d), want (%d, %d)", p, n, sum, e.N, e.Sum)
				}
			}
			for _, p := range misses {
				if n, sum := r.Lookup(p[0], p[1]); n != 0 || sum != 0 {
					t.Fatalf("Lookup%v of a missing pair = (%d, %d)", p, n, sum)
				}
			}
		})
	}
}

func TestCommitAddsARecordThatNewReadersSee(t *testing.T) {
	rows := transgen.Generate(500, seed)
	want := ExpectedLookups(rows)
	existing := rows[len(rows)-1]
	added := []transgen.Row{
		{Key: existing.Key, URI: "/bench/commit/1", Block: 1, Order: 2, Action: "Proxy: 'http://commit1/'.$URI"},
		{Key: existing.Key, URI: existing.URI, Block: 7, Order: 7, Action: "Do: $CTX{added}='yes'"},
		{Key: "new.example.com", URI: "/", Block: 0, Order: 0, Action: "Error: 404, 'not here'"},
	}
	for _, r := range added {
		p := [2]string{r.Key, r.URI}
		e := want[p]
		e.N++
		e.Sum += Touch(r.Block, r.Order, r.Action)
		want[p] = e
	}
	for _, s := range Stores {
		t.Run(s.Name(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			if err := s.Build(path, rows); err != nil {
				t.Fatal(err)
			}
			w, err := s.OpenWriter(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range added {
				if err := w.Commit(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := s.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for p, e := range want {
				if n, sum := r.Lookup(p[0], p[1]); n != e.N || sum != e.Sum {
					t.Fatalf("Lookup%v = (%d, %d), want (%d, %d)", p, n, sum, e.N, e.Sum)
				}
			}
		})
	}
}

func TestMapFileRejectsTruncationAndForeignFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "map")
	if err := (Map{}).Build(path, transgen.Generate(100, seed)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 3, len(mapMagic), len(mapMagic) + 1, len(data) / 2, len(data) - 1} {
		if _, _, err := decodeMap(append([]byte(nil), data[:cut]...)); !errors.Is(err, ErrMapFormat) {
			t.Errorf("file cut at %d of %d: err = %v, want ErrMapFormat", cut, len(data), err)
		}
	}
	if _, _, err := decodeMap(append(append([]byte(nil), data...), 0)); !errors.Is(err, ErrMapFormat) {
		t.Errorf("trailing byte: err = %v, want ErrMapFormat", err)
	}
	foreign := append([]byte("TGMAP999"), data[len(mapMagic):]...)
	if _, _, err := decodeMap(foreign); !errors.Is(err, ErrMapFormat) {
		t.Errorf("foreign magic: err = %v, want ErrMapFormat", err)
	}
}

func TestReadMemoryReportsAnonymousGrowth(t *testing.T) {
	// Return freed heap first, so that the runtime's scavenger gives back
	// little between the two readings; the threshold leaves room for it.
	debug.FreeOSMemory()
	before, err := ReadMemory()
	if err != nil {
		t.Skip(err)
	}
	// A fresh private anonymous mapping, outside the Go heap, whose free
	// pages an earlier test may already have made resident.
	const size = 32 << 20
	buf, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after, err := ReadMemory()
	if err != nil {
		t.Fatal(err)
	}
	if grown := after.Anonymous - before.Anonymous; grown < 16<<10 {
		t.Errorf("anonymous memory grew by %d KiB after touching a new 32 MiB mapping", grown)
	}
	if after.PrivateDirty < after.Anonymous/2 || after.RSS < after.Anonymous {
		t.Errorf("implausible figures %+v", after)
	}
}

// Benchmarks: fixtures are built once per store and size in a directory
// that TestMain removes. Sizes are 10k and 100k records; setting
// TRANSDB_BENCH_LARGE=1 adds 1M.

var (
	fixtureDir   string
	fixtureMu    sync.Mutex
	fixtureRows  = map[int][]transgen.Row{}
	fixturePaths = map[string]string{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "transdb-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func benchSizes() []int {
	sizes := []int{10_000, 100_000}
	if large, _ := strconv.ParseBool(os.Getenv("TRANSDB_BENCH_LARGE")); large {
		sizes = append(sizes, 1_000_000)
	}
	return sizes
}

func rowsOf(n int) []transgen.Row {
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	rows, ok := fixtureRows[n]
	if !ok {
		rows = transgen.Generate(n, seed)
		fixtureRows[n] = rows
	}
	return rows
}

// fixture returns the path of a database of n generated records in store
// s, building it on first use.
func fixture(b *testing.B, s Store, n int) string {
	b.Helper()
	rows := rowsOf(n)
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	name := s.Name() + "-" + SizeLabel(n)
	if p, ok := fixturePaths[name]; ok {
		return p
	}
	p := filepath.Join(fixtureDir, name)
	if err := s.Build(p, rows); err != nil {
		b.Fatal(err)
	}
	fixturePaths[name] = p
	return p
}

// benchLookups measures Lookup over probes, cycling through them.
func benchLookups(b *testing.B, miss bool) {
	for _, s := range Stores {
		for _, n := range benchSizes() {
			b.Run(s.Name()+"/"+SizeLabel(n), func(b *testing.B) {
				path := fixture(b, s, n)
				hits, misses := transgen.Probes(rowsOf(n), 1<<14, seed)
				probes := hits
				if miss {
					probes = misses
				}
				probes = contiguous(probes)
				r, err := s.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				var sink uint64
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				for b.Loop() {
					p := probes[i&(len(probes)-1)]
					_, sum := r.Lookup(p[0], p[1])
					sink += sum
					i++
				}
				if !miss && sink == 0 {
					b.Fatal("hits found nothing")
				}
			})
		}
	}
}

// contiguous copies the probes' strings into one block in probe order, as
// storebench has them (read line by line from its probe file) and as a
// server has a request's parameters: the benchmark then measures the
// stores' memory accesses, not those of strings scattered over the heap.
func contiguous(probes [][2]string) [][2]string {
	var all strings.Builder
	for _, p := range probes {
		all.WriteString(p[0])
		all.WriteString(p[1])
	}
	arena := all.String()
	out := make([][2]string, len(probes))
	at := 0
	for i, p := range probes {
		out[i][0] = arena[at : at+len(p[0])]
		at += len(p[0])
		out[i][1] = arena[at : at+len(p[1])]
		at += len(p[1])
	}
	return out
}

func BenchmarkLookupHit(b *testing.B)  { benchLookups(b, false) }
func BenchmarkLookupMiss(b *testing.B) { benchLookups(b, true) }

// BenchmarkOpen measures opening a database with a warm page cache, up to
// the point where it answers lookups, and closing it.
func BenchmarkOpen(b *testing.B) {
	for _, s := range Stores {
		for _, n := range benchSizes() {
			b.Run(s.Name()+"/"+SizeLabel(n), func(b *testing.B) {
				path := fixture(b, s, n)
				b.ReportAllocs()
				for b.Loop() {
					r, err := s.Open(path)
					if err != nil {
						b.Fatal(err)
					}
					r.Close()
				}
			})
		}
	}
}

// BenchmarkCommit measures durable single-record commits on a database of
// its own.
func BenchmarkCommit(b *testing.B) {
	for _, s := range Stores {
		for _, n := range benchSizes() {
			b.Run(s.Name()+"/"+SizeLabel(n), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "db")
				if err := s.Build(path, rowsOf(n)); err != nil {
					b.Fatal(err)
				}
				w, err := s.OpenWriter(path)
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := w.Commit(CommitRow(rowsOf(n)[0].Key, i)); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
