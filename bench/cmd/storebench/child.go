package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"transdb/bench"
	"transdb/translation/transgen"
)

// childSpec names what a child process measures.
type childSpec struct {
	store   string // store name
	path    string // database file, built by the parent
	probes  string // probe file written by the parent
	lookups bool   // measure the lookups only
}

// result is what a child measures of one store at one size; the parent adds
// the build figures.
type result struct {
	Store     string
	Records   int
	Build     time.Duration
	FileBytes int64

	OpenWarm     time.Duration // median
	OpenCold     time.Duration // median
	ColdFirstHit time.Duration // median of the first hit after a cold open
	ColdResident int           // most pages of the file resident right after eviction

	HitNs, MissNs         float64 // median over the rounds
	HitRounds, MissRounds []float64
	HitAllocs, MissAllocs int64

	AnonKiB, DirtyKiB int64 // growth over the lookups
	Lookups           int

	Commit time.Duration // median
}

// probeSet is the lookups of a child: hits with the expected result of
// each, and misses.
type probeSet struct {
	hits   [][2]string
	want   []bench.Expected
	misses [][2]string
}

// writeProbes writes the hit and miss probes of rows, with the expected
// result of each hit, one per line: "H key uri n sum" or "M key uri",
// tab-separated (generated keys and uris hold no tabs).
func writeProbes(path string, rows []transgen.Row, o options) error {
	hits, misses := transgen.Probes(rows, o.probes, o.seed)
	expected := bench.ExpectedLookups(rows)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, h := range hits {
		e := expected[h]
		fmt.Fprintf(w, "H\t%s\t%s\t%d\t%d\n", h[0], h[1], e.N, e.Sum)
	}
	for _, m := range misses {
		fmt.Fprintf(w, "M\t%s\t%s\n", m[0], m[1])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readProbes(path string) (probeSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return probeSet{}, err
	}
	defer f.Close()
	var ps probeSet
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		switch {
		case len(f) == 5 && f[0] == "H":
			n, err1 := strconv.Atoi(f[3])
			sum, err2 := strconv.ParseUint(f[4], 10, 64)
			if err1 != nil || err2 != nil {
				return probeSet{}, fmt.Errorf("%s:%d: bad numbers", path, line)
			}
			ps.hits = append(ps.hits, [2]string{f[1], f[2]})
			ps.want = append(ps.want, bench.Expected{N: n, Sum: sum})
		case len(f) == 3 && f[0] == "M":
			ps.misses = append(ps.misses, [2]string{f[1], f[2]})
		default:
			return probeSet{}, fmt.Errorf("%s:%d: bad probe line", path, line)
		}
	}
	if err := sc.Err(); err != nil {
		return probeSet{}, err
	}
	if len(ps.hits) == 0 || len(ps.misses) == 0 || !isPowerOfTwo(len(ps.hits)) || !isPowerOfTwo(len(ps.misses)) {
		return probeSet{}, fmt.Errorf("%s: want a power of two of hits and of misses, have %d and %d", path, len(ps.hits), len(ps.misses))
	}
	return ps, nil
}

func isPowerOfTwo(n int) bool { return n > 0 && n&(n-1) == 0 }

// runChild measures one store and writes the result as JSON to stdout.
func runChild(c childSpec, o options) error {
	testing.Init()
	if err := flag.Set("test.benchtime", o.benchtime.String()); err != nil {
		return err
	}
	s, err := bench.StoreByName(c.store)
	if err != nil {
		return err
	}
	ps, err := readProbes(c.probes)
	if err != nil {
		return err
	}
	res := result{Store: s.Name(), Lookups: o.lookups}

	r, err := s.Open(c.path)
	if err != nil {
		return err
	}
	if !c.lookups {
		if err := measureMemory(r, ps, o.lookups, &res); err != nil {
			r.Close()
			return err
		}
	}
	if err := verify(r, ps); err != nil {
		r.Close()
		return err
	}
	if c.lookups {
		res.HitNs, res.HitAllocs = benchLookups(r, ps.hits, o.count)
		res.MissNs, res.MissAllocs = benchLookups(r, ps.misses, o.count)
	}
	if err := r.Close(); err != nil {
		return err
	}
	if c.lookups {
		return json.NewEncoder(os.Stdout).Encode(res)
	}

	if err := measureOpen(s, c.path, ps, o.reps, &res); err != nil {
		return err
	}
	if err := measureCommit(s, c.path, ps.hits[0][0], o.reps, &res); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// sink keeps lookup results alive, so that no lookup is optimized away.
var sink uint64

// measureMemory reads the private memory of this process after the open
// and again after the lookups.
func measureMemory(r bench.Reader, ps probeSet, lookups int, res *result) error {
	// Collect garbage and return free memory to the system first, so that
	// the runtime's background scavenger does not shrink the figures while
	// the lookups run.
	debug.FreeOSMemory()
	before, err := bench.ReadMemory()
	if err != nil {
		return err
	}
	mask := len(ps.hits) - 1
	for i := range lookups {
		p := ps.hits[i&mask]
		_, sum := r.Lookup(p[0], p[1])
		sink += sum
	}
	after, err := bench.ReadMemory()
	if err != nil {
		return err
	}
	res.AnonKiB = after.Anonymous - before.Anonymous
	res.DirtyKiB = after.PrivateDirty - before.PrivateDirty
	return nil
}

// verify checks every probe against the generated data.
func verify(r bench.Reader, ps probeSet) error {
	for i, p := range ps.hits {
		if n, sum := r.Lookup(p[0], p[1]); n != ps.want[i].N || sum != ps.want[i].Sum {
			return fmt.Errorf("lookup %v = (%d, %d), want (%d, %d)", p, n, sum, ps.want[i].N, ps.want[i].Sum)
		}
	}
	for _, p := range ps.misses {
		if n, _ := r.Lookup(p[0], p[1]); n != 0 {
			return fmt.Errorf("lookup of absent %v found %d records", p, n)
		}
	}
	return nil
}

// benchLookups runs a lookup benchmark over probes count times and
// returns the median ns/op and the highest allocs/op.
func benchLookups(r bench.Reader, probes [][2]string, count int) (float64, int64) {
	mask := len(probes) - 1
	var nsPerOp []float64
	var allocs int64
	for range count {
		br := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := probes[i&mask]
				_, sum := r.Lookup(p[0], p[1])
				sink += sum
				i++
			}
		})
		nsPerOp = append(nsPerOp, float64(br.T.Nanoseconds())/float64(br.N))
		allocs = max(allocs, br.AllocsPerOp())
	}
	return median(nsPerOp), allocs
}

// measureOpen times opens with a warm and with a cold page cache. The
// warm opens run back to back after one garbage collection: a collection
// right before each open would leave the CPU caches full of the heap it
// walked, and the open would pay for refilling them (with a heap of a
// few hundred MB, several times the open itself).
func measureOpen(s bench.Store, path string, ps probeSet, reps int, res *result) error {
	open := func() (bench.Reader, time.Duration, error) {
		t0 := time.Now()
		r, err := s.Open(path)
		return r, time.Since(t0), err
	}
	var warm, cold, first []time.Duration
	runtime.GC()
	for range reps {
		r, d, err := open()
		if err != nil {
			return err
		}
		warm = append(warm, d)
		if err := r.Close(); err != nil {
			return err
		}
	}
	for i := range reps {
		// Evict twice: read-ahead that a previous open or lookup started
		// may still be in flight during the first eviction.
		if err := bench.EvictPageCache(path); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
		if err := bench.EvictPageCache(path); err != nil {
			return err
		}
		resident, _, err := bench.ResidentPages(path)
		if err != nil {
			return err
		}
		res.ColdResident = max(res.ColdResident, resident)
		r, d, err := open()
		if err != nil {
			return err
		}
		cold = append(cold, d)
		p := ps.hits[i&(len(ps.hits)-1)]
		t0 := time.Now()
		_, sum := r.Lookup(p[0], p[1])
		first = append(first, time.Since(t0))
		sink += sum
		if err := r.Close(); err != nil {
			return err
		}
	}
	res.OpenWarm, res.OpenCold, res.ColdFirstHit = median(warm), median(cold), median(first)
	return nil
}

// measureCommit times durable single-record commits under key.
func measureCommit(s bench.Store, path, key string, reps int, res *result) error {
	w, err := s.OpenWriter(path)
	if err != nil {
		return err
	}
	var times []time.Duration
	for i := range reps {
		runtime.GC()
		t0 := time.Now()
		if err := w.Commit(bench.CommitRow(key, i)); err != nil {
			w.Close()
			return err
		}
		times = append(times, time.Since(t0))
	}
	res.Commit = median(times)
	return w.Close()
}

// median returns the middle value of xs (the upper one of an even count).
func median[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
