package mmapdb

import (
	"iter"
	"sync/atomic"
	"time"
)

// Snapshot is one version of the database, pinned: its mapping stays valid
// until Release, however many commits happen meanwhile. Every byte slice a
// Snapshot hands out (in a Leaf, a Record, Bytes) aliases the mapping and
// is valid only until Release: copy what must outlive it.
//
// A Snapshot is a handle: DB.Snapshot returns a new one, DB.Pin fills one
// the caller owns. Release is idempotent per handle: the second and later
// calls do nothing, so a release can never drop another holder's pin.
// After Release, the methods that read the mapping fail with ErrReleased
// (Bytes returns nil) instead of touching memory that may be unmapped;
// the header's numbers (Generation, Len, ...) stay readable. A Snapshot
// must not be copied (go vet reports copies): pass the pointer.
//
// Reads through one Snapshot may run concurrently; Release must come
// after the last of them.
type Snapshot struct {
	v     *version
	state atomic.Uint32 // snapUnpinned, snapHeld, snapBorrowed or snapReleased
}

// The states of a Snapshot handle.
const (
	snapUnpinned uint32 = iota // the zero Snapshot: never pinned
	snapHeld                   // pinned; Release unpins
	snapBorrowed               // a view of a pin held elsewhere; Release does nothing
	snapReleased               // released, or the pin it viewed has ended
)

// borrow returns a handle viewing v, whose pin the caller holds and keeps
// until after the last use of the handle; its Release does nothing.
func borrow(v *version) *Snapshot {
	s := &Snapshot{v: v}
	s.state.Store(snapBorrowed)
	return s
}

// Release unpins the snapshot. The mapping of a superseded version is
// unmapped when its last snapshot is released. A second Release of the
// same handle does nothing, and so does Release of the snapshot that
// Txn.Base returns, which the transaction releases itself.
func (s *Snapshot) Release() {
	if s.state.CompareAndSwap(snapHeld, snapReleased) {
		s.v.release()
	}
}

// mapping returns the mapped file, or ErrReleased when the handle does
// not pin a version.
func (s *Snapshot) mapping() ([]byte, error) {
	if st := s.state.Load(); st != snapHeld && st != snapBorrowed {
		return nil, ErrReleased
	}
	return s.v.data, nil
}

// header returns the version's header, or the zero header for a handle
// that never pinned one. The header lives on the heap: it stays readable
// after Release.
func (s *Snapshot) header() *header {
	if s.v == nil {
		return &header{}
	}
	return s.v.h
}

// Generation returns the transaction counter of this version: 0 for a
// freshly created database, one more for every commit.
func (s *Snapshot) Generation() uint64 { return s.header().generation }

// Serial identifies the mapping the snapshot reads among those this
// process has made: snapshots of one mapping have the same serial, and a
// mapping made later has a greater one. While a version is mapped its
// bytes do not change (but for the valid flag), so a serial and an
// address in Bytes identify what is there. It is 0 for a handle that
// never pinned a version.
func (s *Snapshot) Serial() uint64 {
	if s.v == nil {
		return 0
	}
	return s.v.serial
}

// Len returns the number of data records.
func (s *Snapshot) Len() uint64 { return s.header().records }

// NextID returns the ID the next Insert of a transaction on this version
// tries first (see Txn.Insert for the allocation).
func (s *Snapshot) NextID() uint64 { return s.header().nextID }

// Size returns the file size in bytes.
func (s *Snapshot) Size() int64 { return int64(s.header().length) }

// Checksum returns the body checksum recorded in the header (CRC-32C).
func (s *Snapshot) Checksum() uint32 { return s.header().bodyCRC }

// Created returns the time the version was written.
func (s *Snapshot) Created() time.Time { return s.header().createdTime() }

// FormatVersion returns the format version the file was written in.
func (s *Snapshot) FormatVersion() int { return int(s.header().version) }

// Superseded reports whether a committer has replaced this version. A
// snapshot stays readable after that; DB.Snapshot moves to the new
// version. A released snapshot reports true.
func (s *Snapshot) Superseded() bool {
	if _, err := s.mapping(); err != nil {
		return true
	}
	return !s.v.valid()
}

// Bytes returns the whole file as mapped, for streaming a copy, or nil
// after Release. The valid flag in it may be cleared by a committer at
// any time; everything else is immutable.
func (s *Snapshot) Bytes() []byte {
	b, _ := s.mapping()
	return b
}

// Root returns the root index.
func (s *Snapshot) Root() (Index, error) {
	b, err := s.mapping()
	if err != nil {
		return Index{}, err
	}
	return indexAt(b, s.v.h.root)
}

// Lookup returns the leaf at the key path. A path that leads nowhere, or to
// an index rather than to records, yields an empty Leaf and no error. It
// does one search per key over the mapped bytes (a hash probe in a node of
// more than 8 keys) and allocates nothing.
func (s *Snapshot) Lookup(keys ...string) (Leaf, error) {
	b, err := s.mapping()
	if err != nil || len(keys) == 0 {
		return Leaf{}, err
	}
	return lookupFrom(b, s.v.h.root, keys)
}

// lookupFrom walks keys down from the index at off in the file b to a
// leaf.
func lookupFrom(b []byte, off uint64, keys []string) (Leaf, error) {
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
func (s *Snapshot) LookupIndex(keys ...string) (ix Index, found bool, err error) {
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

// ByID returns the record with the given ID, by binary search in the ID
// index. A missing ID is found == false and no error.
func (s *Snapshot) ByID(id uint64) (rec Record, found bool, err error) {
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
func (s *Snapshot) All() iter.Seq2[Record, error] {
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

// IDOrder iterates over every record in ascending ID order, through the
// ID index: one read of the index entry and one of the record per step,
// no allocation. Records alias the mapping as those of Lookup do. On a
// corrupt structure it yields one error and stops.
func (s *Snapshot) IDOrder() iter.Seq2[Record, error] {
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
