package httpprovider_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/internal/syncbuf"
	"transdb/mmapdb"
	"transdb/translation"
)

// fakeClock is a clock that moves only when the test advances it. Its
// timers run in the goroutine of Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	// block, when set, makes the next call of Now wait: it is closed
	// when that call begins, and the call returns once release is closed.
	block, release chan struct{}
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	block, release := c.block, c.release
	c.block = nil
	now := c.now
	c.mu.Unlock()
	if block != nil {
		close(block)
		<-release
	}
	return now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		stopped := !t.done
		t.done = true
		return stopped
	}
}

// Advance moves the clock on by d and runs the timers due by then.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

// pending returns the number of timers not yet run or stopped.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

// serveBackups serves a new writable database whose backups go to a new
// directory with the interval and policy of b, on clock c; the server's
// log goes to logs. It waits for the pruning at the start.
func serveBackups(t *testing.T, c *fakeClock, b httpprovider.Backups, logs *syncbuf.Buffer) *testServer {
	t.Helper()
	p := newProvider(t, dbPath(t), false)
	if b.Dir == "" {
		b.Dir = t.TempDir()
	}
	s := serve(t, httpprovider.WithClock(httpprovider.Options{
		Providers:  []*translation.Provider{p},
		AdminToken: token,
		Backups:    map[string]httpprovider.Backups{p.Path(): b},
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
	}, c))
	s.srv.SettleBackups()
	return s
}

// commit commits a transaction that inserts record i and waits until no
// backup is under way; it returns the new generation.
func (s *testServer) commit(i int) uint64 {
	s.t.Helper()
	res := s.txn(fmt.Sprintf(`{"ops":[{"op":"insert","key":"k","uri":"/u%d","block":0,"order":0,"action":"commit %d"}]}`, i, i))
	s.srv.SettleBackups()
	return res.Generation
}

// backups lists the backups of the server's file in dir, newest first,
// checking that each verifies.
func (s *testServer) backups(dir string) []mmapdb.BackupFile {
	s.t.Helper()
	files, err := mmapdb.Backups(dir, s.p.Path())
	if err != nil {
		s.t.Fatal(err)
	}
	for _, f := range files {
		if err := mmapdb.VerifyFile(f.Path, nil); err != nil {
			s.t.Fatalf("backup %s: %v", f.Path, err)
		}
	}
	return files
}

// backupDump returns the generation and the text dump of the table in
// the backup at path.
func backupDump(t *testing.T, path string) (uint64, string) {
	t.Helper()
	p, err := translation.New(translation.Options{FileName: path, ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var b strings.Builder
	if err := snap.Dump(&b, translation.FormatText); err != nil {
		t.Fatal(err)
	}
	return snap.Generation(), b.String()
}

// backupGenerations returns the generations of the backups.
func backupGenerations(t *testing.T, files []mmapdb.BackupFile) []uint64 {
	t.Helper()
	var gens []uint64
	for _, f := range files {
		g, _ := backupDump(t, f.Path)
		gens = append(gens, g)
	}
	return gens
}

// backupTimes returns the times of the backups.
func backupTimes(files []mmapdb.BackupFile) []time.Time {
	var times []time.Time
	for _, f := range files {
		times = append(times, f.Time)
	}
	return times
}

// metric returns the value of the backup metric name of the server's
// file, and whether /metrics has it.
func (s *testServer) metric(name string) (string, bool) {
	s.t.Helper()
	r := s.get("/metrics")
	if r.status != http.StatusOK {
		s.t.Fatalf("metrics: %d", r.status)
	}
	prefix := name + `{file=` + strconv.Quote(s.p.Path()) + `} `
	for line := range strings.SplitSeq(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			return v, true
		}
	}
	return "", false
}

// wantMetric fails the test unless the metric has the value.
func (s *testServer) wantMetric(name, want string) {
	s.t.Helper()
	if got, ok := s.metric(name); !ok || got != want {
		s.t.Errorf("%s = %q (present %v), want %s", name, got, ok, want)
	}
}

func TestABackupFollowsEachCommitAndHoldsTheCommittedVersion(t *testing.T) {
	c := newFakeClock()
	dir := t.TempDir()
	s := serveBackups(t, c, httpprovider.Backups{Dir: dir}, new(syncbuf.Buffer))
	if files := s.backups(dir); len(files) != 0 {
		t.Fatalf("backups before any commit: %v", files)
	}
	s.wantMetric("transdb_backups_total", "0")
	if _, ok := s.metric("transdb_backup_age_seconds"); ok {
		t.Error("transdb_backup_age_seconds is there while there is no backup")
	}
	dumps := map[uint64]string{}
	start := c.Now()
	for i := 1; i <= 3; i++ {
		gen := s.commit(i)
		dumps[gen], _ = s.dump()
		c.Advance(time.Second)
	}
	files := s.backups(dir)
	if got, want := backupTimes(files), []time.Time{start.Add(2 * time.Second), start.Add(time.Second), start}; !slices.Equal(got, want) {
		t.Fatalf("backups taken at %v, want %v", got, want)
	}
	if got := filepath.Base(files[2].Path); got != "trans.mmdb.20261121T080000.000000000Z" {
		t.Errorf("backup named %s", got)
	}
	for i, f := range files {
		gen, dump := backupDump(t, f.Path)
		if want := uint64(3 - i); gen != want || dump != dumps[want] {
			t.Errorf("backup %s holds generation %d:\n%s\nwant generation %d:\n%s", f.Path, gen, dump, want, dumps[want])
		}
	}
	s.wantMetric("transdb_backups_total", "3")
	s.wantMetric("transdb_backup_failures_total", "0")
	s.wantMetric("transdb_backup_age_seconds", "1") // the clock moved on a second after the last
}

func TestCommitsAndRequestsDoNotWaitForABackup(t *testing.T) {
	c := newFakeClock()
	dir := t.TempDir()
	s := serveBackups(t, c, httpprovider.Backups{Dir: dir}, new(syncbuf.Buffer))
	// The next backup stops at its start, when it reads the clock.
	blocked, release := make(chan struct{}), make(chan struct{})
	c.mu.Lock()
	c.block, c.release = blocked, release
	c.mu.Unlock()
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/1","block":0,"order":0,"action":"one"}]}`)
	<-blocked
	// While it is stuck, commits are answered and so are lookups and
	// the metrics.
	res := s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/2","block":0,"order":0,"action":"two"}]}`)
	if f := s.fetch("key=k&uri=/2"); len(f.Blocks) != 1 || f.Generation != res.Generation {
		t.Fatalf("fetch while a backup is under way: %+v", f)
	}
	s.wantMetric("transdb_backups_total", "0")
	close(release)
	s.srv.SettleBackups()
	// The backup began after both commits: it holds the second, and no
	// other backup follows for it.
	files := s.backups(dir)
	if gens := backupGenerations(t, files); !slices.Equal(gens, []uint64{res.Generation}) {
		t.Fatalf("backups of generations %v, want one of %d", gens, res.Generation)
	}
	s.wantMetric("transdb_backups_total", "1")
}

func TestBackupEveryAllowsOneBackupPerIntervalInACommitStorm(t *testing.T) {
	c := newFakeClock()
	dir := t.TempDir()
	s := serveBackups(t, c, httpprovider.Backups{Dir: dir, Every: time.Hour}, new(syncbuf.Buffer))
	t0 := c.Now()
	s.commit(1) // the first backup is taken at once
	var gen uint64
	for i := 2; i <= 60; i++ {
		gen = s.commit(i)
		c.Advance(time.Minute - time.Second)
	}
	// 59 minutes of commits: one backup, and one held back.
	if got := backupTimes(s.backups(dir)); !slices.Equal(got, []time.Time{t0}) {
		t.Fatalf("backups at %v during the storm, want only the one at %v", got, t0)
	}
	if n := c.pending(); n != 1 {
		t.Fatalf("%d backups held back, want 1", n)
	}
	c.Advance(t0.Add(time.Hour).Sub(c.Now()) - 1)
	s.srv.SettleBackups()
	if n := len(s.backups(dir)); n != 1 {
		t.Fatalf("%d backups a nanosecond before the hour is over, want 1", n)
	}
	c.Advance(1)
	s.srv.SettleBackups()
	files := s.backups(dir)
	if got := backupTimes(files); !slices.Equal(got, []time.Time{t0.Add(time.Hour), t0}) {
		t.Fatalf("backups at %v, want at %v and an hour later", got, t0)
	}
	if gens := backupGenerations(t, files); gens[0] != gen {
		t.Fatalf("the backup held back holds generation %d, want the last commit's %d", gens[0], gen)
	}
	// No commit, no backup, however long.
	c.Advance(5 * time.Hour)
	s.srv.SettleBackups()
	if n := len(s.backups(dir)); n != 2 || c.pending() != 0 {
		t.Fatalf("%d backups and %d held back without commits, want 2 and none", n, c.pending())
	}
	// A commit more than an hour after the last backup is backed up at
	// once.
	s.commit(61)
	if got := backupTimes(s.backups(dir)); len(got) != 3 || !got[0].Equal(t0.Add(6*time.Hour)) {
		t.Fatalf("backups at %v, want a third at %v", got, t0.Add(6*time.Hour))
	}
	s.wantMetric("transdb_backups_total", "3")
}

func TestAFailingBackupIsLoggedAndCountedAndFailsNoCommit(t *testing.T) {
	c := newFakeClock()
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logs := new(syncbuf.Buffer)
	s := serveBackups(t, c, httpprovider.Backups{Dir: dir}, logs)
	s.commit(1)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	gen := s.commit(2) // answered 200 all the same
	if !strings.Contains(logs.String(), `level=ERROR msg="httpprovider: automatic backup failed"`) ||
		!strings.Contains(logs.String(), "generation="+strconv.FormatUint(gen, 10)) {
		t.Errorf("the failure is not logged:\n%s", logs)
	}
	s.wantMetric("transdb_backups_total", "1")
	s.wantMetric("transdb_backup_failures_total", "1")
	s.wantMetric("transdb_backup_age_seconds", "0")
	if f := s.fetch("key=k&uri=/u2"); len(f.Blocks) != 1 || f.Generation != gen {
		t.Fatalf("the commit whose backup failed: %+v", f)
	}
	// The next commit tries again.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	gen = s.commit(3)
	if gens := backupGenerations(t, s.backups(dir)); !slices.Equal(gens, []uint64{gen}) {
		t.Fatalf("backups of generations %v after the directory came back, want %d", gens, gen)
	}
	s.wantMetric("transdb_backups_total", "2")
	s.wantMetric("transdb_backup_failures_total", "1")
}

func TestBackupsArePrunedAtStartAndAfterEachBackup(t *testing.T) {
	c := newFakeClock()
	now := c.Now()
	dir := t.TempDir()
	p := newProvider(t, dbPath(t), false)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	// Backups of an earlier run: 1 hour and 2, 3, 4, 30 and 40 days old.
	const day = 24 * time.Hour
	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, age := range []time.Duration{time.Hour, 2 * day, 3 * day, 4 * day, 30 * day, 40 * day} {
		if _, err := mmapdb.WriteBackup(dir, p.Path(), snap.Bytes(), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	snap.Release()
	// Files that are not its backups, and the remains of a backup whose
	// writer died.
	foreign := []string{"README", "trans.mmdb", "trans.mmdb.BACKUP", "other.mmdb.20261001T000000.000000000Z",
		"trans.mmdb.20261001T000000.000000000Z.old"}
	stale := filepath.Join(dir, "trans.mmdb.20261121T075959.000000000Z.tmp-1234")
	for _, name := range append(slices.Clone(foreign), filepath.Base(stale)) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not a whole backup"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s := serve(t, httpprovider.WithClock(httpprovider.Options{
		Providers:  []*translation.Provider{p},
		AdminToken: token,
		Backups: map[string]httpprovider.Backups{p.Path(): {Dir: dir,
			Policy: mmapdb.BackupPolicy{KeepAll: 24 * time.Hour, KeepMin: 3, DeleteAfter: 21 * day}}},
		Logger: slog.New(slog.NewTextHandler(new(syncbuf.Buffer), nil)),
	}, c))
	s.srv.SettleBackups()
	// At the start: the 30 and 40 days old are beyond the 3 newest old
	// ones and older than 21 days.
	wantAges := func(ages ...time.Duration) {
		t.Helper()
		var want []time.Time
		for _, a := range ages {
			want = append(want, now.Add(-a))
		}
		if got := backupTimes(s.backups(dir)); !slices.Equal(got, want) {
			t.Fatalf("backups taken at %v, want %v", got, want)
		}
	}
	wantAges(time.Hour, 2*day, 3*day, 4*day)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the dead writer's %s is still there: %v", stale, err)
	}
	for _, name := range foreign {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("pruning touched %s: %v", name, err)
		}
	}
	s.wantMetric("transdb_backup_age_seconds", "3600")

	// 18 days later, a commit: its backup is the one young one; the
	// 3 newest old ones stay, and the 4th, 22 days old, goes.
	c.Advance(18 * day)
	s.commit(1)
	wantAges(-18*day, time.Hour, 2*day, 3*day)
	// 21 days and 1 hour after that, the next: the backup of the last
	// commit, and those 22 days old and more are old, but only the 3
	// newest old ones stay.
	c.Advance(21*day + time.Hour)
	s.commit(2)
	wantAges(-39*day-time.Hour, -18*day, time.Hour, 2*day)
	s.wantMetric("transdb_backups_total", "2")
}

func TestTheProvidersOfAFileShareItsBackups(t *testing.T) {
	c := newFakeClock()
	dir := t.TempDir()
	path := dbPath(t)
	readOnly := filepath.Join(t.TempDir(), "ro.mmdb")
	a, b := newProvider(t, path, false), newProvider(t, path, false, "b")
	ro := newProvider(t, readOnly, true) // its file does not exist
	s := serve(t, httpprovider.WithClock(httpprovider.Options{
		Providers:  []*translation.Provider{a, b, ro},
		AdminToken: token,
		Backups: map[string]httpprovider.Backups{
			path:     {Dir: dir},
			readOnly: {Dir: dir}, // served read-only: no backups
		},
		Logger: slog.New(slog.NewTextHandler(new(syncbuf.Buffer), nil)),
	}, c))
	s.srv.SettleBackups()
	s.commit(1)
	c.Advance(time.Second)
	res := s.txn(`{"basekey":["b"],"ops":[{"op":"insert","key":"k","uri":"/b","block":0,"order":0,"action":"b"}]}`)
	s.srv.SettleBackups()
	files := s.backups(dir)
	if gens := backupGenerations(t, files); !slices.Equal(gens, []uint64{res.Generation, res.Generation - 1}) {
		t.Fatalf("backups of generations %v, want one per commit of either provider", gens)
	}
	if left, _ := mmapdb.Backups(dir, readOnly); len(left) != 0 {
		t.Fatalf("backups of a read-only file: %v", left)
	}
	r := s.get("/metrics")
	if n := strings.Count(string(r.body), "\ntransdb_backups_total{"); n != 1 {
		t.Errorf("%d transdb_backups_total series, want the one of the writable file", n)
	}
}

func TestBackupsOptionsAreChecked(t *testing.T) {
	path, other := dbPath(t), dbPath(t) // both trans.mmdb
	p, q := newProvider(t, path, false), newProvider(t, other, false)
	dir := t.TempDir()
	for _, tt := range []struct {
		backups map[string]httpprovider.Backups
		want    string
	}{
		{map[string]httpprovider.Backups{path + ".other": {Dir: t.TempDir()}}, "no provider serves that file"},
		{map[string]httpprovider.Backups{path: {}}, "want a directory"},
		{map[string]httpprovider.Backups{path: {Dir: t.TempDir(), Every: -time.Second}}, "interval of 0 or more"},
		{map[string]httpprovider.Backups{path: {Dir: dir}, other: {Dir: dir}}, "files of one name need backup directories of their own"},
	} {
		_, err := httpprovider.New(httpprovider.Options{Providers: []*translation.Provider{p, q}, Backups: tt.backups})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New with backups %v: %v, want an error saying %q", tt.backups, err, tt.want)
		}
	}
}

func TestCloseTakesTheBackupThatEveryHeldBack(t *testing.T) {
	c := newFakeClock()
	dir := t.TempDir()
	p := newProvider(t, dbPath(t), false)
	srv, err := httpprovider.New(httpprovider.WithClock(httpprovider.Options{
		Providers:  []*translation.Provider{p},
		AdminToken: token,
		Backups:    map[string]httpprovider.Backups{p.Path(): {Dir: dir, Every: time.Hour}},
		Logger:     slog.New(slog.NewTextHandler(new(syncbuf.Buffer), nil)),
	}, c))
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, srv: srv, url: newHTTPServer(t, srv), p: p}
	s.srv.SettleBackups()
	s.commit(1)
	c.Advance(time.Minute)
	gen := s.commit(2)
	if n := len(s.backups(dir)); n != 1 {
		t.Fatalf("%d backups before Close, want 1", n)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if gens := backupGenerations(t, s.backups(dir)); !slices.Equal(gens, []uint64{gen, gen - 1}) {
		t.Fatalf("backups of generations %v after Close, want the last commit's %d too", gens, gen)
	}
	if c.pending() != 0 {
		t.Error("a backup is still held back after Close")
	}
	// Commits after Close start none.
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/late","block":0,"order":0,"action":"late"}]}`)
	srv.SettleBackups()
	if n := len(s.backups(dir)); n != 2 {
		t.Fatalf("%d backups after a commit after Close, want 2", n)
	}
}
