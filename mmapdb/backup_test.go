package mmapdb

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// snapshotBytes calls fn with the bytes of the current version of db.
func snapshotBytes(t *testing.T, db *DB, fn func(data []byte)) {
	t.Helper()
	current(t, db, func(s *Snapshot) { fn(s.Bytes()) })
}

func TestWriteBackupNamesTheCopyByTheTimeItWasTaken(t *testing.T) {
	db, path := openTemp(t, &Options{Mode: 0o640})
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 21, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	var want []BackupFile
	for i := range 3 {
		update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
		at := t0.Add(time.Duration(i)*time.Hour + time.Duration(i)) // nanoseconds count
		snapshotBytes(t, db, func(data []byte) {
			p, err := WriteBackup(dir, path, data, at)
			if err != nil {
				t.Fatal(err)
			}
			want = append([]BackupFile{{Path: p, Time: at.UTC(), Size: int64(len(data))}}, want...)
		})
	}
	if got := filepath.Base(want[2].Path); got != "test.mmdb.20261121T070000.000000000Z" {
		t.Fatalf("backup name %s, want test.mmdb.20261121T070000.000000000Z (UTC)", got)
	}
	files, err := Backups(dir, path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, want) {
		t.Fatalf("Backups = %v\nwant newest first %v", files, want)
	}
	for i, f := range files {
		if err := VerifyFile(f.Path, nil); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("%s has mode %v, want the database's 0640", f.Path, fi.Mode().Perm())
		}
		b, err := Open(f.Path, &Options{ReadOnly: true, CheckInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		current(t, b, func(s *Snapshot) {
			if wantGen := uint64(3 - i); s.Generation() != wantGen || s.Superseded() {
				t.Errorf("%s holds generation %d (superseded %v), want %d", f.Path, s.Generation(), s.Superseded(), wantGen)
			}
		})
		b.Close()
	}
}

func TestWriteBackupOfASupersededVersionIsValid(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v1") })
	s, err := db.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v2") })
	if !s.Superseded() {
		t.Fatal("the pinned version was not superseded")
	}
	p, err := WriteBackup("", path, s.Bytes(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p) != filepath.Dir(path) {
		t.Errorf("backup %s not in the database's directory", p)
	}
	if err := db.Restore(p); err != nil {
		t.Fatalf("restore of the backup of a superseded version: %v", err)
	}
}

func TestWriteBackupRefusesDataThatDoesNotVerify(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "value") })
	dir := t.TempDir()
	snapshotBytes(t, db, func(data []byte) {
		bad := bytes.Clone(data)
		bad[len(bad)-3] ^= 0x10
		for _, d := range [][]byte{bad, bad[:len(bad)/2], nil} {
			if _, err := WriteBackup(dir, path, d, time.Now()); !errors.Is(err, ErrCorrupt) {
				t.Errorf("backup of %d damaged bytes: %v, want ErrCorrupt", len(d), err)
			}
		}
	})
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("a refused backup left %v", left)
	}
}

// backupsAged writes a backup of db for each age, taken that long before
// now, and returns the paths by age.
func backupsAged(t *testing.T, db *DB, dir string, now time.Time, ages ...time.Duration) map[string]time.Duration {
	t.Helper()
	byPath := map[string]time.Duration{}
	snapshotBytes(t, db, func(data []byte) {
		for _, age := range ages {
			p, err := WriteBackup(dir, db.Path(), data, now.Add(-age))
			if err != nil {
				t.Fatal(err)
			}
			byPath[p] = age
		}
	})
	return byPath
}

func TestPruneKeepsBackupsInLayers(t *testing.T) {
	const h, day = time.Hour, 24 * time.Hour
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		ages    []time.Duration
		deleted []time.Duration
	}{
		{"young ones stay, of the old the 3 newest, and those younger than 21 days",
			[]time.Duration{h, 23 * h, 2 * day, 3 * day, 4 * day, 5 * day, 22 * day, 40 * day},
			[]time.Duration{22 * day, 40 * day}},
		{"exactly 24 hours old is old",
			[]time.Duration{24 * h, 30 * day, 31 * day, 32 * day},
			[]time.Duration{32 * day}},
		{"a nanosecond less than 24 hours is young",
			[]time.Duration{24*h - 1, 30 * day, 31 * day, 32 * day},
			nil},
		{"exactly 21 days old is not deleted",
			[]time.Duration{1 * day, 2 * day, 3 * day, 21 * day},
			nil},
		{"a nanosecond more than 21 days is deleted",
			[]time.Duration{1 * day, 2 * day, 3 * day, 21*day + 1},
			[]time.Duration{21*day + 1}},
		{"fewer than 3 old backups all stay, however old",
			[]time.Duration{h, 100 * day, 200 * day},
			nil},
		{"3 old backups all stay",
			[]time.Duration{100 * day, 200 * day, 300 * day},
			nil},
		{"many young ones do not count towards the 3 old ones",
			append(youngAges(50), 30*day, 31*day, 32*day, 33*day, 34*day),
			[]time.Duration{33 * day, 34 * day}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, path := openTemp(t, nil)
			update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
			dir := t.TempDir()
			byPath := backupsAged(t, db, dir, now, tt.ages...)
			removed, err := PruneBackups(dir, path, BackupPolicy{}, now)
			if err != nil {
				t.Fatal(err)
			}
			var gone []time.Duration
			for _, p := range removed {
				gone = append(gone, byPath[p])
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("pruned %s is still there: %v", p, err)
				}
			}
			slices.Sort(gone)
			if !slices.Equal(gone, tt.deleted) {
				t.Fatalf("pruned the backups aged %v, want %v", gone, tt.deleted)
			}
			left, err := Backups(dir, path)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != len(tt.ages)-len(tt.deleted) {
				t.Fatalf("%d backups left, want %d", len(left), len(tt.ages)-len(tt.deleted))
			}
		})
	}
}

// youngAges returns n ages under 24 hours.
func youngAges(n int) []time.Duration {
	ages := make([]time.Duration, n)
	for i := range ages {
		ages[i] = time.Duration(i) * 24 * time.Hour / time.Duration(n)
	}
	return ages
}

func TestPruneAsTimePassesKeepsTheNewestThree(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	dir := t.TempDir()
	backupsAged(t, db, dir, now, 0, time.Hour, 2*time.Hour, 3*time.Hour, 4*time.Hour)
	for _, later := range []time.Duration{0, 23 * time.Hour, 25 * time.Hour, 40 * 24 * time.Hour, 400 * 24 * time.Hour} {
		if _, err := PruneBackups(dir, path, BackupPolicy{}, now.Add(later)); err != nil {
			t.Fatal(err)
		}
		left, _ := Backups(dir, path)
		want := 5
		if later > 21*24*time.Hour+4*time.Hour {
			want = 3 // all old: the 3 newest stay
		}
		if len(left) != want {
			t.Fatalf("%v later: %d backups left, want %d", later, len(left), want)
		}
	}
}

func TestPrunePolicyIsConfigurable(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	dir := t.TempDir()
	backupsAged(t, db, dir, now, 30*time.Minute, 90*time.Minute, 3*time.Hour, 4*time.Hour)
	pol := BackupPolicy{KeepAll: time.Hour, KeepMin: 1, DeleteAfter: 2 * time.Hour}
	removed, err := PruneBackups(dir, path, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	// 30m: young; 90m: the one newest of the rest; 3h, 4h: older than 2h.
	if len(removed) != 2 {
		t.Fatalf("removed %v, want the 3h and 4h backups", removed)
	}
}

func TestPruneTouchesNoFileButItsOwnBackups(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	dir := t.TempDir()
	old := now.Add(-100 * 24 * time.Hour).UTC().Format(backupTimeLayout)
	foreign := []string{
		"test.mmdb",                            // a database of that name
		"test.mmdb.notatimestamp",              // not a timestamp
		"test.mmdb." + old + ".bak",            // more after the timestamp
		"test.mmdb." + old[:len(old)-1],        // a timestamp cut short
		"test.mmdb.20261399T000000.000000000Z", // no date
		"other.mmdb." + old,                    // another database's backup
		"xtest.mmdb." + old,                    // another database's backup
		"README",
	}
	for _, name := range foreign {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A directory named like a backup is no backup either.
	if err := os.Mkdir(filepath.Join(dir, "test.mmdb."+now.Add(-200*24*time.Hour).UTC().Format(backupTimeLayout)), 0o755); err != nil {
		t.Fatal(err)
	}
	foreign = append(foreign, "test.mmdb."+now.Add(-200*24*time.Hour).UTC().Format(backupTimeLayout))
	backupsAged(t, db, dir, now, 50*24*time.Hour, 60*24*time.Hour, 70*24*time.Hour, 80*24*time.Hour)

	removed, err := PruneBackups(dir, path, BackupPolicy{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || !strings.HasSuffix(removed[0], now.Add(-80*24*time.Hour).Format(backupTimeLayout)) {
		t.Fatalf("pruned %v, want the backup 80 days old", removed)
	}
	for _, name := range foreign {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("prune touched %s: %v", name, err)
		}
	}
	files, _ := Backups(dir, path)
	if len(files) != 3 {
		t.Errorf("Backups lists %v, want the 3 backups left", files)
	}
}

func TestPruneRemovesTheTempFilesOfDeadBackupWritersOnly(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	dir := t.TempDir()
	name := backupName(path, time.Now())
	dead := filepath.Join(dir, name+".tmp-123")
	if err := os.WriteFile(dead, []byte("half a copy"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A writer at work holds the lock on its temporary file.
	live, err := os.CreateTemp(dir, name+backupTempInfix+"*")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := lockTemp(live); err != nil {
		t.Fatal(err)
	}
	if files, _ := Backups(dir, path); len(files) != 0 {
		t.Fatalf("temporary files listed as backups: %v", files)
	}
	if _, err := PruneBackups(dir, path, BackupPolicy{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dead writer's %s survived: %v", dead, err)
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Errorf("the live writer's temporary file was removed: %v", err)
	}
}

func TestBeginRemovesStaleTempsOfDeadWriters(t *testing.T) {
	db, path := openTemp(t, nil)
	stale := path + ".tmp-123456" // a commit's temporary file
	if err := os.WriteFile(stale, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v") })
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale %s survived Begin: %v", stale, err)
	}
}
