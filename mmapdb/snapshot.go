package mmapdb

import (
	"iter"
	"time"
)

// Snapshot is one version of the database, pinned: its mapping stays valid
// until Release, however many commits happen meanwhile. A Snapshot is a
// small value; copying it does not take another reference. Every byte
// slice a Snapshot hands out aliases the mapping and is valid only until
// Release: copy what must outlive it.
type Snapshot struct {
	v *version
}

// Release unpins the snapshot. Call it exactly once per Snapshot returned
// by DB.Snapshot; the mapping of a superseded version is unmapped when its
// last snapshot is released.
func (s Snapshot) Release() {
	if s.v != nil {
		s.v.release()
	}
}

// Generation returns the transaction counter of this version: 0 for a
// freshly created database, one more for every commit.
func (s Snapshot) Generation() uint64 { return s.v.h.generation }

// Len returns the number of data records.
func (s Snapshot) Len() uint64 { return s.v.h.records }

// NextID returns the ID the next insert will try first.
func (s Snapshot) NextID() uint64 { return s.v.h.nextID }

// Size returns the file size in bytes.
func (s Snapshot) Size() int64 { return int64(s.v.h.length) }

// Checksum returns the body checksum recorded in the header (CRC-32C).
func (s Snapshot) Checksum() uint32 { return s.v.h.bodyCRC }

// Created returns the time the version was written.
func (s Snapshot) Created() time.Time { return s.v.h.createdTime() }

// FormatVersion returns the format version the file was written in.
func (s Snapshot) FormatVersion() int { return int(s.v.h.version) }

// Superseded reports whether a committer has replaced this version. A
// snapshot stays readable after that; DB.Snapshot moves to the new version.
func (s Snapshot) Superseded() bool { return !s.v.valid() }

// Bytes returns the whole file as mapped, for streaming a copy. The valid
// flag in it may be cleared by a committer at any time; everything else is
// immutable.
func (s Snapshot) Bytes() []byte { return s.v.data }

// Root returns the root index.
func (s Snapshot) Root() (Index, error) {
	return indexAt(s.v.data, s.v.h.root)
}

// Lookup returns the leaf at the key path. A path that leads nowhere, or to
// an index rather than to records, yields an empty Leaf and no error. It
// does one search per key over the mapped bytes (a hash probe in a node of
// more than 8 keys) and allocates nothing.
func (s Snapshot) Lookup(keys ...string) (Leaf, error) {
	if len(keys) == 0 {
		return Leaf{}, nil
	}
	return s.lookupFrom(s.v.h.root, keys)
}

// lookupFrom walks keys down from the index at off to a leaf.
func (s Snapshot) lookupFrom(off uint64, keys []string) (Leaf, error) {
	b := s.v.data
	for i, k := range keys {
		var leaf, found bool
		var err error
		if off, leaf, found, err = step(b, off, k); err != nil || !found {
			return Leaf{}, err
		}
		// Records must be at the end of the path, indices before it.
		if leaf != (i == len(keys)-1) {
			return Leaf{}, nil
		}
	}
	return leafAt(b, off)
}

// LookupIndex returns the index at the key path (the root for no keys);
// found is false when the path leads nowhere or to a leaf.
func (s Snapshot) LookupIndex(keys ...string) (ix Index, found bool, err error) {
	if ix, err = s.Root(); err != nil {
		return Index{}, false, err
	}
	for _, k := range keys {
		n, ok, err := ix.Get(k)
		if err != nil || !ok || n.IsLeaf() {
			return Index{}, false, err
		}
		if ix, err = n.Index(); err != nil {
			return Index{}, false, err
		}
	}
	return ix, true, nil
}

// LookupPosition is MMapDB's index_lookup_position: it walks to the index
// addressed by all keys but the last and returns it together with the
// position of the last key in it: where the key is, when found, or where
// it would be inserted. Iterating ix from pos lists the keys >= the last
// key. found is false also when the parent path does not lead to an index,
// in which case ix is empty.
func (s Snapshot) LookupPosition(keys ...string) (ix Index, pos int, found bool, err error) {
	if len(keys) == 0 {
		return Index{}, 0, false, nil
	}
	ix, ok, err := s.LookupIndex(keys[:len(keys)-1]...)
	if err != nil || !ok {
		return Index{}, 0, false, err
	}
	pos, found, err = ix.Search(keys[len(keys)-1])
	return ix, pos, found, err
}

// ByID returns the record with the given ID, by binary search in the ID
// index. A missing ID is found == false and no error.
func (s Snapshot) ByID(id uint64) (rec Record, found bool, err error) {
	ids, err := s.idIndex()
	if err != nil {
		return Record{}, false, err
	}
	lo, hi := 0, ids.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ids.id(m) < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == ids.n || ids.id(lo) != id {
		return Record{}, false, nil
	}
	rec, err = ids.record(lo)
	if err == nil && rec.ID != id {
		err = corruptf("id index entry %d points to record %d", id, rec.ID)
	}
	return rec, err == nil, err
}

// All iterates over every record in key order: depth first through the
// indices, each leaf in sort order. On a corrupt structure it yields one
// error and stops.
func (s Snapshot) All() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		root, err := s.Root()
		if err != nil {
			yield(Record{}, err)
			return
		}
		_ = walkIndex(root, func(l Leaf) bool {
			for i := range l.Len() {
				r, err := l.At(i)
				if !yield(r, err) || err != nil {
					return false
				}
			}
			return true
		}, func(err error) { yield(Record{}, err) })
	}
}

// walkIndex calls leafFn for every leaf below ix in key order, until it
// returns false. Structural errors go to errFn. Children always lie before
// their parent in the file, which bounds the walk even on a hostile file.
func walkIndex(ix Index, leafFn func(Leaf) bool, errFn func(error)) bool {
	for i := range ix.Len() {
		n, err := ix.Child(i)
		if err != nil {
			errFn(err)
			return false
		}
		if n.IsLeaf() {
			l, err := n.Leaf()
			if err != nil {
				errFn(err)
				return false
			}
			if !leafFn(l) {
				return false
			}
			continue
		}
		sub, err := n.Index()
		if err != nil {
			errFn(err)
			return false
		}
		if !walkIndex(sub, leafFn, errFn) {
			return false
		}
	}
	return true
}

// ByIDOrder iterates over every record in ascending ID order, through the
// ID index.
func (s Snapshot) ByIDOrder() iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		ids, err := s.idIndex()
		if err != nil {
			yield(Record{}, err)
			return
		}
		for i := range ids.n {
			r, err := ids.record(i)
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}
