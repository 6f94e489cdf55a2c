package main

import (
	"errors"
	"fmt"
	"time"

	"transdb/mmapdb"
	"transdb/perlmmapdb"
)

// The commands that move a whole database between transdb and the files
// of the Perl module MMapDB, in which Apache2::Translation::MMapDB keeps
// its tables.

func runImport(e *env, args []string) int {
	c := newCLI(e, "import", "-db FILE|-config FILE [-basekey ...] PERLFILE", `
Replaces the content of FILE with the records of PERLFILE, a database of
the Perl module MMapDB (as Apache2::Translation::MMapDB writes them, in
any of its formats): every record of every base key, with its keys, sort
string, data bytes and ID, and the next ID of PERLFILE, so that the IDs
of the Perl provider stay valid. Since the IDs are kept, whatever FILE
held before is replaced, not added to: FILE then holds exactly what
PERLFILE holds. FILE is created when it does not exist.

PERLFILE is checked completely first; a corrupt one is refused and FILE
is left alone, or not created. A superseded one (which the Perl module
replaced, and marked by zeroing its byte 4) is opened again a few times,
as the module does, to get the new version. The import is one transaction: readers of
FILE see the old or the new version, never a part. The new version is
verified, and the command prints the number of records, the next ID and
the generation committed.`)
	f := c.fileFlags()
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	path, err := f.file()
	if err != nil {
		return c.fail(err)
	}
	pf, err := openPerlFile(pos[0])
	if err != nil {
		return c.fail(err)
	}
	defer pf.Close()
	created := missing(path)
	db, err := openDB(path, false)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	res, err := perlmmapdb.Import(db, pf)
	if err != nil {
		if created {
			removeUnused(path)
		}
		return c.fail(err)
	}
	s, err := db.Snapshot()
	if err != nil {
		return c.fail(err)
	}
	defer s.Release()
	prog := newProgress(e, "verifying")
	err = s.Verify(func(done, total uint64) { prog.count(done, total, "stored records") })
	prog.done()
	if err != nil {
		return c.fail(fmt.Errorf("%s: the imported version: %w", path, err))
	}
	fmt.Fprintf(e.stdout, "imported records=%d next_id=%d generation=%d\n", res.Records, res.NextID, res.Generation)
	return exitOK
}

// openPerlFile opens the Perl MMapDB file at path. Like the Perl module,
// it tries again for half a second while the file at the path is a
// superseded one: its writer has just renamed the new one over it.
func openPerlFile(path string) (*perlmmapdb.File, error) {
	for attempt := 1; ; attempt++ {
		f, err := perlmmapdb.Open(path)
		if !errors.Is(err, perlmmapdb.ErrSuperseded) || attempt == 5 {
			return f, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func runExport(e *env, args []string) int {
	c := newCLI(e, "export", "-db FILE|-config FILE [-basekey ...] [-intfmt N|L|J|Q] OUT", `
Writes the newest version of FILE, every record of every base key, to OUT
as a database of the Perl module MMapDB (format MMDC), which the module
and Apache2::Translation::MMapDB read with the same records, IDs and next
ID: the way back after "transdbd import". OUT is replaced as the Perl
module's commit replaces it: under the lock OUT.lock that the writers of
Apache2::Translation::MMapDB take, through a temporary file renamed into
place, and, when OUT was a Perl MMapDB file, with byte 4 of the old file
zeroed, so that Perl readers that have it open move to the new one at
their next lookup.

-intfmt chooses the integer format: N (the default, and the module's:
4-byte big-endian, readable everywhere), L (4-byte), J or Q (8-byte), the
last three little-endian as a perl on an x86 machine writes them. It
prints the number of records written.`)
	f := c.fileFlags()
	intfmt := perlmmapdb.IntN
	c.fs.Func("intfmt", "the integer format `N|L|J|Q` of OUT (default N)", func(s string) error {
		switch s {
		case "N", "L", "J", "Q":
			intfmt = s[0]
			return nil
		}
		return errors.New("want N, L, J or Q")
	})
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	path, err := f.file()
	if err != nil {
		return c.fail(err)
	}
	if mmapdb.IsSameFile(pos[0], path) {
		return c.fail(fmt.Errorf("export to %s: that is the database file itself; export writes a Perl file", pos[0]))
	}
	db, err := openDB(path, true)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	var n int
	err = db.View(func(s *mmapdb.Snapshot) error {
		var err error
		n, err = perlmmapdb.Export(s, pos[0], perlmmapdb.ExportOptions{IntFormat: intfmt})
		return err
	})
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(e.stdout, "exported records=%d intfmt=%c to %s\n", n, intfmt, pos[0])
	return exitOK
}
