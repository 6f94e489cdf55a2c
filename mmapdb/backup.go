package mmapdb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Automatic backups, as SimpleX's store log keeps them: files in a
// directory of their own, each named after the database file with the
// time it was taken as a suffix (trans.mmdb.20261121T080000.000000000Z,
// ISO 8601 in UTC, fixed width, so that the names sort by time).
// WriteBackup writes one, Backups lists them and PruneBackups deletes
// those that a BackupPolicy lets go. A file is only ever taken for a
// backup by its name: others in the directory are left alone.

// BackupPolicy is the layered retention of automatic backups: every
// backup younger than KeepAll stays; of the older ones the KeepMin newest
// stay; of the rest only those older than DeleteAfter are deleted. So a
// database that has not changed for weeks keeps its last backups, and
// one that changes often keeps a day of them. Zero fields take the
// defaults: 24 hours, 3 and 21 days.
type BackupPolicy struct {
	// KeepAll keeps every backup younger than this. Default 24 h.
	KeepAll time.Duration
	// KeepMin keeps at least this many of the backups older than KeepAll.
	// Default 3.
	KeepMin int
	// DeleteAfter: a backup is deleted only when older than this.
	// Default 21 days.
	DeleteAfter time.Duration
}

// BackupFile is an automatic backup found on disk.
type BackupFile struct {
	Path string
	Time time.Time // when it was taken, from the name's suffix
	Size int64     // bytes
}

// backupTimeLayout is the suffix of automatic backup names: ISO 8601 basic
// format in UTC, fixed width, so that names sort by time.
const backupTimeLayout = "20060102T150405.000000000Z"

// backupTempInfix follows the name of a backup in the name of the
// temporary file it is written to: such a name is never a backup's.
const backupTempInfix = ".tmp-"

func (p BackupPolicy) withDefaults() BackupPolicy {
	if p.KeepAll == 0 {
		p.KeepAll = 24 * time.Hour
	}
	if p.KeepMin == 0 {
		p.KeepMin = 3
	}
	if p.DeleteAfter == 0 {
		p.DeleteAfter = 21 * 24 * time.Hour
	}
	return p
}

// backupName returns the name of the automatic backup of the database
// file at dbPath taken at t.
func backupName(dbPath string, t time.Time) string {
	return filepath.Base(dbPath) + "." + t.UTC().Format(backupTimeLayout)
}

// parseBackupName reads a file name in a backup directory: the time of
// the backup of the database file named base that it names, and whether
// it is that backup itself or one of its temporary files; ok is false
// for any other name.
func parseBackupName(base, name string) (t time.Time, temp, ok bool) {
	suffix, found := strings.CutPrefix(name, base+".")
	if !found || len(suffix) < len(backupTimeLayout) {
		return time.Time{}, false, false
	}
	stamp, rest := suffix[:len(backupTimeLayout)], suffix[len(backupTimeLayout):]
	if rest != "" && !strings.HasPrefix(rest, backupTempInfix) {
		return time.Time{}, false, false
	}
	t, err := time.Parse(backupTimeLayout, stamp)
	if err != nil {
		return time.Time{}, false, false
	}
	return t, rest != "", true
}

// Backup writes a consistent copy of the current version to path: a
// temporary file beside it, fsync, verification, rename. The copy is a
// complete database (valid flag set) that Restore, VerifyFile or Open
// take as it is. Its cost is a write and a verification of the whole
// file.
func (db *DB) Backup(path string) error {
	if IsSameFile(path, db.path) {
		return fmt.Errorf("mmapdb: backup to %s: that is the database file itself, which a writer replaces only under its lock", path)
	}
	s, err := db.Snapshot()
	if err != nil {
		return err
	}
	defer s.Release()
	return writeCopy(path, s.Bytes(), db.opts.Mode)
}

// IsSameFile reports whether the paths a and b name one file: the same
// path once absolute and cleaned, or the same existing file through
// links.
func IsSameFile(a, b string) bool {
	x, err1 := filepath.Abs(a)
	y, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && x == y {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// WriteBackup writes data, a whole version of the database file at
// dbPath as Snapshot.Bytes returns it, to dir (empty: the database's
// directory) as the automatic backup taken at t, and returns its path.
// Like Backup it writes a temporary file, named after the backup with
// ".tmp-" and a random suffix, fsyncs and verifies it, and renames it:
// a file with a backup's name is always a whole, verified database. The
// copy has the valid flag set and the permissions of the database file.
// It fails, writing nothing, when data does not verify. Its cost is a
// write and a verification of the whole file.
func WriteBackup(dir, dbPath string, data []byte, t time.Time) (string, error) {
	if dir == "" {
		dir = filepath.Dir(dbPath)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(dbPath); err == nil {
		mode = fi.Mode().Perm()
	}
	path := filepath.Join(dir, backupName(dbPath, t))
	return path, writeCopy(path, data, mode)
}

// writeCopy writes a database image to path atomically, valid flag set,
// through a temporary file beside it, which it verifies before the
// rename. While it writes, it holds a lock on the temporary file, which
// tells PruneBackups that the file is not the remains of a dead writer.
func writeCopy(path string, data []byte, mode os.FileMode) error {
	if len(data) <= validOff {
		return fmt.Errorf("mmapdb: backup to %s: %w: %d bytes are no database", path, ErrCorrupt, len(data))
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+backupTempInfix+"*")
	if err != nil {
		return fmt.Errorf("mmapdb: backup: %w", err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("mmapdb: backup to %s: %w", path, err)
	}
	if err := lockTemp(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	for _, part := range imageParts(data) {
		if _, err := tmp.Write(part); err != nil {
			return fail(err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := VerifyFile(name, nil); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		return fail(err)
	}
	// Closing lets go of the lock, after the rename: the file is no
	// temporary file any more.
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mmapdb: backup to %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("mmapdb: backup to %s: %w", path, err)
	}
	return nil
}

// Restore puts the backup at path in place of the database, like a commit:
// under the lock, through a temporary file and a rename, and the replaced
// version is invalidated so that readers in every process move on. The
// backup is verified first; a corrupt one is refused and nothing changes.
// The restored version gets the next generation, so it is seen as new.
func (db *DB) Restore(path string) error {
	src, err := openVersion(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err) // err names the file and mmapdb
	}
	defer src.release()
	if err := verifyVersion(src); err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	t, err := db.Begin()
	if err != nil {
		return err
	}
	return t.finish(false, func(b *builder, h *header) error {
		if err := b.emit(src.data[headerLen:]); err != nil {
			return err
		}
		h.generation = t.base.Generation() + 1
		h.nextID = max(src.h.nextID, t.base.NextID())
		h.records, h.root, h.ids = src.h.records, src.h.root, src.h.ids
		return b.seal(h)
	})
}

// Backups lists the automatic backups of the database file at dbPath in
// dir (empty: the database's directory), newest first: the regular files
// named as WriteBackup names them. It reads the directory, not the
// files; temporary files and files of other names are left out.
func Backups(dir, dbPath string) ([]BackupFile, error) {
	if dir == "" {
		dir = filepath.Dir(dbPath)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mmapdb: list backups: %w", err)
	}
	base := filepath.Base(dbPath)
	var files []BackupFile
	for _, e := range entries {
		t, temp, ok := parseBackupName(base, e.Name())
		if !ok || temp || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		files = append(files, BackupFile{Path: filepath.Join(dir, e.Name()), Time: t, Size: fi.Size()})
	}
	slices.SortFunc(files, func(a, b BackupFile) int { return b.Time.Compare(a.Time) })
	return files, nil
}

// PruneBackups deletes the automatic backups of the database file at
// dbPath in dir (empty: the database's directory) that the policy p lets
// go at the time now, and returns their paths: of the backups older than
// KeepAll, all but the KeepMin newest that are also older than
// DeleteAfter. It also deletes the temporary files of backups whose
// writers died (no process holds their lock). Files of other names are
// never touched.
func PruneBackups(dir, dbPath string, p BackupPolicy, now time.Time) ([]string, error) {
	if dir == "" {
		dir = filepath.Dir(dbPath)
	}
	removeStaleBackupTemps(dir, filepath.Base(dbPath))
	files, err := Backups(dir, dbPath)
	if err != nil {
		return nil, err
	}
	p = p.withDefaults()
	var removed []string
	kept := 0
	for _, f := range files { // newest first
		age := now.Sub(f.Time)
		if age < p.KeepAll {
			continue
		}
		if kept < p.KeepMin {
			kept++
			continue
		}
		if age <= p.DeleteAfter {
			continue
		}
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("mmapdb: prune backups: %w", err)
		}
		removed = append(removed, f.Path)
	}
	return removed, nil
}

// removeStaleBackupTemps deletes the temporary files of backups of the
// database file named base in dir whose writers died before renaming
// them: those on which no process holds the writer's lock.
func removeStaleBackupTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if _, temp, ok := parseBackupName(base, e.Name()); ok && temp && e.Type().IsRegular() {
			removeIfUnlocked(filepath.Join(dir, e.Name()))
		}
	}
}
