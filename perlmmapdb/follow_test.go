package perlmmapdb

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"transdb/mmapdb"
)

// perlVersion writes a Perl file of n records whose data name the
// version v, at path, through Export from a scratch database.
func perlVersion(t *testing.T, path string, v, n int) {
	t.Helper()
	db := openDB(t)
	err := db.Update(func(tx *mmapdb.Txn) error {
		for i := range n {
			if _, err := tx.Insert([]string{"trans", "db", "actn", "k", fmt.Sprint("/u", i)}, []byte{0, 0, 0, 0, 0, 0, 0, 0},
				[]byte(fmt.Sprintf("version %d record %d", v, i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(s *mmapdb.Snapshot) error {
		_, err := Export(s, path, ExportOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// replacePerl replaces the Perl file at path as the module's commit
// does: the new version is written beside it and renamed over it, and
// byte 4 of the old one is zeroed.
func replacePerl(t *testing.T, path string, v, n int) {
	t.Helper()
	old, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	perlVersion(t, tmp, v, n)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if _, err := old.WriteAt([]byte{0}, 4); err != nil {
		t.Fatal(err)
	}
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

// waitStatus waits until the follower's status satisfies cond.
func waitStatus(t *testing.T, f *Follower, what string, cond func(FollowStatus) bool) FollowStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := f.Status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dataOf returns the data of the record with ID 1 in the database file.
func dataOf(t *testing.T, path string) string {
	t.Helper()
	db, err := mmapdb.Open(path, &mmapdb.Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var data string
	err = db.View(func(s *mmapdb.Snapshot) error {
		r, _, err := s.ByID(1)
		data = string(r.Data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFollowerImportsEachVersionThePerlModuleCommits(t *testing.T) {
	dir := t.TempDir()
	perl, db := filepath.Join(dir, "perl.mmdb"), filepath.Join(dir, "trans.mmdb")
	perlVersion(t, perl, 1, 10)
	f := Follow(db, perl, FollowOptions{Interval: 10 * time.Millisecond, Logger: testLogger(t)})
	defer f.Close()
	st := waitStatus(t, f, "first import", func(st FollowStatus) bool { return st.Imports == 1 })
	if st.Last.Generation != 1 || st.Last.Records != 10 || st.Err != nil || st.Source != perl {
		t.Errorf("after the first import: %+v", st)
	}
	for v := 2; v <= 5; v++ {
		replacePerl(t, perl, v, 10+v)
		st := waitStatus(t, f, fmt.Sprint("import of version ", v), func(st FollowStatus) bool { return st.Imports == uint64(v) })
		if st.Last.Generation != uint64(v) || st.Last.Records != 10+v {
			t.Errorf("version %d: imported %+v, want generation %d with %d records", v, st.Last, v, 10+v)
		}
		if got, want := dataOf(t, db), fmt.Sprintf("version %d record 0", v); got != want {
			t.Errorf("the database holds %q, want %q", got, want)
		}
	}
	// Nothing new: no import.
	time.Sleep(50 * time.Millisecond)
	if st := f.Status(); st.Imports != 5 || st.Failures != 0 {
		t.Errorf("without a new version: %+v", st)
	}
}

func TestFollowerWaitsForTheFileAndKeepsItsVersionThroughBadOnes(t *testing.T) {
	dir := t.TempDir()
	perl, db := filepath.Join(dir, "perl.mmdb"), filepath.Join(dir, "trans.mmdb")
	f := Follow(db, perl, FollowOptions{Interval: 10 * time.Millisecond, Logger: testLogger(t), stale: 300 * time.Millisecond})
	defer f.Close()
	st := waitStatus(t, f, "a missing file", func(st FollowStatus) bool { return st.Failures > 0 })
	if st.Imports != 0 || !errors.Is(st.Err, os.ErrNotExist) {
		t.Errorf("with the Perl file missing: %+v", st)
	}
	perlVersion(t, perl, 1, 3)
	f.Check() // at once, not after the backoff
	waitStatus(t, f, "the file appears", func(st FollowStatus) bool { return st.Imports == 1 && st.Err == nil })

	// A corrupt version fails and leaves the database as it was.
	b, err := os.ReadFile(perl)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-2] = 0xff // the UTF-8 flag of the last string
	tmp := perl + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, perl); err != nil {
		t.Fatal(err)
	}
	failures := f.Status().Failures
	st = waitStatus(t, f, "a corrupt version", func(st FollowStatus) bool { return st.Failures > failures })
	if !errors.Is(st.Err, ErrCorrupt) || st.Imports != 1 {
		t.Errorf("after a corrupt version: %+v", st)
	}
	if got := dataOf(t, db); got != "version 1 record 0" {
		t.Errorf("the database holds %q after a failed import", got)
	}

	// A superseded file at the path, as a restore of an old copy might
	// leave it for a moment, is waited out, not imported; one that stays
	// is a failure, reported as such, once it has stayed for the 300ms.
	// (A retry of the corrupt version under way when it is put in place
	// may still fail after it, as the corrupt version: the failure
	// awaited is the superseded file's.)
	perlVersion(t, tmp, 2, 3)
	b, err = os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	b[4] = 0
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	placed := time.Now()
	if err := os.Rename(tmp, perl); err != nil {
		t.Fatal(err)
	}
	st = waitStatus(t, f, "a superseded file that stays", func(st FollowStatus) bool { return errors.Is(st.Err, ErrSuperseded) })
	if stayed := time.Since(placed); stayed < 300*time.Millisecond {
		t.Errorf("a superseded file failed %v after it was put in place, before it had stayed 300ms", stayed)
	}
	if !strings.Contains(st.Err.Error(), "no newer version has replaced it for 300ms") || st.Imports != 1 {
		t.Errorf("a superseded file that stays: %+v", st)
	}
	replacePerl(t, perl, 3, 3)
	st = waitStatus(t, f, "the next good version", func(st FollowStatus) bool { return st.Imports == 2 })
	if st.Err != nil || st.Last.Generation != 2 {
		t.Errorf("after a good version: %+v", st)
	}
	if got := dataOf(t, db); got != "version 3 record 0" {
		t.Errorf("the database holds %q", got)
	}
}
