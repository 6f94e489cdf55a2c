// Command storebench compares transdb's mmapdb with a Go map loaded from a
// file and with bbolt, on the same generated translation data, and prints
// a markdown table.
//
// Usage:
//
//	storebench [-sizes 10000,100000,1000000] [-stores transdb,map,bbolt] [-dir DIR]
//
// For every size it generates the rows (transgen, fixed seed), builds each
// store's file (timed), and then measures each store in child processes of
// its own (this program run again with -child), so that no store's heap,
// garbage or page-cache mappings disturb another's figures. First come
// -rounds rounds of lookups: in each, one child per store, the stores in
// turn and in reverse order every other round, so that a drift of the
// machine touches them alike; every probe is checked, then hit and miss
// lookups are timed with testing.Benchmark (the median ns/op of -count
// runs and the most allocs/op of any run). The figure reported is the
// median over the rounds. Then one child per store measures, in this
// order:
//
//   - memory: open, collect garbage, read /proc/self/smaps_rollup, make
//     -lookups hit lookups, read it again; the growth of Anonymous and
//     Private_Dirty is the private memory the lookups cost;
//   - correctness: every probe must return the generated block list
//     (record count and a checksum over block, order and action);
//   - open, warm: the median of -reps opens with the file in the page cache;
//   - open, cold: the median of -reps opens after fsync and
//     fadvise(DONTNEED) dropped the file from the page cache (checked with
//     mincore), and the time of the first hit lookup after it;
//   - commit: the median of -reps single-record commits, each durable.
//
// Files go to a temporary directory (inside -dir when given) that is
// removed at exit.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"transdb/bench"
	"transdb/translation/transgen"
)

// options are the settings shared by the parent and its children.
type options struct {
	seed      int64
	reps      int
	lookups   int
	probes    int
	benchtime time.Duration
	count     int
	rounds    int
}

func main() {
	fs := flag.NewFlagSet("storebench", flag.ExitOnError)
	sizes := fs.String("sizes", "10000,100000,1000000", "comma-separated record counts")
	stores := fs.String("stores", storeNames(), "comma-separated stores to compare")
	dir := fs.String("dir", "", "directory for the temporary files (default: the system's temp directory)")
	var o options
	fs.Int64Var(&o.seed, "seed", 1, "generator seed")
	fs.IntVar(&o.reps, "reps", 9, "repetitions of each open and commit measurement (the median is reported)")
	fs.IntVar(&o.lookups, "lookups", 1_000_000, "lookups made before the second memory reading")
	fs.IntVar(&o.probes, "probes", 1<<16, "distinct hit and miss probes, each (a power of two)")
	fs.DurationVar(&o.benchtime, "benchtime", 500*time.Millisecond, "run time of each lookup benchmark")
	fs.IntVar(&o.count, "count", 3, "runs of each lookup benchmark (the median is reported)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of lookup measurements, the stores alternating (the median is reported)")
	var c childSpec
	fs.StringVar(&c.store, "child", "", "internal: measure this store in a child process")
	fs.StringVar(&c.path, "child-db", "", "internal: database of the child")
	fs.StringVar(&c.probes, "child-probes", "", "internal: probe file of the child")
	fs.BoolVar(&c.lookups, "child-lookups", false, "internal: the child measures lookups only")
	fs.Parse(os.Args[1:])

	if o.reps < 1 || o.count < 1 || o.rounds < 1 || o.lookups < 1 || o.probes < 1 || o.probes&(o.probes-1) != 0 {
		fmt.Fprintln(os.Stderr, "storebench: -reps, -count, -rounds and -lookups must be positive, -probes a power of two")
		os.Exit(2)
	}
	if c.store != "" {
		if err := runChild(c, o); err != nil {
			fmt.Fprintln(os.Stderr, "storebench child:", err)
			os.Exit(1)
		}
		return
	}

	counts, err := parseSizes(*sizes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(2)
	}
	var selected []bench.Store
	for _, name := range strings.Split(*stores, ",") {
		s, err := bench.StoreByName(strings.TrimSpace(name))
		if err != nil {
			fmt.Fprintln(os.Stderr, "storebench:", err)
			os.Exit(2)
		}
		selected = append(selected, s)
	}
	if err := run(*dir, counts, selected, o); err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

func storeNames() string {
	var names []string
	for _, s := range bench.Stores {
		names = append(names, s.Name())
	}
	return strings.Join(names, ",")
}

func parseSizes(s string) ([]int, error) {
	var counts []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// run builds and measures every store at every size and prints the report.
func run(parent string, counts []int, stores []bench.Store, o options) error {
	dir, err := os.MkdirTemp(parent, "storebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}

	var results []result
	start := time.Now()
	loadStart := bench.LoadAverage()
	for _, n := range counts {
		fmt.Fprintf(os.Stderr, "%s: generating rows\n", bench.SizeLabel(n))
		rows := transgen.Generate(n, o.seed)
		probePath := filepath.Join(dir, "probes-"+bench.SizeLabel(n))
		if err := writeProbes(probePath, rows, o); err != nil {
			return err
		}
		res, err := measureSize(self, dir, stores, rows, probePath, o)
		if err != nil {
			return err
		}
		results = append(results, res...)
		rows = nil
		runtime.GC()
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", time.Since(start).Round(time.Second))
	printReport(os.Stdout, results, o, loadStart, bench.LoadAverage())
	return nil
}

// measureSize builds every store from rows in the parent, then measures
// them in child processes: the rounds of lookups, then the rest.
func measureSize(self, dir string, stores []bench.Store, rows []transgen.Row, probePath string, o options) ([]result, error) {
	label := bench.SizeLabel(len(rows))
	results := make([]result, len(stores))
	paths := make([]string, len(stores))
	defer func() {
		for _, p := range paths {
			if p != "" {
				bench.RemoveDatabase(p)
			}
		}
	}()
	for i, s := range stores {
		paths[i] = filepath.Join(dir, s.Name()+"-"+label+".db")
		if err := bench.RemoveDatabase(paths[i]); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "%s: %s: build\n", label, s.Name())
		runtime.GC()
		t0 := time.Now()
		if err := s.Build(paths[i], rows); err != nil {
			return nil, fmt.Errorf("%s at %s: %w", s.Name(), label, err)
		}
		results[i].Build = time.Since(t0)
		size, err := bench.FileSize(paths[i])
		if err != nil {
			return nil, err
		}
		results[i].FileBytes = size
	}
	for round := range o.rounds {
		fmt.Fprintf(os.Stderr, "%s: lookups, round %d of %d\n", label, round+1, o.rounds)
		for j := range stores {
			i := j
			if round%2 == 1 {
				i = len(stores) - 1 - j
			}
			res, err := runChildProcess(self, stores[i], paths[i], probePath, o, true)
			if err != nil {
				return nil, fmt.Errorf("%s at %s: %w", stores[i].Name(), label, err)
			}
			r := &results[i]
			r.HitRounds = append(r.HitRounds, res.HitNs)
			r.MissRounds = append(r.MissRounds, res.MissNs)
			r.HitAllocs = max(r.HitAllocs, res.HitAllocs)
			r.MissAllocs = max(r.MissAllocs, res.MissAllocs)
		}
	}
	for i, s := range stores {
		fmt.Fprintf(os.Stderr, "%s: %s: measure\n", label, s.Name())
		res, err := runChildProcess(self, s, paths[i], probePath, o, false)
		if err != nil {
			return nil, fmt.Errorf("%s at %s: %w", s.Name(), label, err)
		}
		res.Records = len(rows)
		res.Build, res.FileBytes = results[i].Build, results[i].FileBytes
		res.HitRounds, res.MissRounds = results[i].HitRounds, results[i].MissRounds
		res.HitAllocs, res.MissAllocs = results[i].HitAllocs, results[i].MissAllocs
		res.HitNs, res.MissNs = median(res.HitRounds), median(res.MissRounds)
		results[i] = res
	}
	return results, nil
}

// runChildProcess measures store s on the database at path in a child
// process: its lookups only, or everything else.
func runChildProcess(self string, s bench.Store, path, probePath string, o options, lookups bool) (result, error) {
	cmd := exec.Command(self,
		"-child", s.Name(), "-child-db", path, "-child-probes", probePath,
		"-child-lookups="+strconv.FormatBool(lookups),
		"-seed", strconv.FormatInt(o.seed, 10),
		"-reps", strconv.Itoa(o.reps),
		"-lookups", strconv.Itoa(o.lookups),
		"-probes", strconv.Itoa(o.probes),
		"-benchtime", o.benchtime.String(),
		"-count", strconv.Itoa(o.count),
		"-rounds", strconv.Itoa(o.rounds),
	)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("child: %w", err)
	}
	var res result
	if err := json.Unmarshal(out, &res); err != nil {
		return result{}, fmt.Errorf("child output: %w", err)
	}
	if res.Store != s.Name() {
		return result{}, errors.New("child measured another store")
	}
	return res, nil
}
