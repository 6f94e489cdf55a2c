package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"transdb/mmapdb"
)

// backupConfig writes a configuration serving db writably, with the
// AdminToken "tok" and the provider parameters params, and returns its
// path.
func backupConfig(t *testing.T, db string, params ...string) string {
	t.Helper()
	text := fmt.Sprintf(`Listen 127.0.0.1:0
AdminToken tok
<TranslationProvider MMapDB>
    FileName %s
    %s
</TranslationProvider>
`, db, strings.Join(params, "\n    "))
	return writeFile(t, t.TempDir(), "transdbd.conf", text)
}

// insertTxn is the body of a txn that inserts one record of uri /bN.
func insertTxn(n int) string {
	return fmt.Sprintf(`{"ops":[{"op":"insert","key":"k","uri":"/b%d","block":0,"order":0,"action":"commit %d"}]}`, n, n)
}

// waitBackups waits until the daemon has written n backups of db or
// more, as its metrics say.
func (d *daemon) waitBackups(t *testing.T, db string, n int) {
	t.Helper()
	prefix := fmt.Sprintf("transdb_backups_total{file=%q} ", db)
	eventually(t, "backup "+strconv.Itoa(n), func() (bool, string) {
		_, body := d.get(t, "/metrics")
		for line := range strings.Lines(body) {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				got, err := strconv.Atoi(strings.TrimSpace(v))
				return err == nil && got >= n, strings.TrimSpace(line)
			}
		}
		return false, "without " + prefix
	})
}

// backupLine is a line of transdbd backups.
var backupLine = regexp.MustCompile(`^(\S+) generation=(\d+) time=(\S+) bytes=(\d+)$`)

// listedBackup is a backup as transdbd backups lists it.
type listedBackup struct {
	path       string
	generation uint64
	time       time.Time
	bytes      int64
}

// listBackups runs transdbd backups with args and returns its lines.
func listBackups(t *testing.T, args ...string) []listedBackup {
	t.Helper()
	out := ok(t, "", append([]string{"backups"}, args...)...)
	var list []listedBackup
	for line := range strings.Lines(out) {
		m := backupLine.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			t.Fatalf("transdbd backups printed %q", line)
		}
		gen, _ := strconv.ParseUint(m[2], 10, 64)
		at, err := time.Parse(time.RFC3339Nano, m[3])
		if err != nil || at.Location() != time.UTC {
			t.Fatalf("time %q: not RFC 3339 in UTC: %v", m[3], err)
		}
		size, _ := strconv.ParseInt(m[4], 10, 64)
		list = append(list, listedBackup{m[1], gen, at, size})
	}
	return list
}

func TestTheDaemonKeepsBackupsThatBackupsListsAndRestoreBringsBack(t *testing.T) {
	db, _ := exampleDB(t)
	dir := t.TempDir()
	foreign := writeFile(t, dir, "notes.txt", "not a backup")
	old := writeFile(t, dir, "trans.mmdb.20200101T000000.000000000Z.old", "not a backup either")
	cfg := backupConfig(t, db, "BackupDir "+dir)
	d := startDaemon(t, nil, "serve", "-config", cfg)
	dumps := map[uint64]string{}
	for i := 1; i <= 3; i++ {
		status, body := request(t, "POST", d.base+"/v1/txn", "tok", insertTxn(i))
		if status != http.StatusOK {
			t.Fatalf("txn: %d %s", status, body)
		}
		d.waitBackups(t, db, i)
		dumps[uint64(1+i)] = ok(t, "", "dump", "-db", db, "-format", "jsonl")
	}
	list := listBackups(t, "-db", db, "-dir", dir)
	if len(list) != 3 {
		t.Fatalf("transdbd backups listed %d backups, want 3: %+v", len(list), list)
	}
	for i, b := range list {
		if want := uint64(4 - i); b.generation != want {
			t.Errorf("backup %d holds generation %d, want %d (newest first)", i, b.generation, want)
		}
		if i > 0 && !b.time.Before(list[i-1].time) {
			t.Errorf("backup %d taken at %v, not before the one listed before it (%v)", i, b.time, list[i-1].time)
		}
		fi, err := os.Stat(b.path)
		if err != nil || fi.Size() != b.bytes || filepath.Dir(b.path) != dir {
			t.Errorf("backup %+v: %v", b, err)
		}
		cliVerifies(t, b.path, b.generation)
	}
	// With the configuration, the directory is its BackupDir.
	if got := listBackups(t, "-config", cfg); fmt.Sprint(got) != fmt.Sprint(list) {
		t.Errorf("backups -config listed %+v, want %+v", got, list)
	}
	for _, f := range []string{foreign, old} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the daemon touched %s: %v", f, err)
		}
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}

	// The table is changed behind the backups' back; the newest one
	// brings back the last commit's table, as a new version.
	ok(t, "", "load", "-db", db, "-clear", "-empty", "-format", "jsonl", "-")
	if out := ok(t, "", "restore", "-db", db, list[0].path); out != "restored "+db+" generation=6\n" {
		t.Errorf("restore: %q", out)
	}
	if got := ok(t, "", "dump", "-db", db, "-format", "jsonl"); got != dumps[4] {
		t.Errorf("restored table:\n%s\nwant the last commit's:\n%s", got, dumps[4])
	}
}

func TestBackupDirMissingFromTheConfiguration(t *testing.T) {
	db, _ := exampleDB(t)
	cfg := config(t, db, false)
	r := transdbd(t, "", "backups", "-config", cfg)
	wantError(t, r, 1, "transdbd backups: ", `configures no BackupDir for .*trans.mmdb: give -dir`)
	// A configured directory that is missing is an error of the
	// configuration, naming its line.
	gone := t.TempDir()
	cfg = backupConfig(t, db, "BackupDir "+gone)
	os.Remove(gone)
	r = transdbd(t, "", "serve", "-config", cfg)
	wantError(t, r, 1, "transdbd serve: ", `transdbd\.conf:5: BackupDir .*: no such directory`)
	r = transdbd(t, "", "backups", "-config", cfg)
	wantError(t, r, 1, "transdbd backups: ", `transdbd\.conf:5: BackupDir .*: no such directory`)
}

// The test of a daemon killed while it writes a backup: a table of
// 16 MiB and more, so that a backup takes a while, committed to again
// and again; the k-th daemon is killed when, after k-1 backups of its
// own, the temporary file of the next one is seen in the backup
// directory. Every backup that transdbd backups lists afterwards must
// verify, none may be lost, and no temporary file may be listed; each
// daemon removes the temporary files of the dead ones when it starts.
func TestSIGKILLDuringABackupLeavesNoHalfFileThatCountsAsABackup(t *testing.T) {
	t.Parallel()
	kills := 5
	if testing.Short() {
		kills = 2
	}
	work := t.TempDir()
	db := filepath.Join(work, "big.mmdb")
	bigTable(t, db)
	dir := filepath.Join(work, "backups")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := backupConfig(t, db, "BackupDir "+dir)
	temps := func() []string {
		names, err := filepath.Glob(filepath.Join(dir, "big.mmdb.*.tmp-*"))
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	caught, listed := 0, 0
	n := 0
	for kill := 1; kill <= kills; kill++ {
		stale := map[string]bool{}
		for _, name := range temps() {
			stale[name] = true
		}
		d := startDaemon(t, nil, "serve", "-config", cfg)
		stop := make(chan struct{})
		posted := make(chan struct{})
		go func() {
			defer close(posted)
			client := &http.Client{Timeout: time.Minute}
			for {
				select {
				case <-stop:
					return
				default:
				}
				n++
				req, _ := http.NewRequest("POST", d.base+"/v1/txn", strings.NewReader(insertTxn(n)))
				req.Header.Set("Authorization", "Bearer tok")
				resp, err := client.Do(req)
				if err != nil {
					return // killed
				}
				resp.Body.Close()
			}
		}()
		d.waitBackups(t, db, kill-1)
		// Kill it once a backup of its own is being written, or after a
		// while.
		seen := false
		for deadline := time.Now().Add(30 * time.Second); !seen && time.Now().Before(deadline); {
			for _, name := range temps() {
				seen = seen || !stale[name]
			}
			time.Sleep(time.Millisecond)
		}
		d.cmd.Process.Kill()
		<-d.exited
		close(stop)
		<-posted
		if seen {
			caught++
		}
		list := listBackups(t, "-db", db, "-dir", dir)
		for _, b := range list {
			if strings.Contains(filepath.Base(b.path), ".tmp-") {
				t.Fatalf("kill %d: transdbd backups lists the temporary file %s", kill, b.path)
			}
			if err := mmapdb.VerifyFile(b.path, nil); err != nil {
				t.Fatalf("kill %d: the listed backup %s does not verify: %v", kill, b.path, err)
			}
		}
		if len(list) < listed+kill-1 {
			t.Fatalf("kill %d: %d backups listed, want at least %d", kill, len(list), listed+kill-1)
		}
		listed = len(list)
		t.Logf("kill %d: during a backup %v; %d backups listed, all verify; %d temporary files left", kill, seen, len(list), len(temps()))
	}
	if caught == 0 {
		t.Errorf("none of %d kills fell while a backup was written", kills)
	}
	// The next daemon removes the temporary files of the dead ones when
	// it starts.
	left := temps()
	d := startDaemon(t, nil, "serve", "-config", cfg)
	eventually(t, "temporary files of dead daemons removed", func() (bool, string) {
		now := temps()
		return len(now) == 0, fmt.Sprintf("%q there", now)
	})
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	t.Logf("%d of %d kills during a backup; %d temporary files removed by the next daemon", caught, kills, len(left))
}
