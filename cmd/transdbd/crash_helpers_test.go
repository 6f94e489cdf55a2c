package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"transdb/mmapdb"
	"transdb/translation"
)

// The machinery of the crash tests (crash_test.go).

// crashBaseKey is the base key of the crash tests' table, the default of
// the CLI and of config: none, the top of the file.
var crashBaseKey []string

// A crashPlan is what one crash test does: how many kills, with which
// random numbers, on tables of which size.
type crashPlan struct {
	kills int
	size  int // records of a loaded table
	seed  uint64
	rng   *rand.Rand
}

// newCrashPlan returns the plan of the crash test that makes share percent
// of the kills; stream tells the tests' random numbers apart.
func newCrashPlan(t *testing.T, share int, stream uint64) *crashPlan {
	t.Helper()
	total := 200
	size := 10000
	if raceEnabled {
		size = 3000 // the race detector's children are several times slower
	}
	if testing.Short() {
		total = 40
	}
	if s := os.Getenv("TRANSDB_CRASH_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TRANSDB_CRASH_KILLS=%q: want a positive number", s)
		}
		total = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TRANSDB_CRASH_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("TRANSDB_CRASH_SEED=%q: %v", s, err)
		}
	}
	p := &crashPlan{
		kills: max(1, total*share/100),
		size:  size,
		seed:  seed,
		rng:   rand.New(rand.NewPCG(seed, stream)),
	}
	t.Logf("%d kills, tables of %d records and more, TRANSDB_CRASH_SEED=%d", p.kills, p.size, seed)
	return p
}

// probeKey and probeURI hold the probe record of the crash tests: every
// version of the table has probe records saying which generation they
// were written for, so that a lookup of them tells whether a reader sees
// a whole version.
const (
	probeKey = "probe"
	probeURI = "/p"
)

// probeRecord is the probe record written for generation g.
func probeRecord(g uint64) translation.Record {
	return translation.Record{Key: probeKey, URI: probeURI, Order: uint32(g), Action: fmt.Sprintf("generation %d", g)}
}

// probeBlock is a block of the probe's block list, as a lookup answers it.
type probeBlock struct {
	Block  uint32 `json:"block"`
	Order  uint32 `json:"order"`
	Action string `json:"action"`
	ID     uint64 `json:"id"`
}

// probeBlocks returns the block list of records as the probe's answer.
func probeBlocks(records []translation.Record) []probeBlock {
	blocks := []probeBlock{}
	for _, r := range records {
		if r.Key == probeKey && r.URI == probeURI {
			blocks = append(blocks, probeBlock{r.Block, r.Order, r.Action, r.ID})
		}
	}
	return blocks
}

// A prober looks up the probe through a read-only transdbd serve, again
// and again until stopped, and checks each answer against the block list
// the test expects for the generation the answer names.
type prober struct {
	base string
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	expected func(gen uint64) ([]probeBlock, bool)
	pending  map[uint64][]probeBlock // answers of generations not yet known
	errs     []string
	answers  int
	lastGen  uint64
}

// startProber starts probing the daemon d. expected returns the block
// list of a generation, or false while the test does not know it yet;
// answers of such a generation are checked by recheck.
func startProber(d *daemon, expected func(gen uint64) ([]probeBlock, bool)) *prober {
	p := &prober{
		base:     d.base,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		expected: expected,
		pending:  map[uint64][]probeBlock{},
	}
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			p.probe(client)
		}
	}()
	return p
}

// probe makes one lookup and checks its answer.
func (p *prober) probe(client *http.Client) {
	resp, err := client.Get(p.base + "/v1/fetch?key=" + probeKey + "&uri=" + probeURI)
	if err != nil {
		p.fail("lookup: %v", err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		p.fail("lookup: reading the answer: %v", err)
		return
	}
	if resp.StatusCode != http.StatusOK {
		p.fail("lookup: %d %s", resp.StatusCode, body)
		return
	}
	var answer struct {
		Generation uint64       `json:"generation"`
		Blocks     []probeBlock `json:"blocks"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		p.fail("lookup: %v: %s", err, body)
		return
	}
	if h := resp.Header.Get("X-Transdb-Generation"); h != strconv.FormatUint(answer.Generation, 10) {
		p.fail("lookup: X-Transdb-Generation %q, body of generation %d", h, answer.Generation)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers++
	if answer.Generation < p.lastGen {
		p.failLocked("lookup: generation %d after generation %d", answer.Generation, p.lastGen)
	}
	p.lastGen = answer.Generation
	if want, ok := p.expected(answer.Generation); ok {
		p.checkLocked(answer.Generation, answer.Blocks, want)
	} else {
		p.pending[answer.Generation] = answer.Blocks
	}
}

func (p *prober) checkLocked(gen uint64, got, want []probeBlock) {
	if !slices.Equal(got, want) {
		p.failLocked("lookup of generation %d: blocks %+v, want %+v", gen, got, want)
	}
}

func (p *prober) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failLocked(format, args...)
}

func (p *prober) failLocked(format string, args ...any) {
	if len(p.errs) < 10 {
		p.errs = append(p.errs, fmt.Sprintf(format, args...))
	}
}

// recheck checks the answers of generations whose block lists have
// become known since.
func (p *prober) recheck() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for gen, got := range p.pending {
		if want, ok := p.expected(gen); ok {
			p.checkLocked(gen, got, want)
			delete(p.pending, gen)
		}
	}
}

// finish stops the prober and fails the test on any wrong answer, and on
// answers of generations that never became known (versions that should
// not exist).
func (p *prober) finish(t *testing.T) {
	t.Helper()
	close(p.stop)
	<-p.done
	p.recheck()
	p.mu.Lock()
	defer p.mu.Unlock()
	for gen := range p.pending {
		p.failLocked("lookup answered generation %d, which no writer left behind", gen)
	}
	for _, e := range p.errs {
		t.Error("read-only daemon: " + e)
	}
	if p.answers == 0 {
		t.Error("the read-only daemon answered no lookup")
	}
	t.Logf("the read-only daemon answered %d lookups, all of whole versions", p.answers)
}

// verifiedDump verifies the database file db completely, as transdbd
// verify does, and returns its generation and its table as a text dump.
func verifiedDump(t *testing.T, db string) (uint64, []byte) {
	t.Helper()
	if err := mmapdb.VerifyFile(db, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
	p, err := translation.New(translation.Options{FileName: db, ReadOnly: true, BaseKey: crashBaseKey, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	var buf bytes.Buffer
	if err := s.Dump(&buf, translation.FormatText); err != nil {
		t.Fatalf("dump: %v", err)
	}
	return s.Generation(), buf.Bytes()
}

// cliVerifies checks with transdbd verify that the database file db
// verifies at generation gen.
func cliVerifies(t *testing.T, db string, gen uint64) {
	t.Helper()
	out := ok(t, "", "verify", "-db", db)
	if want := fmt.Sprintf("%s: ok, format=%d generation=%d ", db, mmapdb.FormatVersion, gen); !strings.HasPrefix(out, want) {
		t.Errorf("transdbd verify: %q, want %q...", out, want)
	}
}

// sameDump fails the test unless the dump got equals want, the dump of
// generation gen, naming the first line that differs.
func sameDump(t *testing.T, gen uint64, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.SplitAfter(string(got), "\n"), strings.SplitAfter(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("the database differs from generation %d at dump line %d: %q, want %q", gen, i+1, gl, wl)
		}
	}
}

// checkTempFiles fails the test when more than one temporary file of a
// writer is left in the database's directory: the next writer that holds
// the lock removes those of dead writers.
func checkTempFiles(t *testing.T, db string) {
	t.Helper()
	temps, err := filepath.Glob(db + ".tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) > 1 {
		t.Fatalf("%d temporary files of dead writers are left: %q", len(temps), temps)
	}
}

// killedRun is how a child that was to be killed ended.
type killedRun struct {
	completed bool // it exited 0 before the kill
	took      time.Duration
	stdout    string
}

// runAndKill runs transdbd with args and kills it with SIGKILL after
// delay, unless it has exited by then; any exit status but 0 fails the
// test.
func runAndKill(t *testing.T, delay time.Duration, args ...string) killedRun {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(delay):
		cmd.Process.Kill()
		err = <-exited
	}
	run := killedRun{took: time.Since(start), stdout: stdout.String()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return run
	}
	if err != nil {
		t.Fatalf("transdbd %q: %v\n%s", args, err, stderr.String())
	}
	run.completed = true
	return run
}

// tableText returns records in format f, with generation gen in the
// first line of the text and file formats.
func tableText(t *testing.T, f translation.Format, gen uint64, records []translation.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := translation.NewWriter(&buf, f, gen, len(records))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTable writes records in format f to the file at path.
func writeTable(t *testing.T, path string, f translation.Format, records []translation.Record) {
	t.Helper()
	if err := os.WriteFile(path, tableText(t, f, 0, records), 0o644); err != nil {
		t.Fatal(err)
	}
}
