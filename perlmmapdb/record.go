package perlmmapdb

import (
	"fmt"
	"iter"
)

// Record is a data record of the file: [[KEY1, ..., KEYn], SORT, DATA]
// and its ID. The strings alias the mapping; records handed out by the
// iterators share their Keys array with the next record (copy what must
// outlive the iteration step).
type Record struct {
	ID   uint64
	Keys []String
	Sort String
	Data String
	Pos  uint64 // the record's position in the file
}

// maxKeys bounds the key path of one record, as mmapdb does.
const maxKeys = 1 << 16

// record reads the data record at pos (a record boundary, checked by the
// caller) into r, reusing the array of r.Keys, and returns its VALID word
// and the position of the next record.
func (f *File) record(pos uint64, r *Record) (valid bool, next uint64, err error) {
	if pos < f.dataStart || pos >= f.mainIdx || (pos-f.dataStart)&(f.w-1) != 0 {
		return false, 0, corruptf("no data record at %d: the data section is [%d, %d)", pos, f.dataStart, f.mainIdx)
	}
	room := (f.mainIdx - pos) / f.w // words up to the end of the data section
	if room < 5 {
		return false, 0, corruptf("data record at %d: %d words left in the data section", pos, room)
	}
	v, _ := f.word(pos)
	id, _ := f.word(pos + f.w)
	nkeys, _ := f.word(pos + 2*f.w)
	switch {
	case v > 1:
		return false, 0, corruptf("data record at %d: VALID is %d", pos, v)
	case id == 0:
		return false, 0, corruptf("data record at %d: ID 0", pos)
	case nkeys > room-5 || nkeys > maxKeys:
		return false, 0, corruptf("data record at %d: %d keys do not fit the data section", pos, nkeys)
	case nkeys == 0:
		return false, 0, corruptf("data record at %d: no keys", pos)
	}
	r.ID, r.Pos = id, pos
	r.Keys = r.Keys[:0]
	p := pos + 3*f.w
	for range nkeys {
		o, _ := f.word(p)
		s, err := f.str(o)
		if err != nil {
			return false, 0, fmt.Errorf("data record at %d: key: %w", pos, err)
		}
		r.Keys = append(r.Keys, s)
		p += f.w
	}
	o, _ := f.word(p)
	if r.Sort, err = f.str(o); err != nil {
		return false, 0, fmt.Errorf("data record at %d: sort: %w", pos, err)
	}
	o, _ = f.word(p + f.w)
	if r.Data, err = f.str(o); err != nil {
		return false, 0, fmt.Errorf("data record at %d: data: %w", pos, err)
	}
	return v == 1, p + 2*f.w, nil
}

// RecordAt returns the live data record at position pos, as the main
// index and the ID index name records. A position that is not a live
// record's is an error.
func (f *File) RecordAt(pos uint64) (Record, error) {
	if f.data == nil {
		return Record{}, ErrClosed
	}
	var r Record
	valid, _, err := f.record(pos, &r)
	if err == nil && !valid {
		err = corruptf("data record at %d is deleted (VALID 0)", pos)
	}
	return r, err
}

// Scan iterates over the live records in the order of the data section,
// which is the order the module's iterator() gives: the records carried
// over from older generations first, then those inserted after them.
// Deleted records (VALID 0), which stay in the file until the next
// transaction, are skipped. It reads every record, live or not, once, and
// allocates nothing after the first record. On a corrupt record it
// yields the error and stops.
func (f *File) Scan() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if f.data == nil {
			yield(Record{}, ErrClosed)
			return
		}
		var r Record
		for pos := f.dataStart; pos < f.mainIdx; {
			valid, next, err := f.record(pos, &r)
			if err != nil {
				yield(Record{}, err)
				return
			}
			if valid && !yield(r, nil) {
				return
			}
			pos = next
		}
	}
}

// Records iterates over the live records in ascending ID order, through
// the ID index, as the module's id_index_iterator does. Each entry is
// checked: IDs strictly ascending, and the record it names live and
// carrying its ID. It allocates nothing after the first record. On a
// corrupt entry it yields the error and stops.
func (f *File) Records() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		if f.data == nil {
			yield(Record{}, ErrClosed)
			return
		}
		var r Record
		var last uint64
		for i := range f.nids {
			id, pos := f.idEntry(i)
			if id <= last {
				yield(Record{}, corruptf("ID index entry %d: ID %d after %d", i, id, last))
				return
			}
			last = id
			valid, _, err := f.record(pos, &r)
			switch {
			case err != nil:
				err = fmt.Errorf("ID index entry %d (ID %d): %w", i, id, err)
			case !valid:
				err = corruptf("ID index entry %d: ID %d names the deleted record at %d", i, id, pos)
			case r.ID != id:
				err = corruptf("ID index entry %d: ID %d names the record of ID %d at %d", i, id, r.ID, pos)
			}
			if err != nil {
				yield(Record{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// idEntry returns the i-th entry of the ID index, i < f.nids: the header
// check has placed the whole index inside the file.
func (f *File) idEntry(i uint64) (id, pos uint64) {
	p := f.idIdx + f.w + 2*f.w*i
	id, _ = f.word(p)
	pos, _ = f.word(p + f.w)
	return id, pos
}

// ByID returns the live record with the ID, by binary search in the ID
// index; found is false when there is none.
func (f *File) ByID(id uint64) (r Record, found bool, err error) {
	if f.data == nil {
		return Record{}, false, ErrClosed
	}
	lo, hi := uint64(0), f.nids
	for lo < hi {
		m := lo + (hi-lo)/2
		if mid, _ := f.idEntry(m); mid < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == f.nids {
		return Record{}, false, nil
	}
	got, pos := f.idEntry(lo)
	if got != id {
		return Record{}, false, nil
	}
	r, err = f.RecordAt(pos)
	if err == nil && r.ID != id {
		err = corruptf("ID index: ID %d names the record of ID %d at %d", id, r.ID, pos)
	}
	return r, err == nil, err
}
