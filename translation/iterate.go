package translation

import (
	"cmp"
	"errors"
	"io"
	"iter"
	"slices"

	"transdb/mmapdb"
)

// A Source is anything that yields records: a Provider, a Snapshot, or a
// table in one of the text formats through ReaderSource. Append copies
// a Source into a provider and Diff compares two of them.
type Source interface {
	// Iterator yields the records, or an error as the last element.
	Iterator() iter.Seq2[Record, error]
}

// orderedSource is a Source whose records come ordered by key, uri,
// block and order, which lets Diff compare it as a stream, and that can
// restrict its walk to a filter.
type orderedSource interface {
	Source
	filtered(Filter) iter.Seq2[Record, error]
}

// Iterator yields every record of the version that is newest when the
// iteration starts, ordered by key, uri, block and order, each with its
// note and ID. The version stays pinned until the loop ends. On a
// corrupt or unreadable database it yields one error and stops.
func (p *Provider) Iterator() iter.Seq2[Record, error] { return p.filtered(Filter{}) }

func (p *Provider) filtered(f Filter) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		s, err := p.Snapshot()
		if err != nil {
			yield(Record{}, err)
			return
		}
		defer s.Release()
		s.filtered(f)(yield)
	}
}

// Iterator yields every record of the snapshot, ordered by key, uri,
// block and order, each with its note and ID. It must not be used after
// Release.
func (s *Snapshot) Iterator() iter.Seq2[Record, error] { return s.filtered(Filter{}) }

func (s *Snapshot) filtered(f Filter) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		notes, hasNotes, err := s.s.PrefixIndex(s.p.notes)
		if err != nil {
			yield(Record{}, wrapErr("iterate", err))
			return
		}
		var list []Record
		stop := errors.New("stop")
		err = s.walk(f, func(key, uri string, actions mmapdb.Leaf) error {
			var noteLeaf mmapdb.Leaf
			if hasNotes {
				var err error
				if noteLeaf, err = leafAt(notes, key, uri); err != nil {
					return err
				}
			}
			list = slices.Grow(list[:0], actions.Len())[:actions.Len()]
			if err := readLeaf(list, key, uri, actions, noteLeaf); err != nil {
				return err
			}
			for _, r := range list {
				if !yield(r, nil) {
					return stop
				}
			}
			return nil
		})
		if err != nil && err != stop {
			yield(Record{}, err)
		}
	}
}

// leafAt returns the leaf at key, uri below ix, or an empty one.
func leafAt(ix mmapdb.Index, key, uri string) (mmapdb.Leaf, error) {
	n, found, err := ix.Get(key)
	if err != nil || !found || n.IsLeaf() {
		return mmapdb.Leaf{}, wrapErr("iterate", err)
	}
	if ix, err = n.Index(); err != nil {
		return mmapdb.Leaf{}, wrapErr("iterate", err)
	}
	if n, found, err = ix.Get(uri); err != nil || !found || !n.IsLeaf() {
		return mmapdb.Leaf{}, wrapErr("iterate", err)
	}
	l, err := n.Leaf()
	return l, wrapErr("iterate", err)
}

// ReaderSource returns a Source that yields the records of r until
// io.EOF; a malformed table ends it with the reader's error. The
// records' IDs are those of the input, which Append ignores. The Source
// can be iterated once.
func ReaderSource(r Reader) Source { return readerSource{r} }

type readerSource struct{ r Reader }

func (rs readerSource) Iterator() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for {
			rec, err := rs.r.Next()
			if err == io.EOF {
				return
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// Append inserts every record that other yields, in a transaction of
// its own that it commits (waiting for an open transaction on the file,
// as Update does), and returns how many it inserted; on error nothing is
// inserted. IDs of the source are ignored: the records get new ones.
// With dropNotes the notes are left out. other may be this provider: its
// records are read from the version committed before the transaction.
func (p *Provider) Append(other Source, dropNotes bool) (int, error) {
	n := 0
	_, err := p.Update(func(t *Txn) (err error) {
		n, err = t.Append(other, dropNotes)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Append inserts every record that other yields into the transaction
// and returns how many it inserted; on error the transaction is left to
// the caller to roll back. IDs of the source are ignored; with dropNotes
// the notes are left out.
func (t *Txn) Append(other Source, dropNotes bool) (int, error) {
	n := 0
	for rec, err := range other.Iterator() {
		if err != nil {
			return n, wrapErr("append", err)
		}
		if dropNotes {
			rec.Note = ""
		}
		if _, err := t.Insert(rec); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// A Filter restricts Diff to the records of one key, one uri or both;
// empty fields match everything.
type Filter struct {
	Key, URI string
}

func (f Filter) match(r Record) bool {
	return (f.Key == "" || f.Key == r.Key) && (f.URI == "" || f.URI == r.URI)
}

// A Change is one difference found by Diff: Op '-' for a record only in
// the first source, '+' for one only in the second. Record.ID is the ID
// the record has in its source.
type Change struct {
	Op     byte
	Record Record
}

// Diff returns the differences between p and other, as Diff does.
func (p *Provider) Diff(other Source, filter Filter) ([]Change, error) {
	return Diff(p, other, filter)
}

// Diff compares the records of two sources that match filter: key, uri,
// block, order, action and note are compared, IDs are not. The result
// lists what turns from into to, ordered by key, uri, block and order,
// removals before additions at the same place; it is empty, not nil,
// when the sources agree. Records that occur several times count as
// often as they occur.
//
// Providers and snapshots are compared as streams, holding one block
// list at a time; other sources, which need not be ordered, are read
// into memory and sorted first.
func Diff(from, to Source, filter Filter) ([]Change, error) {
	next, stop := iter.Pull2(sortedRecords(from, filter))
	defer stop()
	nextTo, stopTo := iter.Pull2(sortedRecords(to, filter))
	defer stopTo()

	changes := []Change{}
	a, aErr, aOK := next()
	b, bErr, bOK := nextTo()
	for {
		if aErr != nil {
			return nil, wrapErr("diff", aErr)
		}
		if bErr != nil {
			return nil, wrapErr("diff", bErr)
		}
		if !aOK && !bOK {
			// Within a place the merge follows the actions; list the
			// removals first.
			slices.SortStableFunc(changes, func(x, y Change) int {
				return cmp.Or(comparePlace(x.Record, y.Record), cmp.Compare(opRank(x.Op), opRank(y.Op)))
			})
			return changes, nil
		}
		c := 0
		switch {
		case !aOK:
			c = 1
		case !bOK:
			c = -1
		default:
			c = compareRecords(a, b)
		}
		if c <= 0 {
			if c < 0 {
				changes = append(changes, Change{Op: '-', Record: a})
			}
			a, aErr, aOK = next()
		}
		if c >= 0 {
			if c > 0 {
				changes = append(changes, Change{Op: '+', Record: b})
			}
			b, bErr, bOK = nextTo()
		}
	}
}

// sortedRecords yields the records of src that match f in the order
// compareRecords defines.
func sortedRecords(src Source, f Filter) iter.Seq2[Record, error] {
	if o, ok := src.(orderedSource); ok {
		return sortRuns(o.filtered(f))
	}
	return func(yield func(Record, error) bool) {
		var all []Record
		for r, err := range src.Iterator() {
			if err != nil {
				yield(Record{}, err)
				return
			}
			if f.match(r) {
				all = append(all, r)
			}
		}
		slices.SortStableFunc(all, compareRecords)
		for _, r := range all {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// sortRuns passes on the records of a source ordered by key, uri, block
// and order, sorting each run of records at the same place by action and
// note, so that the stream is ordered by compareRecords.
func sortRuns(seq iter.Seq2[Record, error]) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		var run []Record
		flush := func() bool {
			if len(run) > 1 {
				slices.SortStableFunc(run, compareRecords)
			}
			for _, r := range run {
				if !yield(r, nil) {
					return false
				}
			}
			run = run[:0]
			return true
		}
		for r, err := range seq {
			if err != nil {
				yield(Record{}, err)
				return
			}
			if len(run) > 0 && comparePlace(run[0], r) != 0 && !flush() {
				return
			}
			run = append(run, r)
		}
		flush()
	}
}

func opRank(op byte) int {
	if op == '-' {
		return 0
	}
	return 1
}

// comparePlace orders records by key, uri, block and order.
func comparePlace(a, b Record) int {
	return cmp.Or(
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.URI, b.URI),
		cmp.Compare(a.Block, b.Block),
		cmp.Compare(a.Order, b.Order),
	)
}

// compareRecords orders records by key, uri, block, order, action and
// note; IDs do not count.
func compareRecords(a, b Record) int {
	return cmp.Or(
		comparePlace(a, b),
		cmp.Compare(a.Action, b.Action),
		cmp.Compare(a.Note, b.Note),
	)
}
