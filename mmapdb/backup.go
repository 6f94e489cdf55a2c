package mmapdb

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// BackupPolicy configures automatic backups: before each commit the version
// being replaced is copied to <Dir>/<file>.<timestamp>, and old backups are
// pruned in layers: all younger than KeepAll stay; of the older ones the
// KeepMin newest stay; of the rest only those older than DeleteAfter are
// deleted. Zero fields take the defaults (24 h, 3, 21 days).
type BackupPolicy struct {
	// Dir is where backups go; empty means the database's directory.
	Dir string
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
	Time time.Time // from the name's ISO 8601 suffix
}

// backupTimeLayout is the suffix of automatic backup names: ISO 8601 basic
// format in UTC, fixed width, so that names sort by time.
const backupTimeLayout = "20060102T150405.000000000Z"

func (p BackupPolicy) withDefaults(dbPath string) BackupPolicy {
	if p.Dir == "" {
		p.Dir = filepath.Dir(dbPath)
	}
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

// Backup writes a consistent copy of the current version to path: a
// temporary file beside it, fsync, rename. The copy is a complete database
// (valid flag set) that Restore, VerifyFile or Open take as it is.
func (db *DB) Backup(path string) error {
	s, err := db.Snapshot()
	if err != nil {
		return err
	}
	defer s.Release()
	return writeCopy(path, filepath.Base(path)+".tmp-", s.Bytes(), db.opts.Mode)
}

// writeCopy writes a database image to path atomically, valid flag set,
// through a temporary file named tmpPrefix* beside it.
func writeCopy(path, tmpPrefix string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("mmapdb: backup: %w", err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("mmapdb: backup to %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	for _, part := range [][]byte{data[:validOff], {mpTrue}, data[validOff+1:]} {
		if _, err := tmp.Write(part); err != nil {
			return fail(err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
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
		h.nextID = max(src.h.nextID, t.base.nextID())
		h.records, h.root, h.ids = src.h.records, src.h.root, src.h.ids
		return b.seal(h)
	})
}

// autoBackup copies the version about to be replaced to a timestamped
// backup and prunes old backups.
func (db *DB) autoBackup(s *Snapshot) error {
	p := db.opts.Backups.withDefaults(db.path)
	name := filepath.Join(p.Dir, filepath.Base(db.path)+"."+db.now().UTC().Format(backupTimeLayout))
	// The temporary file is named like a commit's, so that the next
	// writer removes it should this one die while copying.
	if err := writeCopy(name, tempPrefix(db.path), s.Bytes(), db.opts.Mode); err != nil {
		return err
	}
	_, err := db.PruneBackups()
	return err
}

// Backups lists the automatic backups of the database, newest first.
func (db *DB) Backups() ([]BackupFile, error) {
	p := BackupPolicy{}
	if db.opts.Backups != nil {
		p = *db.opts.Backups
	}
	p = p.withDefaults(db.path)
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return nil, fmt.Errorf("mmapdb: list backups: %w", err)
	}
	prefix := filepath.Base(db.path) + "."
	var files []BackupFile
	for _, e := range entries {
		name := e.Name()
		suffix, ok := strings.CutPrefix(name, prefix)
		if !ok || len(suffix) != len(backupTimeLayout) || !e.Type().IsRegular() {
			continue
		}
		ts, err := time.Parse(backupTimeLayout, suffix)
		if err != nil {
			continue
		}
		files = append(files, BackupFile{Path: filepath.Join(p.Dir, name), Time: ts})
	}
	slices.SortFunc(files, func(a, b BackupFile) int { return b.Time.Compare(a.Time) })
	return files, nil
}

// PruneBackups deletes the automatic backups the policy lets go and
// returns their paths: of the backups older than KeepAll, all but the
// KeepMin newest that are also older than DeleteAfter.
func (db *DB) PruneBackups() ([]string, error) {
	p := BackupPolicy{}
	if db.opts.Backups != nil {
		p = *db.opts.Backups
	}
	p = p.withDefaults(db.path)
	files, err := db.Backups()
	if err != nil {
		return nil, err
	}
	now := db.now()
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
		if err := os.Remove(f.Path); err != nil {
			return removed, fmt.Errorf("mmapdb: prune backups: %w", err)
		}
		removed = append(removed, f.Path)
	}
	return removed, nil
}
