package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"transdb/translation"
)

// The crash tests kill writers with SIGKILL at random moments: transdbd
// load (TestSIGKILLedLoadLeavesTheOldOrTheNewVersion) and a transdbd
// serve committing transactions (TestSIGKILLedServeLeavesTheOldOrTheNewVersion).
// After each kill the database file verifies, and its dump equals byte for
// byte the expected dump of the version before or of the version after the
// interrupted commit. Meanwhile a read-only transdbd serve on the same file
// answers a probe lookup without pause; each answer must be a 200 whose
// block list is the one of the generation it names.
//
// TRANSDB_CRASH_KILLS sets the number of kills of both tests together
// (default 200, with smaller tables under the race detector, whose
// children are several times slower; 40 with -short); TRANSDB_CRASH_SEED
// replays the random delays of an earlier run, whose seed the tests log.
// A long run:
//
//	TRANSDB_CRASH_KILLS=1000 go test -run SIGKILLed -v -timeout 1h ./cmd/transdbd

// loadOp is the load that makes generation g of the load crash test: a
// table of its own, in a format, added to the table or replacing it,
// with or without the -generation check.
type loadOp struct {
	format     translation.Format
	clear      bool
	expectPrev bool // -generation g-1
}

func loadOpOf(g uint64) loadOp {
	formats := []translation.Format{translation.FormatText, translation.FormatJSONL, translation.FormatFile}
	return loadOp{format: formats[g%3], clear: g%2 == 0, expectPrev: g%3 != 1}
}

// args returns the arguments of transdbd load of table into db.
func (op loadOp) args(db, table string, g uint64) []string {
	args := []string{"load", "-db", db, "-format", string(op.format)}
	if op.clear {
		args = append(args, "-clear")
	}
	if op.expectPrev {
		args = append(args, "-generation", strconv.FormatUint(g-1, 10))
	}
	return append(args, table)
}

// loadTable returns the records of the table loaded for generation g:
// about size records (more for some generations) under 40 keys, whose
// uris the tables of all generations share, and the probe record.
func loadTable(g uint64, size int, withNotes bool) []translation.Record {
	n := size + int(g*7919)%(size/2+1)
	recs := make([]translation.Record, 0, n+1)
	recs = append(recs, probeRecord(g))
	for i := range n {
		r := translation.Record{
			Key:    fmt.Sprintf("k%02d", i%40),
			URI:    fmt.Sprintf("/u%05d", i),
			Block:  uint32(g % 5),
			Order:  uint32(i % 9),
			Action: fmt.Sprintf("load %d record %d %s", g, i, strings.Repeat("abcdefghij", int(g+uint64(i))%4)),
			ID:     uint64(i + 1), // ignored on load
		}
		if withNotes && i%5 == 0 {
			r.Note = fmt.Sprintf("note %d\nof record %d", g, i)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestSIGKILLedLoadLeavesTheOldOrTheNewVersion(t *testing.T) {
	t.Parallel()
	plan := newCrashPlan(t, 40, 1)
	db := filepath.Join(t.TempDir(), "trans.mmdb")
	tables := t.TempDir()

	// The shadow database goes through the same loads, in this process
	// and uninterrupted: its dump of generation g is what the database
	// must hold when it is at generation g.
	shadow, err := translation.New(translation.Options{
		FileName: filepath.Join(t.TempDir(), "shadow.mmdb"), BaseKey: crashBaseKey, CheckInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer shadow.Stop()
	var (
		mu     sync.Mutex
		dumps  = map[uint64][]byte{}       // expected dumps, of the current and the next generation
		probes = map[uint64][]probeBlock{} // expected probe answers, of every generation
	)
	// table writes the table of generation g and returns its path.
	table := func(g uint64) string {
		op := loadOpOf(g)
		path := filepath.Join(tables, fmt.Sprintf("gen%d.%s", g, op.format))
		if _, err := os.Stat(path); err != nil {
			writeTable(t, path, op.format, loadTable(g, plan.size, op.format != translation.FormatFile))
			if g > 2 { // no longer needed
				os.Remove(filepath.Join(tables, fmt.Sprintf("gen%d.%s", g-2, loadOpOf(g-2).format)))
			}
		}
		return path
	}
	// expect loads the table of generation g into the shadow and keeps
	// what the database must hold at g.
	expect := func(g uint64) {
		op := loadOpOf(g)
		in, err := os.Open(table(g))
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		opts := translation.LoadOptions{Format: op.format, Clear: op.clear}
		if prev := g - 1; op.expectPrev {
			opts.ExpectGeneration = &prev
		}
		if gen, _, err := shadow.Load(in, opts); err != nil || gen != g {
			t.Fatalf("shadow load of generation %d: generation %d, %v", g, gen, err)
		}
		s, err := shadow.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Release()
		var buf bytes.Buffer
		if err := s.Dump(&buf, translation.FormatText); err != nil {
			t.Fatal(err)
		}
		recs, err := s.Fetch(probeKey, probeURI, false)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		dumps[g] = buf.Bytes()
		delete(dumps, g-2)
		probes[g] = probeBlocks(recs)
	}

	// Generation 1, uninterrupted, creates the file and tells how long
	// a load takes.
	expect(1)
	start := time.Now()
	ok(t, "", loadOpOf(1).args(db, table(1), 1)...)
	estimate := time.Since(start)
	gen, dump := verifiedDump(t, db)
	if gen != 1 {
		t.Fatalf("generation %d after the first load", gen)
	}
	sameDump(t, 1, dump, dumps[1])

	reader := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	probe := startProber(reader, func(g uint64) ([]probeBlock, bool) {
		mu.Lock()
		defer mu.Unlock()
		want, ok := probes[g]
		return want, ok
	})

	// The delays adapt, so that about 3 kills in 10 fall after the commit
	// whatever the machine's speed: each kill after it shortens the
	// longest delay by 7 %, each kill before it lengthens it by 3 %.
	longest := estimate * 13 / 10
	var unchanged, committedKilled, completed int
	for kill := 1; kill <= plan.kills; kill++ {
		g0 := gen
		delay := time.Duration(plan.rng.Float64() * float64(longest))
		run := runAndKill(t, delay, loadOpOf(g0+1).args(db, table(g0+1), g0+1)...)
		gen, dump = verifiedDump(t, db)
		outcome := "killed before the commit"
		switch {
		case gen == g0 && !run.completed:
			unchanged++
		case gen == g0+1:
			if _, ok := dumps[g0+1]; !ok {
				expect(g0 + 1)
			}
			if run.completed {
				completed++
				outcome = fmt.Sprintf("completed in %v", run.took.Round(time.Millisecond))
				if want := fmt.Sprintf("generation=%d\n", g0+1); !strings.HasSuffix(run.stdout, want) {
					t.Fatalf("load printed %q, want ...%q", run.stdout, want)
				}
			} else {
				committedKilled++
				outcome = "killed after the commit"
			}
		default:
			t.Fatalf("kill %d: generation %d after a load from generation %d (completed %v)", kill, gen, g0, run.completed)
		}
		if gen == g0 {
			longest = longest * 103 / 100
		} else {
			longest = longest * 93 / 100
		}
		sameDump(t, gen, dump, dumps[gen])
		checkTempFiles(t, db)
		probe.recheck()
		t.Logf("kill %d: load of generation %d, SIGKILL after %v: %s, generation %d", kill, g0+1, delay.Round(time.Microsecond), outcome, gen)
	}
	probe.finish(t)
	cliVerifies(t, db, gen)
	t.Logf("%d kills: %d before the commit, %d after it, %d loads completed first; generation %d",
		plan.kills, unchanged, committedKilled, completed, gen)
	if plan.kills >= 20 && (unchanged == 0 || committedKilled+completed == 0) {
		t.Errorf("the kills did not fall on both sides of the commit: %d before, %d after", unchanged, committedKilled+completed)
	}
}

// The serve crash test's table: a base table loaded once, then a
// transaction per generation g >= 2 that inserts the probe record of g
// and txnRecords records, deletes the probe record of g-1, the even
// records of generation g-3 and the odd ones of g-6. IDs are allocated
// upward and never reused, one to an action and one to a note, so the
// IDs of generation g follow from g, and the table of every generation
// is known.
const txnRecords = 60

// txnRecord returns record i (1 <= i <= txnRecords) of generation g.
func txnRecord(g uint64, i int) translation.Record {
	r := translation.Record{
		Key:    fmt.Sprintf("t%02d", i%30),
		URI:    fmt.Sprintf("/r%d", i),
		Block:  uint32(g % 4),
		Order:  uint32(g),
		Action: fmt.Sprintf("txn %d record %d %s", g, i, strings.Repeat("x", int(g+uint64(i))%40)),
	}
	if (g+uint64(i))%3 == 0 {
		r.Note = fmt.Sprintf("note %d %d", g, i)
	}
	return r
}

// txnAlive reports whether record i of generation h is in generation g.
func txnAlive(g, h uint64, i int) bool {
	return h >= 2 && h <= g && (g-h < 3 || i%2 == 1 && g-h < 6)
}

// serveTable describes the tables of the serve crash test.
type serveTable struct {
	base   []translation.Record // generation 1, with the IDs it got
	probe1 uint64               // ID of the probe record of generation 1

	mu     sync.Mutex
	starts []uint64 // starts[k]: the first ID of generation k+2
}

// id returns the ID of record i of generation g >= 2 (0: the probe).
func (st *serveTable) id(g uint64, i int) uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	for uint64(len(st.starts)) < g-1 {
		h := uint64(len(st.starts)) + 1 // the generation before the next start
		next := st.starts[len(st.starts)-1] + 1
		for i := 1; i <= txnRecords; i++ {
			next++
			if txnRecord(h, i).Note != "" {
				next++
			}
		}
		st.starts = append(st.starts, next)
	}
	id := st.starts[g-2]
	if i > 0 {
		id++ // the probe
	}
	for j := 1; j < i; j++ {
		id++
		if txnRecord(g, j).Note != "" {
			id++
		}
	}
	return id
}

// probeID returns the ID of the probe record of generation g.
func (st *serveTable) probeID(g uint64) uint64 {
	if g == 1 {
		return st.probe1
	}
	return st.id(g, 0)
}

// records returns the table of generation g, in dump order.
func (st *serveTable) records(g uint64) []translation.Record {
	var recs []translation.Record
	for _, r := range st.base {
		if r.Key != probeKey || g == 1 {
			recs = append(recs, r)
		}
	}
	if g >= 2 {
		p := probeRecord(g)
		p.ID = st.id(g, 0)
		recs = append(recs, p)
	}
	first := uint64(2) // generations before g-5 have no records left
	if g > 7 {
		first = g - 5
	}
	for h := first; h <= g; h++ {
		for i := 1; i <= txnRecords; i++ {
			if txnAlive(g, h, i) {
				r := txnRecord(h, i)
				r.ID = st.id(h, i)
				recs = append(recs, r)
			}
		}
	}
	slices.SortFunc(recs, func(a, b translation.Record) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.URI, b.URI),
			cmp.Compare(a.Block, b.Block), cmp.Compare(a.Order, b.Order))
	})
	return recs
}

// dump returns the text dump of generation g.
func (st *serveTable) dump(t *testing.T, g uint64) []byte {
	t.Helper()
	return tableText(t, translation.FormatText, g, st.records(g))
}

// txnBody returns the POST /v1/txn body that makes generation g.
func (st *serveTable) txnBody(g uint64) []byte {
	type rec map[string]any
	record := func(r translation.Record) rec {
		m := rec{"key": r.Key, "uri": r.URI, "block": r.Block, "order": r.Order, "action": r.Action}
		if r.Note != "" {
			m["note"] = r.Note
		}
		return m
	}
	old := func(r translation.Record, id uint64) rec {
		return rec{"key": r.Key, "uri": r.URI, "block": r.Block, "order": r.Order, "id": id}
	}
	insert := func(r translation.Record) rec {
		m := record(r)
		m["op"] = "insert"
		return m
	}
	ops := []rec{insert(probeRecord(g)), {"op": "delete", "old": old(probeRecord(g-1), st.probeID(g-1))}}
	for i := 1; i <= txnRecords; i++ {
		ops = append(ops, insert(txnRecord(g, i)))
	}
	for _, d := range []struct {
		h      uint64
		parity int
	}{{g - 3, 0}, {g - 6, 1}} {
		if d.h < 2 || d.h > g {
			continue
		}
		for i := 1; i <= txnRecords; i++ {
			if i%2 == d.parity {
				ops = append(ops, rec{"op": "delete", "old": old(txnRecord(d.h, i), st.id(d.h, i))})
			}
		}
	}
	body, err := json.Marshal(map[string]any{"ops": ops})
	if err != nil {
		panic(err)
	}
	return body
}

// A poster commits transaction after transaction through a daemon until
// a request fails, as it does once the daemon is killed.
type poster struct {
	acked  uint64    // the generation of the last commit answered
	failed time.Time // when the request failed
	err    error     // an answer that is wrong, not a failed request
	done   chan struct{}
}

// startPoster starts committing generation from+1, from+2, ... through
// the daemon at base.
func startPoster(st *serveTable, base string, from uint64) *poster {
	p := &poster{acked: from, done: make(chan struct{})}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{}}
	go func() {
		defer close(p.done)
		defer client.CloseIdleConnections()
		for g := from + 1; ; g++ {
			req, err := http.NewRequest("POST", base+"/v1/txn", bytes.NewReader(st.txnBody(g)))
			if err != nil {
				p.err = err
				return
			}
			req.Header.Set("Authorization", "Bearer crash")
			resp, err := client.Do(req)
			if err != nil {
				p.failed = time.Now()
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				p.failed = time.Now()
				return
			}
			if resp.StatusCode != http.StatusOK {
				p.err = fmt.Errorf("txn of generation %d: %d %s", g, resp.StatusCode, body)
				return
			}
			var res struct {
				Generation uint64 `json:"generation"`
				Results    []struct {
					ID uint64 `json:"id"`
				} `json:"results"`
			}
			if err := json.Unmarshal(body, &res); err != nil {
				p.err = fmt.Errorf("txn of generation %d: %v: %s", g, err, body)
				return
			}
			if res.Generation != g || len(res.Results) < 2+txnRecords ||
				res.Results[0].ID != st.id(g, 0) || res.Results[2+txnRecords-1].ID != st.id(g, txnRecords) {
				p.err = fmt.Errorf("txn of generation %d: answer %s, want generation %d and ids %d, ..., %d",
					g, body, g, st.id(g, 0), st.id(g, txnRecords))
				return
			}
			p.acked = g
		}
	}()
	return p
}

func TestSIGKILLedServeLeavesTheOldOrTheNewVersion(t *testing.T) {
	t.Parallel()
	plan := newCrashPlan(t, 60, 2)
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")

	// Generation 1: the base table, loaded into a new file.
	base := loadTable(1, plan.size, true)
	writeTable(t, filepath.Join(dir, "base.txt"), translation.FormatText, base)
	ok(t, "", "load", "-db", db, filepath.Join(dir, "base.txt"))
	st := &serveTable{}
	nextID := uint64(1)
	for _, r := range base {
		nextID++
		if r.Note != "" {
			nextID++
		}
	}
	st.starts = []uint64{nextID}
	p, err := translation.New(translation.Options{FileName: db, ReadOnly: true, BaseKey: crashBaseKey, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range p.Iterator() {
		if err != nil {
			t.Fatal(err)
		}
		st.base = append(st.base, r)
		if r.ID >= nextID {
			t.Fatalf("base record %+v has an ID beyond the %d IDs of the base table", r, nextID-1)
		}
		if r.Key == probeKey {
			st.probe1 = r.ID
		}
	}
	p.Stop()
	if len(st.base) != len(base) {
		t.Fatalf("the base table has %d records, want %d", len(st.base), len(base))
	}
	gen, dump := verifiedDump(t, db)
	sameDump(t, 1, dump, st.dump(t, 1))

	reader := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	probe := startProber(reader, func(g uint64) ([]probeBlock, bool) {
		if g == 0 {
			return nil, false
		}
		return []probeBlock{{0, uint32(g), fmt.Sprintf("generation %d", g), st.probeID(g)}}, true
	})

	writerConfig := config(t, db, false, "AdminToken crash")
	var before, after, commits int
	for kill := 1; kill <= plan.kills; kill++ {
		g0 := gen
		writer := startDaemon(t, nil, "serve", "-config", writerConfig)
		post := startPoster(st, writer.base, g0)
		// The poster commits back to back, so that a kill at a random
		// moment most often falls inside a commit.
		longest := 150 * time.Millisecond
		if raceEnabled {
			longest *= 2 // its commits are slower
		}
		delay := time.Duration(plan.rng.Int64N(int64(longest)))
		time.Sleep(delay)
		killed := time.Now()
		writer.cmd.Process.Kill()
		<-writer.exited
		<-post.done
		if post.err != nil {
			t.Fatalf("kill %d: %v", kill, post.err)
		}
		if post.failed.Before(killed) {
			t.Fatalf("kill %d: a txn failed before the daemon was killed:\n%s", kill, writer.stderr)
		}
		gen, dump = verifiedDump(t, db)
		outcome := "no commit past the last answered one"
		switch gen {
		case post.acked:
			before++
		case post.acked + 1:
			after++
			outcome = "the unanswered commit in flight is kept"
		default:
			t.Fatalf("kill %d: generation %d, the last commit answered made generation %d", kill, gen, post.acked)
		}
		commits += int(gen - g0)
		sameDump(t, gen, dump, st.dump(t, gen))
		checkTempFiles(t, db)
		t.Logf("kill %d: SIGKILL after %v and %d commits: %s, generation %d", kill, delay.Round(time.Microsecond), gen-g0, outcome, gen)
	}
	probe.finish(t)
	cliVerifies(t, db, gen)
	t.Logf("%d kills, %d commits: %d left the last answered commit, %d the unanswered one in flight; generation %d", plan.kills, commits, before, after, gen)
	if plan.kills >= 20 && (before == 0 || commits == 0) {
		t.Errorf("the kills did not interrupt commits: %d before, %d after, %d commits", before, after, commits)
	}
	if commits < plan.kills/4 {
		t.Errorf("only %d commits for %d kills", commits, plan.kills)
	}
}
