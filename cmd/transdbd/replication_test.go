package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"transdb/internal/httpload"
	"transdb/internal/natstest"
	"transdb/mmapdb"
	"transdb/translation"
	"transdb/translation/transgen"
)

// The replication tests run a writer transdbd that publishes its file
// to real NATS servers and replica transdbds that follow it, each in a
// directory of its own, as on machines of their own.

// A fleet is a writer and its replicas.
type fleet struct {
	t        *testing.T
	url      string // of the NATS servers
	writerDB string
	writer   *daemon
	dbs      []string // of the replicas
	replicas []*daemon
	sw       *httpload.RemoteSwitcher // commits through the writer
	gen      uint64                   // the writer's generation
}

// newFleet prepares a writer whose table holds rows and the switch
// marker, and n replicas without a file, all on the NATS servers at url.
// Nothing runs yet.
func newFleet(t *testing.T, url string, n int, rows []transgen.Row) *fleet {
	t.Helper()
	f := &fleet{t: t, url: url, writerDB: filepath.Join(t.TempDir(), "trans.mmdb")}
	for range n {
		f.dbs = append(f.dbs, filepath.Join(t.TempDir(), "trans.mmdb"))
	}
	f.replicas = make([]*daemon, n)
	p, err := translation.New(translation.Options{FileName: f.writerDB})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := httpload.InsertRows(p, rows); err != nil {
		t.Fatal(err)
	}
	sw, err := httpload.NewSwitcher(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.gen, err = sw.Commit(); err != nil {
		t.Fatal(err)
	}
	return f
}

// replConfig writes the configuration of a daemon serving db with the
// replication parameter param (Publish or Follow), and returns its path.
func replConfig(t *testing.T, db string, readOnly bool, param string) string {
	t.Helper()
	ro := 0
	if readOnly {
		ro = 1
	}
	text := fmt.Sprintf(`Listen 127.0.0.1:0
TranslationKey front
AdminToken s3cret
CheckInterval 100ms
<TranslationProvider MMapDB>
    FileName %s
    ReadOnly %d
    %s
</TranslationProvider>
`, db, ro, param)
	return writeFile(t, t.TempDir(), "transdbd.conf", text)
}

// startWriter starts the writer.
func (f *fleet) startWriter() {
	f.t.Helper()
	f.writer = startDaemon(f.t, nil, "serve", "-config", replConfig(f.t, f.writerDB, false, "Publish "+f.url+" transdb"))
	var err error
	if f.sw, err = httpload.NewRemoteSwitcher(f.writer.base, "s3cret"); err != nil {
		f.t.Fatal(err)
	}
}

// startReplica starts replica i.
func (f *fleet) startReplica(i int) {
	f.t.Helper()
	f.replicas[i] = startDaemon(f.t, nil, "serve", "-config", replConfig(f.t, f.dbs[i], true, "Follow "+f.url+" transdb"))
}

// commit replaces the switch marker through the writer, in a
// transaction of its own, and returns the generation it made.
func (f *fleet) commit() uint64 {
	f.t.Helper()
	g, err := f.sw.Commit()
	if err != nil {
		f.t.Fatal(err)
	}
	f.gen = g
	return g
}

// served returns the generation of the marker that d serves, 0 when it
// serves none, checking that the answer is made from one version.
func served(t *testing.T, d *daemon) uint64 {
	t.Helper()
	c, err := httpload.Dial(strings.TrimPrefix(d.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Get(httpload.FetchTarget(httpload.SwitchKey, httpload.SwitchURI))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == 503 {
		return 0
	}
	if err := httpload.CheckSwitchFetch(r); err != nil {
		t.Fatal(err)
	}
	g, _ := strconv.ParseUint(string(r.Generation), 10, 64)
	return g
}

// waitServed waits until every running replica serves generation g, and
// returns how long that took.
func (f *fleet) waitServed(g uint64) time.Duration {
	f.t.Helper()
	start := time.Now()
	for i, d := range f.replicas {
		if d == nil {
			continue
		}
		eventually(f.t, fmt.Sprintf("replica %d serving generation %d", i, g), func() (bool, string) {
			got := served(f.t, d)
			return got == g, fmt.Sprintf("at generation %d", got)
		})
	}
	return time.Since(start)
}

// replicaStats returns the replication of d's /v1/stats.
func replicaStats(t *testing.T, d *daemon) (generation uint64, repl map[string]any) {
	t.Helper()
	code, body := d.get(t, "/v1/stats")
	var st struct {
		Generation  uint64
		Replication map[string]any
	}
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("/v1/stats: %d %s", code, body)
	}
	return st.Generation, st.Replication
}

// A genWatch polls the generation of daemons and records every step
// back.
type genWatch struct {
	stop chan struct{}
	done sync.WaitGroup
	mu   sync.Mutex
	errs []string
}

func watchGenerations(t *testing.T, daemons []*daemon) *genWatch {
	w := &genWatch{stop: make(chan struct{})}
	for i, d := range daemons {
		w.done.Go(func() {
			c, err := httpload.Dial(strings.TrimPrefix(d.base, "http://"))
			if err != nil {
				w.fail("replica %d: %v", i, err)
				return
			}
			defer c.Close()
			var last uint64
			for {
				select {
				case <-w.stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				r, err := c.Get("/v1/stats")
				if err != nil {
					w.fail("replica %d: %v", i, err)
					return
				}
				g, _ := strconv.ParseUint(string(r.Generation), 10, 64)
				if g < last {
					w.fail("replica %d went from generation %d back to %d", i, last, g)
				}
				last = max(last, g)
			}
		})
	}
	return w
}

func (w *genWatch) fail(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, fmt.Sprintf(format, args...))
}

func (w *genWatch) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.done.Wait()
	for _, e := range w.errs {
		t.Error(e)
	}
}

// TestReplicasFollowEveryCommitUnderLoad starts three replicas without
// a file, which are not ready, then the writer, which publishes its
// table; then it commits 100 one-record changes through the writer while
// connections fetch from every replica without pause. Every commit must
// reach every replica (the next waits for it), every answer be a 200
// from exactly one committed version, and no replica's generation ever
// go back.
func TestReplicasFollowEveryCommitUnderLoad(t *testing.T) {
	const commits, probes = 100, 256
	srv := natstest.StartT(t)
	rows := transgen.Generate(5000, 1)
	f := newFleet(t, srv.URL(), 3, rows)
	for i := range f.replicas {
		f.startReplica(i)
		if code, body := f.replicas[i].get(t, "/readyz"); code != 503 {
			t.Fatalf("replica %d without file: /readyz %d %s", i, code, body)
		}
	}
	f.startWriter()
	first := f.gen
	f.waitServed(first)
	for i, d := range f.replicas {
		if code, body := d.get(t, "/readyz"); code != 200 || !strings.Contains(body, `"replication":{"role":"follow"`) {
			t.Fatalf("replica %d: /readyz %d %s", i, code, body)
		}
	}

	// The load's targets, checked against the table on one replica.
	c, err := httpload.Dial(strings.TrimPrefix(f.replicas[0].base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	targets, check := checkedTargets(t, c, rows, probes, first)
	loads := make([]*backgroundLoad, len(f.replicas))
	for i, d := range f.replicas {
		loads[i] = startLoad(strings.TrimPrefix(d.base, "http://"), 2, targets, check)
	}
	watch := watchGenerations(t, f.replicas)

	var worst time.Duration
	for range commits {
		g := f.commit()
		worst = max(worst, f.waitServed(g))
	}
	watch.finish(t)

	for i := range f.replicas {
		res := loads[i].finish(t, fmt.Sprintf("replica %d", i))
		if lo, hi, n := res.GenerationRange(); lo < first || hi != f.gen || n < 2 {
			t.Errorf("replica %d: the load saw %d generations, %d..%d; the commits made %d..%d", i, n, lo, hi, first, f.gen)
		}
		g, repl := replicaStats(t, f.replicas[i])
		if g != f.gen || repl["generation"] != float64(f.gen) || repl["lag_generations"] != float64(0) ||
			repl["connected"] != true || repl["last_sync"] == nil || repl["refused"] != float64(0) {
			t.Errorf("replica %d: /v1/stats generation %d, replication %v", i, g, repl)
		}
		t.Logf("replica %d: %d answers, %.0f req/s", i, res.Requests, res.Rate())
		// Each version was verified when it was installed, and the
		// daemon's verifier does not read it again.
		d := f.replicas[i]
		d.stderr.waitFor(t, installedVerified)
		if plain := regexp.MustCompile(`msg="httpprovider: database version verified" `); plain.MatchString(d.stderr.String()) {
			t.Errorf("replica %d read an installed version again to verify it:\n%s", i, d.stderr.String())
		}
	}
	_, repl := replicaStats(t, f.writer)
	if repl["role"] != "publish" || repl["generation"] != float64(f.gen) || repl["lag_generations"] != float64(0) {
		t.Errorf("writer: replication %v", repl)
	}
	t.Logf("%d commits, each served by the 3 replicas within %v", commits, worst)
}

// installedVerified is the log line of a version a replica installed.
var installedVerified = regexp.MustCompile(`level=INFO msg="httpprovider: database version verified when it was installed" `)

// downloadOf returns the path of a download under way beside db, or
// "" when there is none.
func downloadOf(db string) string {
	names, _ := filepath.Glob(db + ".follow-*")
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// TestReplicasSurviveFailures checks, one after the other: a replica
// killed in the middle of a download and started again catches up and
// removes the download; killing the writer leaves the replicas serving;
// objects damaged in the bucket are refused while the replicas go on
// serving the version they have; and the writer started again is
// followed again.
func TestReplicasSurviveFailures(t *testing.T) {
	srv := natstest.StartT(t)
	rows := transgen.Generate(100_000, 2)
	f := newFleet(t, srv.URL(), 3, rows)
	f.startWriter()
	for i := range f.replicas {
		f.startReplica(i)
	}
	f.waitServed(f.gen)

	// A replica killed in the middle of a download. Each try commits a
	// version and kills the replica as soon as its download appears; a
	// download quicker than the test is tried again.
	killed := false
	for try := 0; try < 20 && !killed; try++ {
		g := f.commit()
		dead := false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			if downloadOf(f.dbs[2]) != "" {
				f.replicas[2].cmd.Process.Signal(syscall.SIGKILL)
				f.replicas[2].wait(t)
				dead, killed = true, downloadOf(f.dbs[2]) != ""
				break
			}
			if served(t, f.replicas[2]) == g {
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
		if dead && !killed {
			f.startReplica(2) // it finished the download as it died
		}
	}
	if !killed {
		t.Fatal("no replica download was under way long enough to be killed in 20 tries")
	}
	t.Logf("replica 2 killed in the middle of a download of generation %d", f.gen)
	f.commit()
	f.startReplica(2)
	f.waitServed(f.gen)
	if d := downloadOf(f.dbs[2]); d != "" {
		t.Errorf("the killed download %s is still there", d)
	}

	// The writer dies: the replicas serve on, and stay ready.
	f.writer.cmd.Process.Signal(syscall.SIGKILL)
	f.writer.wait(t)
	last := f.gen
	time.Sleep(500 * time.Millisecond)
	for i, d := range f.replicas {
		if g := served(t, d); g != last {
			t.Errorf("replica %d serves generation %d after the writer died, want %d", i, g, last)
		}
		if code, body := d.get(t, "/readyz"); code != 200 {
			t.Errorf("replica %d: /readyz %d %s", i, code, body)
		}
	}

	// Damaged objects in the bucket: a newer version whose bytes do not
	// match the digest, and one whose bytes match a digest but not the
	// file's own checksums. The replicas refuse both.
	newer := newerImage(t, f.writerDB)
	js, _ := natsBucket(t, srv.URL())
	flipped := append([]byte(nil), newer.data...)
	flipped[len(flipped)/2] ^= 0x40
	// One after the other: a damaged object replaced while a replica
	// downloads it is no longer in the bucket, and not refused.
	for n, content := range [][]byte{newer.data, flipped} {
		putDamaged(t, js, newer, flipped, content) // the digest of the good bytes, then of the flipped ones
		for i, d := range f.replicas {
			eventually(t, fmt.Sprintf("replica %d refusing damaged object %d", i, n+1), func() (bool, string) {
				_, repl := replicaStats(t, d)
				return repl["refused"] == float64(n+1), fmt.Sprintf("%v", repl)
			})
		}
	}
	for i, d := range f.replicas {
		if g := served(t, d); g != last {
			t.Errorf("replica %d serves generation %d after the damaged objects, want %d", i, g, last)
		}
		code, metrics := d.get(t, "/metrics")
		if code != 200 || !regexp.MustCompile(`transdb_replication_refused_total\{[^}]*role="follow"\} 2`).MatchString(metrics) {
			t.Errorf("replica %d: /metrics does not count the refused objects", i)
		}
	}

	// The writer is back. Its next commit has the generation the
	// damaged objects claim, which is not newer: the one after replaces
	// them, and the replicas follow.
	f.startWriter()
	f.commit()
	g := f.commit()
	f.waitServed(g)
}

// An image is the file of a version, as a writer publishes it.
type image struct {
	data       []byte
	generation uint64
	checksum   uint32
}

// newerImage returns the version one commit past the database file db,
// committed to a copy of it.
func newerImage(t *testing.T, db string) image {
	t.Helper()
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	cp := writeFile(t, t.TempDir(), "trans.mmdb", string(data))
	p, err := translation.New(translation.Options{FileName: cp})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if _, err := p.Update(func(tx *translation.Txn) error {
		_, err := tx.Insert(translation.Record{Key: "damaged", URI: "/", Action: "never served"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(cp); err != nil {
		t.Fatal(err)
	}
	fi, err := mmapdb.StatFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	return image{data, fi.Generation, fi.Checksum}
}

// natsBucket binds to the bucket of the fleets.
func natsBucket(t *testing.T, url string) (jetstream.JetStream, jetstream.ObjectStore) {
	return natstest.Bucket(t, url, "transdb")
}

// putDamaged puts content as the object of the fleet's file, with the
// metadata of im and the digest of digestOf.
func putDamaged(t *testing.T, js jetstream.JetStream, im image, content, digestOf []byte) {
	t.Helper()
	meta := map[string]string{
		"transdb-generation": strconv.FormatUint(im.generation, 10),
		"transdb-checksum":   fmt.Sprintf("%08x", im.checksum),
	}
	natstest.PutDamaged(t, js, "transdb", "trans.mmdb", meta, content, digestOf)
}

// TestReplicasConvergeWhileANATSNodeDies runs the fleet on a cluster of
// three NATS servers, whose bucket the writer creates with three
// replicas, and kills one server in the middle of 60 commits made
// without waiting for the replicas: every replica must still end at the
// last generation, without ever going back.
func TestReplicasConvergeWhileANATSNodeDies(t *testing.T) {
	servers := natstest.StartClusterT(t, 3)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.URL())
	}
	url := strings.Join(urls, ",")
	f := newFleet(t, url, 3, transgen.Generate(5000, 3))
	f.startWriter()
	for i := range f.replicas {
		f.startReplica(i)
	}
	f.waitServed(f.gen)
	_, obs := natsBucket(t, url)
	if st, err := obs.Status(context.Background()); err != nil || st.Replicas() != 3 {
		t.Fatalf("bucket status %v, %v: want 3 replicas", st, err)
	}

	watch := watchGenerations(t, f.replicas)
	for i := range 60 {
		f.commit()
		if i == 20 {
			servers[0].Kill()
			t.Logf("killed NATS server %s after generation %d", servers[0].URL(), f.gen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	for i, d := range f.replicas {
		for deadline := time.Now().Add(time.Minute); ; {
			g := served(t, d)
			if g == f.gen {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d still at generation %d, a minute after the last commit of %d", i, g, f.gen)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	watch.finish(t)
	t.Logf("the replicas served the last generation %v after the last commit", time.Since(start))
}
