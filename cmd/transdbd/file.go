package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"transdb/mmapdb"
)

// The commands on whole database files: they work on every base key in
// the file at once, through package mmapdb.

// openDB opens the database file at path, which must exist unless the
// DB is opened for writing. The DB does not watch the file for
// replacements: a command is over before that matters.
func openDB(path string, readOnly bool) (*mmapdb.DB, error) {
	if err := checkFile(path, !readOnly); err != nil {
		return nil, err
	}
	db, err := mmapdb.Open(path, &mmapdb.Options{ReadOnly: readOnly, CheckInterval: -1})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// missing reports whether there is no file at path, which a command
// writing to it would create.
func missing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// removeUnused removes the database file at path, which a command that
// failed has just created: a refused load or import leaves no file
// behind. It does so under the file's lock and only while the file is
// the empty version that was created (generation 0), so that a writer
// that committed to it meanwhile keeps its work. The lock file stays:
// another writer may be waiting on it.
func removeUnused(path string) {
	db, err := mmapdb.Open(path, &mmapdb.Options{CheckInterval: -1})
	if err != nil {
		return
	}
	defer db.Close()
	txn, err := db.Begin()
	if err != nil {
		return
	}
	defer txn.Rollback()
	if txn.Base().Generation() == 0 {
		os.Remove(path)
	}
}

// file returns the database file the flags name.
func (f *dbFlags) file() (string, error) {
	t, err := f.target()
	return t.path, err
}

func runBackup(e *env, args []string) int {
	c := newCLI(e, "backup", "-db FILE|-config FILE [-basekey ...] [PATH]", `
Writes a consistent copy of the current version of FILE to PATH (default
FILE.BACKUP), through a temporary file and a rename, so that PATH is always
a complete database. Writers may go on meanwhile. It prints the path and
the generation copied.`)
	f := c.fileFlags()
	pos, code, ok := c.parse(args, 0, 1)
	if !ok {
		return code
	}
	db, err := f.file()
	if err != nil {
		return c.fail(err)
	}
	path := db + ".BACKUP"
	if len(pos) == 1 {
		path = pos[0]
	}
	d, err := openDB(db, true)
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	if err := d.Backup(path); err != nil {
		return c.fail(err)
	}
	gen, err := fileGeneration(path)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(e.stdout, "backup %s generation=%d\n", path, gen)
	return exitOK
}

func runBackups(e *env, args []string) int {
	c := newCLI(e, "backups", "-db FILE -dir DIR | -config FILE [-basekey ...] [-dir DIR]", `
Lists the automatic backups of FILE in DIR, newest first, one a line: the
path, the generation it holds, the time it was taken (RFC 3339, UTC) and
its size in bytes. They are the files that transdbd serve writes with
BackupDir, named FILE.<UTC time>; other files in DIR are not listed, and
neither are the temporary files of backups still being written or of
writers that died. With -config, DIR defaults to the BackupDir of the
provider. "transdbd restore -db FILE PATH" puts one back. A listed file
whose header cannot be read is reported on standard error, and the exit
status is 1.`)
	f := c.fileFlags()
	dir := c.fs.String("dir", "", "the `DIR` of the backups (required with -db; with -config, default the BackupDir of the provider)")
	c.checks = append(c.checks, func() error {
		if f.db != "" && *dir == "" {
			return errors.New("-dir DIR is required with -db")
		}
		return nil
	})
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	t, err := f.target()
	if err != nil {
		return c.fail(err)
	}
	if *dir == "" {
		if t.backups == nil {
			return c.fail(fmt.Errorf("%s configures no BackupDir for %s: give -dir", f.config, t.path))
		}
		*dir = t.backups.Dir
	}
	files, err := mmapdb.Backups(*dir, t.path)
	if err != nil {
		return c.fail(err)
	}
	code := exitOK
	for _, b := range files {
		gen, err := fileGeneration(b.Path)
		if err != nil {
			code = c.fail(err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s generation=%d time=%s bytes=%d\n", b.Path, gen, b.Time.UTC().Format(time.RFC3339Nano), b.Size)
	}
	return code
}

// fileGeneration returns the generation of the database file at path.
func fileGeneration(path string) (uint64, error) {
	d, err := openDB(path, true)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	s, err := d.Snapshot()
	if err != nil {
		return 0, err
	}
	defer s.Release()
	return s.Generation(), nil
}

func runRestore(e *env, args []string) int {
	c := newCLI(e, "restore", "-db FILE|-config FILE [-basekey ...] PATH", `
Puts the backup at PATH in place of FILE, as a commit does: under the lock,
through a temporary file and a rename, so that readers in every process,
transdbd serve included, move to it. The backup is verified first; a
corrupt one is refused and FILE is left alone. The restored version gets
the next generation, so readers see it as new; it prints that generation.`)
	f := c.fileFlags()
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	db, err := f.file()
	if err != nil {
		return c.fail(err)
	}
	if err := checkFile(pos[0], false); err != nil {
		return c.fail(err)
	}
	d, err := openDB(db, false)
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	if err := d.Restore(pos[0]); err != nil {
		return c.fail(err)
	}
	s, err := d.Snapshot()
	if err != nil {
		return c.fail(err)
	}
	defer s.Release()
	fmt.Fprintf(e.stdout, "restored %s generation=%d\n", db, s.Generation())
	return exitOK
}

func runVerify(e *env, args []string) int {
	c := newCLI(e, "verify", "-db FILE|-config FILE [-basekey ...]", `
Checks the current version of FILE completely: both checksums, then a walk
of the whole structure, every index, leaf and record, and the ID index.
Its cost is linear in the size of the file; on a terminal it shows its
progress. It prints what it checked, or fails naming what is wrong.`)
	f := c.fileFlags()
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	db, err := f.file()
	if err != nil {
		return c.fail(err)
	}
	d, err := openDB(db, true)
	if err != nil {
		return c.fail(err)
	}
	defer d.Close()
	s, err := d.Snapshot()
	if err != nil {
		return c.fail(err)
	}
	defer s.Release()
	prog := newProgress(e, "verifying")
	err = s.Verify(func(done, total uint64) { prog.count(done, total, "stored records") })
	prog.done()
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", db, err))
	}
	fmt.Fprintf(e.stdout, "%s: ok, format=%d generation=%d stored_records=%d bytes=%d\n",
		db, s.FormatVersion(), s.Generation(), s.Len(), s.Size())
	return exitOK
}
