// Command httpbench measures transdbd over HTTP: its throughput and
// latency beside a bare net/http handler, its answers while another
// process commits new versions, and its memory.
//
// Usage:
//
//	httpbench [-parts throughput,switch,memory] [-sizes 100000,1000000] [-conns 32] ...
//
// It builds transdbd from the parent module (go build -o into a
// temporary directory), builds the databases from the generated
// translation-shaped data of transdb/translation/transgen through package
// translation, with the example table of the parent module's
// testdata/example.txt beside them, and runs every server as a child
// process: transdbd serve with a configuration in the temporary
// directory, and the bare handler (this program run again as
// "httpbench bare ..."). The load generator is
// this process: -conns keep-alive connections (internal/httpload), in a
// closed loop (each request sent when the answer to the last one has been
// read) or at a fixed rate, every answer checked. With -cpuprofile DIR
// every transdbd, and the bare handler of the throughput part, writes a
// CPU profile into DIR when it stops.
//
// The parts:
//
//   - throughput: for every size, the same random existing (key, uri)
//     pairs as /v1/fetch, /v1/resolve, /v1/translate and /v1/auth
//     targets (the last two with the example table's request of
//     /static/img.png every 16th; auth with the original request in
//     X-Original-URI and X-Forwarded-Host); per endpoint a warm-up round for each server, then -rounds
//     rounds of -round each, alternating between transdbd and the bare
//     handler (ABBA order). Every transdbd answer is checked against the
//     one checked before the rounds, against the generated table (fetch,
//     resolve) or against the decision of the engine in this process on
//     the same file (translate, auth: status, decision headers and body);
//     every bare answer against its constant one (auth: 200, constant
//     decision headers, no body). Both are checked by fingerprint
//     (print.go), so that the load generator does about the same work for
//     either server. It prints requests per second, p50 and p99
//     for each and the ratio. /v1/fetch is then measured again at the
//     fixed rate -rate (latency below saturation) and, with -wrk, in a
//     closed loop driven by wrk.
//   - switch: the fetch load on the -switch-size table, with a fetch or a
//     resolve of a switch marker every 16th request, first without
//     commits, then while a committer process (this program run as
//     "httpbench commit ...") commits a one-record change every
//     -switch-every for -switch-for, then without commits again. The
//     marker's action names the generation of its commit, so that every
//     answer is checked to come from exactly one committed version; there
//     must be no failure at all.
//   - memory: the private memory of a transdbd serving the -memory-size
//     table after a warm-up and after -memory-lookups lookups, from
//     /proc/PID/smaps_rollup; then -procs transdbd processes serving the
//     same file, each after the same lookups, with their Rss and Pss and
//     those of the database mapping, from /proc/PID/smaps.
//
// It prints markdown tables on stdout and its progress on stderr, and
// exits 1 when an answer was wrong.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"transdb/bench"
	"transdb/translation"
)

// options are the settings of a run.
type options struct {
	parts     map[string]bool
	endpoints map[string]bool
	sizes     []int
	conns     int
	rounds    int
	round     time.Duration
	warmup    time.Duration
	probes    int
	rate      float64
	wrk       bool
	seed      int64
	dir       string
	maxLoad   float64
	loadWait  time.Duration
	profiles  string
	noCache   bool

	switchSize  int
	switchEvery time.Duration
	switchFor   time.Duration

	memorySize    int
	memoryLookups int64
	memoryWarmup  int64
	procs         int
	procLookups   int64
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "bare":
			if len(os.Args) != 7 && len(os.Args) != 8 {
				childErr("bare", fmt.Errorf("want FETCH-BODY RESOLVE-BODY TRANSLATE-BODY AUTH-HEADERS GENERATION [PROFILE], got %q", os.Args[2:]))
			}
			childErr("bare", runBare(os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6], os.Args[7:]...))
		case "commit":
			if len(os.Args) != 5 {
				childErr("commit", fmt.Errorf("want DB EVERY DURATION, got %q", os.Args[2:]))
			}
			if err := runCommitter(os.Args[2], os.Args[3], os.Args[4]); err != nil {
				childErr("commit", err)
			}
			return
		}
	}
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(2)
	}
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpbench:", err)
		os.Exit(1)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "httpbench: some answers were wrong (see above)")
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("httpbench", flag.ContinueOnError)
	parts := fs.String("parts", "throughput,switch,memory", "comma-separated parts to run: throughput, switch, memory")
	sizes := fs.String("sizes", "100000,1000000", "comma-separated record counts of the throughput part")
	endpoints := fs.String("endpoints", "fetch,resolve,translate,auth", "comma-separated endpoints of the throughput part: fetch, resolve, translate, auth")
	var o options
	fs.IntVar(&o.conns, "conns", 32, "keep-alive connections of the load")
	fs.IntVar(&o.rounds, "rounds", 4, "measured rounds per server and endpoint")
	fs.DurationVar(&o.round, "round", 5*time.Second, "duration of a round")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "duration of the warm-up round of each server and endpoint")
	fs.BoolVar(&o.wrk, "wrk", false, "repeat the closed-loop rounds of /v1/fetch with wrk, which must be installed")
	fs.Float64Var(&o.rate, "rate", 20000, "requests per second of the fixed-rate rounds of /v1/fetch, for the latency below saturation (0: none)")
	fs.IntVar(&o.probes, "probes", 1<<16, "random existing (key, uri) pairs requested")
	fs.Int64Var(&o.seed, "seed", 1, "generator seed")
	fs.StringVar(&o.dir, "dir", "", "directory for the temporary files (default: the system's)")
	fs.StringVar(&o.profiles, "cpuprofile", "", "directory where every transdbd (transdbd serve -cpuprofile) and the bare handler of the throughput part write a CPU profile, NAME.pprof")
	fs.BoolVar(&o.noCache, "no-decision-cache", false, "run transdbd without its decision cache (DecisionCacheSize 0), so that every /v1/translate and /v1/auth is translated")
	fs.Float64Var(&o.maxLoad, "max-load", 1, "before each part, wait until the 1-minute load average is below this (0: do not wait)")
	fs.DurationVar(&o.loadWait, "load-wait", 5*time.Minute, "longest wait for -max-load; then measure anyway, and say so")
	fs.IntVar(&o.switchSize, "switch-size", 100_000, "record count of the switch part")
	fs.DurationVar(&o.switchEvery, "switch-every", 50*time.Millisecond, "interval of the commits of the switch part")
	fs.DurationVar(&o.switchFor, "switch-for", 60*time.Second, "duration of the commits of the switch part (a multiple of -round is measured)")
	fs.IntVar(&o.memorySize, "memory-size", 1_000_000, "record count of the memory part")
	fs.Int64Var(&o.memoryLookups, "memory-lookups", 1_000_000, "HTTP lookups between the two memory readings")
	fs.Int64Var(&o.memoryWarmup, "memory-warmup", 10_000, "HTTP lookups before the first memory reading")
	fs.IntVar(&o.procs, "procs", 4, "transdbd processes serving one file, for the PSS figures")
	fs.Int64Var(&o.procLookups, "proc-lookups", 100_000, "HTTP lookups made through each of the -procs processes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.parts = map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		p = strings.TrimSpace(p)
		if p != "throughput" && p != "switch" && p != "memory" {
			return o, fmt.Errorf("unknown part %q", p)
		}
		o.parts[p] = true
	}
	o.endpoints = map[string]bool{}
	for _, p := range strings.Split(*endpoints, ",") {
		p = strings.TrimSpace(p)
		if p != "fetch" && p != "resolve" && p != "translate" && p != "auth" {
			return o, fmt.Errorf("unknown endpoint %q", p)
		}
		o.endpoints[p] = true
	}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			return o, fmt.Errorf("bad size %q (at least 100 records)", f)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.conns < 1 || o.rounds < 1 || o.round <= 0 || o.probes < 1 || o.switchSize < 100 || o.memorySize < 100 ||
		o.switchEvery <= 0 || o.switchFor < o.round || o.rate < 0 || o.memoryLookups < 1 || o.procs < 1 || o.procLookups < 1 {
		return o, fmt.Errorf("-conns, -rounds, -round, -probes, -procs and the lookups must be positive, the sizes at least 100, -switch-for at least -round")
	}
	if o.wrk {
		if _, err := exec.LookPath("wrk"); err != nil {
			return o, fmt.Errorf("-wrk: %w", err)
		}
	}
	return o, nil
}

// childCommand returns the command that runs this program in a child
// mode.
func childCommand(self string, mode string, args ...string) *exec.Cmd {
	return exec.Command(self, append([]string{mode}, args...)...)
}

// env is the state of a run: the temporary directory, the transdbd
// binary, the example table and the datasets built so far.
type env struct {
	o        options
	dir      string
	self     string
	transdbd string
	example  []translation.Record // in every dataset
	data     map[int]*dataset
	ok       bool // no wrong answer so far
}

// run runs the parts of o and prints their tables. It reports false when
// an answer was wrong.
func run(o options) (bool, error) {
	dir, err := os.MkdirTemp(o.dir, "httpbench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	e := &env{o: o, dir: dir, data: map[int]*dataset{}, ok: true}
	if e.self, err = os.Executable(); err != nil {
		return false, err
	}
	mod, err := bench.ModuleDir()
	if err != nil {
		return false, err
	}
	if e.example, err = readExampleTable(mod); err != nil {
		return false, err
	}
	progress("building transdbd")
	if e.transdbd, err = bench.BuildTransdbd(dir); err != nil {
		return false, err
	}
	printMachine(o)
	start := time.Now()
	if o.parts["throughput"] {
		for _, n := range o.sizes {
			if err := e.throughput(n); err != nil {
				return false, err
			}
		}
	}
	if o.parts["switch"] {
		if err := e.switching(); err != nil {
			return false, err
		}
	}
	if o.parts["memory"] {
		if err := e.memory(); err != nil {
			return false, err
		}
	}
	fmt.Printf("Finished in %s; load average at the end: %s.\n", time.Since(start).Round(time.Second), bench.LoadAverage())
	return e.ok, nil
}

// dataset returns the dataset of n records, building it on first use.
func (e *env) dataset(n int) (*dataset, error) {
	if d := e.data[n]; d != nil {
		return d, nil
	}
	progress("%s: generating and building the database", bench.SizeLabel(n))
	d, err := newDataset(e.dir, n, e.o.seed, e.o.probes, e.example)
	if err != nil {
		return nil, err
	}
	e.data[n] = d
	runtime.GC()
	return d, nil
}

// progress reports what the run does, on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s httpbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// waitQuiet waits, up to o.loadWait, until the 1-minute load average is
// below o.maxLoad, so that the machine's other work does not disturb the
// figures; it says what it found.
func (e *env) waitQuiet(part string) {
	if e.o.maxLoad <= 0 {
		return
	}
	deadline := time.Now().Add(e.o.loadWait)
	for {
		l, err := strconv.ParseFloat(bench.LoadAverage(), 64)
		if err != nil || l < e.o.maxLoad {
			progress("%s: load average %s", part, bench.LoadAverage())
			return
		}
		if time.Now().After(deadline) {
			progress("%s: load average still %s after %s: measuring anyway", part, bench.LoadAverage(), e.o.loadWait)
			fmt.Printf("(The load average was %s at the start of this part: the figures may be disturbed.)\n\n", bench.LoadAverage())
			return
		}
		progress("%s: load average %s, waiting for it to fall below %g", part, bench.LoadAverage(), e.o.maxLoad)
		time.Sleep(15 * time.Second)
	}
}

// printMachine prints what the figures were measured on.
func printMachine(o options) {
	model := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
				model = strings.TrimSpace(value)
				break
			}
		}
	}
	kernel := "?"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	fmt.Printf("Machine: %s, %d cores (GOMAXPROCS %d in every process), Linux %s, %s.\n",
		model, runtime.NumCPU(), runtime.GOMAXPROCS(0), kernel, runtime.Version())
	fmt.Printf("Load: %d keep-alive connections, closed loop, from this process; rounds of %s after a warm-up of %s; load average at the start: %s.\n\n",
		o.conns, o.round, o.warmup, bench.LoadAverage())
}
