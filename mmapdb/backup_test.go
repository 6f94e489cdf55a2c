package mmapdb

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestBackupAndRestoreAsANewVersion(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k/u", "1", "v1") })
	backup := filepath.Join(t.TempDir(), "trans.mmdb.BACKUP")
	if err := db.Backup(backup); err != nil {
		t.Fatal(err)
	}
	if err := VerifyFile(backup, nil); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *Txn) {
		if err := tx.Clear(); err != nil {
			t.Fatal(err)
		}
		mustInsert(t, tx, "k/u", "2", "v2")
	})
	reader, err := Open(path, &Options{ReadOnly: true, CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	pinned, err := reader.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer pinned.Release()

	if err := db.Restore(backup); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*DB{db, reader} {
		current(t, d, func(s *Snapshot) {
			if s.Generation() != 3 {
				t.Fatalf("restored generation %d, want 3 (a new version)", s.Generation())
			}
			if got := dumpAll(t, s); !slices.Equal(got, []string{"k/u 1=v1 #1"}) {
				t.Fatalf("restored content %q", got)
			}
			if err := s.Verify(nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	if !pinned.Superseded() {
		t.Fatal("restore did not invalidate the replaced version")
	}
	update(t, db, func(tx *Txn) {
		if id := mustInsert(t, tx, "k/u", "3", "v3"); id != 3 {
			t.Fatalf("id after restore = %d, want 3 (ids never reused)", id)
		}
	})
}

func TestRestoreRefusesCorruptBackup(t *testing.T) {
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v1") })
	backup := filepath.Join(t.TempDir(), "b")
	if err := db.Backup(backup); err != nil {
		t.Fatal(err)
	}
	b := mustRead(t, backup)
	b[len(b)-3] ^= 0x10
	if err := os.WriteFile(backup, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.Restore(backup); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("restore of a corrupt backup: %v, want ErrCorrupt", err)
	}
	if err := db.Restore(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("restore of a missing backup: %v", err)
	}
	current(t, db, func(s *Snapshot) {
		if s.Generation() != 1 {
			t.Fatalf("a refused restore changed the database: generation %d", s.Generation())
		}
	})
}

// clock is a controllable time source.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestCommitWritesTimestampedBackupOfReplacedVersion(t *testing.T) {
	c := &clock{now: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)}
	db, path := openTemp(t, &Options{Backups: &BackupPolicy{}})
	db.now = c.Now
	for i := range 3 {
		c.now = c.now.Add(time.Hour)
		update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
		_ = i
	}
	files, err := db.Backups()
	if err != nil {
		t.Fatal(err)
	}
	// The first Begin created generation 0; each commit backs up the
	// version it replaces: generations 0, 1, 2.
	if len(files) != 3 {
		t.Fatalf("%d backups, want 3: %v", len(files), files)
	}
	for i, f := range files {
		wantGen := uint64(2 - i)
		wantTime := c.now.Add(-time.Duration(i) * time.Hour)
		if !f.Time.Equal(wantTime) || filepath.Base(f.Path) != filepath.Base(path)+"."+wantTime.Format(backupTimeLayout) {
			t.Fatalf("backup %d: %s at %v, want time %v", i, f.Path, f.Time, wantTime)
		}
		b, err := Open(f.Path, &Options{ReadOnly: true, CheckInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		current(t, b, func(s *Snapshot) {
			if s.Generation() != wantGen || s.Superseded() {
				t.Fatalf("backup %s holds generation %d (superseded %v), want %d", f.Path, s.Generation(), s.Superseded(), wantGen)
			}
		})
		b.Close()
	}
}

func TestPruneKeepsBackupsInLayers(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	db, path := openTemp(t, &Options{Backups: &BackupPolicy{}})
	db.now = func() time.Time { return now }
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	ages := map[string]time.Duration{
		"1h": time.Hour, "23h": 23 * time.Hour, // younger than 24 h: kept
		"2d": 48 * time.Hour, "3d": 72 * time.Hour, "4d": 96 * time.Hour, // the 3 newest of the rest: kept
		"5d":  120 * time.Hour,     // younger than 21 days: kept
		"22d": 22 * 24 * time.Hour, // older than 21 days: deleted
		"40d": 40 * 24 * time.Hour, // deleted
	}
	byPath := map[string]string{}
	for name, age := range ages {
		p := path + "." + now.Add(-age).Format(backupTimeLayout)
		if err := db.Backup(p); err != nil {
			t.Fatal(err)
		}
		byPath[p] = name
	}
	unrelated := path + ".notatimestamp"
	if err := os.WriteFile(unrelated, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := db.PruneBackups()
	if err != nil {
		t.Fatal(err)
	}
	var gone []string
	for _, p := range removed {
		gone = append(gone, byPath[p])
	}
	slices.Sort(gone)
	if !slices.Equal(gone, []string{"22d", "40d"}) {
		t.Fatalf("pruned %q, want 22d and 40d", gone)
	}
	if _, err := os.Stat(unrelated); err != nil {
		t.Fatalf("prune touched an unrelated file: %v", err)
	}
	left, _ := db.Backups()
	if len(left) != 7 { // six of the above and the commit's own
		t.Fatalf("%d backups left, want 7", len(left))
	}

	// Much later every backup is old: the 3 newest stay all the same.
	now = now.Add(60 * 24 * time.Hour)
	removed, err = db.PruneBackups()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 4 {
		t.Fatalf("after 60 more days pruned %d, want all but the 3 newest (4)", len(removed))
	}
}

func TestPrunePolicyIsConfigurable(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	pol := &BackupPolicy{Dir: dir, KeepAll: time.Hour, KeepMin: 1, DeleteAfter: 2 * time.Hour}
	db, _ := openTemp(t, &Options{Backups: pol})
	db.now = func() time.Time { return now }
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	for _, age := range []time.Duration{30 * time.Minute, 90 * time.Minute, 3 * time.Hour, 4 * time.Hour} {
		p := filepath.Join(dir, filepath.Base(db.Path())+"."+now.Add(-age).Format(backupTimeLayout))
		if err := db.Backup(p); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := db.PruneBackups()
	if err != nil {
		t.Fatal(err)
	}
	// 30m: young; 90m: the one newest of the rest; 3h, 4h: older than 2h.
	if len(removed) != 2 {
		t.Fatalf("removed %v, want the 3h and 4h backups", removed)
	}
}

func TestBeginRemovesStaleTempsOfDeadWriters(t *testing.T) {
	backupDir := t.TempDir()
	db, path := openTemp(t, &Options{Backups: &BackupPolicy{Dir: backupDir}})
	stale := []string{
		path + ".tmp-123456", // a commit's temporary file
		filepath.Join(backupDir, filepath.Base(path)+".tmp-9"), // an automatic backup's
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("stale %s survived Begin: %v", p, err)
		}
	}
}
