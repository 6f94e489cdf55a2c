// Command replbench measures the replication of transdbd through NATS
// JetStream: the time from a commit on a writer until all its replicas
// serve it, and the bytes a commit moves, at several table sizes.
//
// Usage:
//
//	replbench [-sizes 10000,100000,1000000] [-commits 10] [-replicas 3] [-dir DIR] [-seed 1]
//
// It builds transdbd from the parent module and starts one nats-server
// with JetStream on loopback (the binary on PATH, as the Debian package
// nats-server installs it, or $NATS_SERVER). Then, for every size, it
// builds the writer's database file from the generated table of
// transdb/translation/transgen and the switch marker of
// internal/httpload, starts the writer (transdbd serve with Publish) and
// the replicas (Follow, without a file of their own), and waits until
// every replica serves the first version: the initial transfer. Then it
// makes -commits one-record commits through the writer's POST /v1/txn,
// each after every replica served the one before. A commit's latency
// runs from sending the txn until every replica answers a fetch of the
// marker with the new generation, on keep-alive connections polled
// every half millisecond; the answer must come from one whole version.
// The bytes are those the writer published and the replicas downloaded,
// from the replication of their /v1/stats.
//
// Every process runs on this machine: on a small one, the writer's
// publishing, the NATS server, the replicas' downloads and their
// verification share the cores. It prints a markdown table on stdout
// and its progress on stderr.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"transdb/bench"
	"transdb/internal/httpload"
	"transdb/internal/natstest"
	"transdb/translation"
	"transdb/translation/transgen"
)

// options are the settings of a run.
type options struct {
	sizes    []int
	commits  int
	replicas int
	dir      string
	seed     int64
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "replbench:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "replbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("replbench", flag.ContinueOnError)
	sizes := fs.String("sizes", "10000,100000,1000000", "comma-separated record counts")
	var o options
	fs.IntVar(&o.commits, "commits", 10, "measured commits per size")
	fs.IntVar(&o.replicas, "replicas", 3, "replica transdbds")
	fs.StringVar(&o.dir, "dir", "", "directory for the temporary files (default: the system's)")
	fs.Int64Var(&o.seed, "seed", 1, "generator seed")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-sizes: %q is not a record count", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.commits < 1 || o.replicas < 1 {
		return o, fmt.Errorf("-commits %d, -replicas %d: want at least 1 each", o.commits, o.replicas)
	}
	return o, nil
}

// A result is what one size measured.
type result struct {
	label     string
	fileBytes int64
	initial   time.Duration   // first version on every replica, from the writer's start
	txn       []time.Duration // the txn requests, sorted
	served    []time.Duration // from sending a txn until every replica served it, sorted
	published uint64          // bytes the writer published for the commits
	fetched   uint64          // bytes the replicas downloaded for them
}

func run(o options) error {
	nats, err := natstest.Binary()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(o.dir, "replbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progress("building transdbd")
	bin, err := bench.BuildTransdbd(dir)
	if err != nil {
		return err
	}
	srv, err := natstest.Start(nats, natstest.Options{Dir: filepath.Join(dir, "nats")})
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("Replication through one nats-server (JetStream, file storage) on loopback, %d replicas, %d commits per size; load average %s at the start.\n\n",
		o.replicas, o.commits, bench.LoadAverage())

	var results []result
	for i, n := range o.sizes {
		r, err := measure(o, bin, filepath.Join(dir, strconv.Itoa(n)), srv.URL(), fmt.Sprintf("transdb%d", i), n)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	fmt.Println("| records | file | initial transfer | txn p50 | commit → all replicas serve: p50 | p90 | max | published per commit | downloaded per commit (all replicas) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		c := uint64(len(r.served))
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.label, mib(uint64(r.fileBytes)),
			ms(r.initial), ms(pct(r.txn, 0.5)), ms(pct(r.served, 0.5)), ms(pct(r.served, 0.9)), ms(r.served[len(r.served)-1]),
			mib(r.published/c), mib(r.fetched/c))
	}
	fmt.Printf("\nLoad average %s at the end.\n", bench.LoadAverage())
	return nil
}

// measure runs the writer and the replicas on a table of n records in
// dir, with the bucket of that name, and measures the commits.
func measure(o options, bin, dir, url, bucket string, n int) (result, error) {
	r := result{label: bench.SizeLabel(n)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	progress("%s: building the table", r.label)
	db := filepath.Join(dir, "writer", "trans.mmdb")
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		return r, err
	}
	if err := build(db, n, o.seed); err != nil {
		return r, err
	}
	fi, err := os.Stat(db)
	if err != nil {
		return r, err
	}
	r.fileBytes = fi.Size()

	var replicas []*bench.Server
	defer func() {
		for _, s := range replicas {
			s.Stop()
		}
	}()
	for i := range o.replicas {
		rdb := filepath.Join(dir, fmt.Sprintf("replica%d", i+1), "trans.mmdb")
		s, err := startDaemon(bin, rdb, fmt.Sprintf("replica %d", i+1), "1", "Follow "+url+" "+bucket)
		if err != nil {
			return r, err
		}
		replicas = append(replicas, s)
	}
	pollers := make([]*poller, len(replicas))
	for i, s := range replicas {
		if pollers[i], err = newPoller(s); err != nil {
			return r, err
		}
		defer pollers[i].close()
	}

	progress("%s: starting the writer, waiting for the first version on the replicas", r.label)
	start := time.Now()
	writer, err := startDaemon(bin, db, "writer", "0", "Publish "+url+" "+bucket)
	if err != nil {
		return r, err
	}
	defer writer.Stop()
	sw, err := httpload.NewRemoteSwitcher("http://"+writer.Addr, "bench")
	if err != nil {
		return r, err
	}
	if err := serveAll(pollers, sw.Generation()); err != nil {
		return r, err
	}
	r.initial = time.Since(start)

	pub0, err := replicatedBytes(writer)
	if err != nil {
		return r, err
	}
	var fetched0 uint64
	for _, s := range replicas {
		b, err := replicatedBytes(s)
		if err != nil {
			return r, err
		}
		fetched0 += b
	}
	progress("%s: %d commits", r.label, o.commits)
	for range o.commits {
		t0 := time.Now()
		g, err := sw.Commit()
		if err != nil {
			return r, err
		}
		r.txn = append(r.txn, time.Since(t0))
		if err := serveAll(pollers, g); err != nil {
			return r, err
		}
		r.served = append(r.served, time.Since(t0))
	}
	// The status follows the rename by a moment: let it settle.
	time.Sleep(100 * time.Millisecond)
	pub1, err := replicatedBytes(writer)
	if err != nil {
		return r, err
	}
	r.published = pub1 - pub0
	for _, s := range replicas {
		b, err := replicatedBytes(s)
		if err != nil {
			return r, err
		}
		r.fetched += b
	}
	r.fetched -= fetched0
	slices.Sort(r.txn)
	slices.Sort(r.served)
	progress("%s: commit to all replicas: p50 %s, max %s", r.label, ms(pct(r.served, 0.5)), ms(r.served[len(r.served)-1]))
	return r, nil
}

// build writes the generated table of n rows and the switch marker to a
// new database file db.
func build(db string, n int, seed int64) error {
	p, err := translation.New(translation.Options{FileName: db})
	if err != nil {
		return err
	}
	defer p.Stop()
	if err := httpload.InsertRows(p, transgen.Generate(n, seed)); err != nil {
		return err
	}
	sw, err := httpload.NewSwitcher(p)
	if err != nil {
		return err
	}
	_, err = sw.Commit()
	return err
}

// startDaemon starts transdbd serving db, read-only or not ("1", "0"),
// with the replication parameter param.
func startDaemon(bin, db, name, readOnly, param string) (*bench.Server, error) {
	if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(filepath.Dir(db), "transdbd.conf")
	text := "Listen 127.0.0.1:0\nAdminToken bench\n" +
		"<TranslationProvider MMapDB>\n" +
		"    FileName " + db + "\n" +
		"    ReadOnly " + readOnly + "\n" +
		"    " + param + "\n" +
		"</TranslationProvider>\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, err
	}
	return bench.StartServer(name, exec.Command(bin, "serve", "-config", cfg))
}

// A poller asks a replica for the switch marker.
type poller struct {
	s *bench.Server
	c *httpload.Conn
}

func newPoller(s *bench.Server) (*poller, error) {
	c, err := httpload.Dial(s.Addr)
	if err != nil {
		return nil, err
	}
	return &poller{s: s, c: c}, nil
}

func (p *poller) close() { p.c.Close() }

// generation returns the generation whose marker the replica serves; 0
// when it serves none yet. An answer not made from one whole version
// is an error.
func (p *poller) generation() (uint64, error) {
	resp, err := p.c.Get(httpload.FetchTarget(httpload.SwitchKey, httpload.SwitchURI))
	if err != nil {
		return 0, err
	}
	if resp.Status == http.StatusServiceUnavailable {
		return 0, nil
	}
	if err := httpload.CheckSwitchFetch(resp); err != nil {
		return 0, fmt.Errorf("%s: %w", p.s.Name, err)
	}
	return strconv.ParseUint(string(resp.Generation), 10, 64)
}

// serveAll waits until every replica serves generation g, each polled
// on its own every half millisecond, for two minutes at most.
func serveAll(pollers []*poller, g uint64) error {
	errs := make([]error, len(pollers))
	var wg sync.WaitGroup
	for i, p := range pollers {
		wg.Go(func() {
			deadline := time.Now().Add(2 * time.Minute)
			for {
				got, err := p.generation()
				switch {
				case err != nil:
					errs[i] = err
					return
				case got == g:
					return
				case got > g:
					errs[i] = fmt.Errorf("%s serves generation %d, ahead of %d", p.s.Name, got, g)
					return
				case time.Now().After(deadline):
					errs[i] = fmt.Errorf("%s still serves generation %d, two minutes after the commit of %d:\n%s",
						p.s.Name, got, g, p.s.Stderr())
					return
				}
				time.Sleep(500 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// replicatedBytes returns the bytes a daemon's replication moved, from
// its /v1/stats.
func replicatedBytes(s *bench.Server) (uint64, error) {
	resp, err := http.Get("http://" + s.Addr + "/v1/stats")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Replication struct{ Bytes uint64 }
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("%s: /v1/stats: %w", s.Name, err)
	}
	return st.Replication.Bytes, nil
}

// pct returns the p-th percentile (nearest rank) of sorted durations.
func pct(d []time.Duration, p float64) time.Duration {
	i := int(p*float64(len(d))+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// mib formats a byte count in MiB (KiB below one).
func mib(b uint64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// progress reports what the run does, on stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s replbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
