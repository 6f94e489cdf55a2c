package translation

import (
	"fmt"
	"io"
)

// LoadOptions configure Provider.Load.
type LoadOptions struct {
	// Format of the input; empty means FormatText.
	Format Format

	// Clear deletes the table before loading, so that the input
	// replaces it; otherwise the input is added to it. An input without
	// records does not replace the table: see AllowEmpty.
	Clear bool

	// AllowEmpty lets a load with Clear go ahead when the input holds no
	// records, emptying the table. Without it such a load is refused with
	// ErrEmptyLoad, unless the input's dump comment says records=0 (as a
	// dump of an empty table does): an empty input is more often a failed
	// export or the wrong file than a wish to delete everything. Use it
	// only where an empty input is meant, not as a default.
	AllowEmpty bool

	// ExpectGeneration, when set, is the generation the database must
	// still have when the load begins, typically the one in the header
	// of the dump the input was edited from; a database that has moved
	// on refuses the load with ErrGenerationMismatch. The generation in
	// the input itself is informational and never checked.
	ExpectGeneration *uint64
}

// Load reads a table in a text format from r and inserts its records in
// one transaction of its own: all of them are committed or, on any
// error, none. IDs in the input are ignored; the records get new ones.
// It returns the generation of the committed version and the number of
// records loaded.
//
// Like Update, Load waits for a transaction open on the file in this
// process to end. It fails with ErrReadOnly on a read-only provider,
// with an error wrapping ErrFormat (a *ParseError) on malformed input,
// including a dump that holds fewer or more records than its dump
// comment declares, with
// ErrGenerationMismatch when opts.ExpectGeneration is set and the
// database has another generation, and with ErrEmptyLoad when
// opts.Clear is set and the input holds no records (see CheckLoad).
func (p *Provider) Load(r io.Reader, opts LoadOptions) (generation uint64, records int, err error) {
	if p.readOnly {
		return 0, 0, fmt.Errorf("translation: load into %s: %w", p.path, ErrReadOnly)
	}
	f := opts.Format
	if f == "" {
		f = FormatText
	}
	rd, err := NewReader(r, f)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	gen, err := p.Update(func(t *Txn) (err error) {
		n, err = t.load(rd, opts)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return gen, n, nil
}

// load applies the options and inserts the records of rd.
func (t *Txn) load(rd Reader, opts LoadOptions) (int, error) {
	if want := opts.ExpectGeneration; want != nil {
		if have := t.Generation(); have != *want {
			return 0, fmt.Errorf("translation: load into %s: input is for generation %d, the database is at %d: %w",
				t.p.path, *want, have, ErrGenerationMismatch)
		}
	}
	if opts.Clear {
		if _, err := t.Clear(); err != nil {
			return 0, err
		}
	}
	n, err := t.Append(ReaderSource(rd), false)
	if err != nil {
		return 0, err
	}
	if err := checkLoad(rd, n, opts); err != nil {
		return 0, fmt.Errorf("translation: load into %s: %w", t.p.path, err)
	}
	return n, nil
}

// CheckLoad applies the rule for loads of an input without records to
// a table read from rd, records being the number of records read (all
// of them: call it after Next returned io.EOF). A load with opts.Clear
// and no records would empty the table; CheckLoad refuses it with an
// error wrapping ErrEmptyLoad unless the input's dump comment says
// records=0 or opts.AllowEmpty is set. Without Clear, and with records,
// it returns nil. Provider.Load applies it; code that reads a table
// itself before loading it, as a server does, calls it to apply the
// same rule.
func CheckLoad(rd Reader, records int, opts LoadOptions) error {
	if err := checkLoad(rd, records, opts); err != nil {
		return fmt.Errorf("translation: %w", err)
	}
	return nil
}

// checkLoad is CheckLoad without the package prefix.
func checkLoad(rd Reader, records int, opts LoadOptions) error {
	if !opts.Clear || records > 0 || opts.AllowEmpty {
		return nil
	}
	if n, ok := rd.Records(); ok && n == 0 {
		return nil
	}
	return fmt.Errorf("%w (the input does not declare records=0)", ErrEmptyLoad)
}

// Dump writes the table of the newest version to w in format f; see
// Snapshot.Dump.
func (p *Provider) Dump(w io.Writer, f Format) error {
	s, err := p.Snapshot()
	if err != nil {
		return err
	}
	defer s.Release()
	return s.Dump(w, f)
}

// Dump writes every record of the snapshot to w in format f, ordered by
// key, uri, block and order. The text and file formats start with the
// line "# transdb dump generation=G records=N", N being the number of
// actions. Loading a text or jsonl dump into an empty table and dumping
// that again gives the same bytes when the IDs of the first table were
// assigned in dump order; the file format has no notes.
func (s *Snapshot) Dump(w io.Writer, f Format) error {
	n, err := s.Records()
	if err != nil {
		return err
	}
	tw, err := NewWriter(w, f, s.Generation(), n)
	if err != nil {
		return err
	}
	for rec, err := range s.Iterator() {
		if err != nil {
			return err
		}
		if err := tw.Write(rec); err != nil {
			return err
		}
	}
	return tw.Close()
}
