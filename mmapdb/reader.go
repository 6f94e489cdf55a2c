package mmapdb

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"iter"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// version is one mapped file. It is immutable apart from the valid flag,
// which a committer in any process clears once the file is superseded.
type version struct {
	refs     atomic.Int64 // the DB's reference plus one per Snapshot
	data     []byte       // the read-only mapping of the whole file
	mm       mmap.MMap
	head     mmap.MMap // the first page mapped once more, for the valid flag
	h        *header
	dev, ino uint64 // file identity, to notice files replaced by other tools
}

// openVersion maps the file at path read-only and checks its header. It
// reads nothing but the header: the cost does not depend on the file size.
// The returned version holds one reference.
func openVersion(path string) (*version, error) {
	f, err := openReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("mmapdb: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mmapdb: %w", err)
	}
	size := fi.Size()
	if size == 0 {
		return nil, fmt.Errorf("open %s: %w: file is empty", path, ErrCorrupt)
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("open %s: %w: file of %d bytes does not fit the address space", path, ErrCorrupt, size)
	}
	mm, err := mmap.MapRegion(f, int(size), mmap.RDONLY, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("mmapdb: mmap %s: %w", path, err)
	}
	// Lookups touch a few scattered pages; read-ahead would pull in
	// megabytes the lookup never needs, so advise before touching anything.
	adviseRandom(mm)
	// The header, with the valid flag every Snapshot reads, gets a mapping
	// of its own page: a fault there maps that page alone, where a fault
	// in the big mapping may map a whole large folio of the page cache,
	// hundreds of pages the lookups may never need.
	head, err := mmap.MapRegion(f, min(int(size), os.Getpagesize()), mmap.RDONLY, 0, 0)
	if err != nil {
		_ = mm.Unmap()
		return nil, fmt.Errorf("mmapdb: mmap %s: %w", path, err)
	}
	adviseRandom(head) // the header's fault must not read ahead either
	v := &version{data: mm, mm: mm, head: head}
	v.dev, v.ino = fileIdentity(fi)
	h, err := decodeHeader(head)
	if err == nil && h.length != uint64(size) {
		err = fmt.Errorf("%w: header says %d bytes, file has %d", ErrCorrupt, h.length, size)
	}
	if err != nil {
		v.unmap()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	v.h = h
	v.refs.Store(1)
	return v, nil
}

// unmap unmaps the file.
func (v *version) unmap() {
	_ = v.head.Unmap()
	_ = v.mm.Unmap()
}

// valid reports whether no committer has superseded this version. It is a
// plain read of the mapping: no system call.
func (v *version) valid() bool { return v.head[validOff] == mpTrue }

// acquire takes a reference unless the version is already released.
func (v *version) acquire() bool {
	for {
		n := v.refs.Load()
		if n <= 0 {
			return false
		}
		if v.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one unmaps the file.
func (v *version) release() {
	if v.refs.Add(-1) == 0 {
		v.unmap()
	}
}

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

// bstr views b as a string without copying; the string aliases b.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Node is a child of an index: a sub-index or a leaf.
type Node struct {
	b    []byte
	off  uint64
	leaf bool
}

// IsLeaf reports whether the node is a leaf (holds records).
func (n Node) IsLeaf() bool { return n.leaf }

// extent returns where the node's subtree starts and where the node ends:
// the subtree (its key paths, leaves, sub-indices and the node itself) is
// one contiguous run of bytes.
func (n Node) extent() (start, end uint64, err error) {
	var p []byte
	if n.leaf {
		l, err := leafAt(n.b, n.off)
		if err != nil {
			return 0, 0, err
		}
		return l.pathOff(), uint64(len(l.b)), nil
	}
	ix, err := indexAt(n.b, n.off)
	if err != nil {
		return 0, 0, err
	}
	p = ix.p
	span := binary.BigEndian.Uint64(p[4:])
	if span > n.off-uint64(headerLen) {
		return 0, 0, corruptf("index at %d: subtree span %d", n.off, span)
	}
	return n.off - span, n.off + extHeaderLen + uint64(len(p)), nil
}

// Index returns the node as an index.
func (n Node) Index() (Index, error) {
	if n.leaf {
		return Index{}, fmt.Errorf("mmapdb: node at %d is a leaf, not an index", n.off)
	}
	return indexAt(n.b, n.off)
}

// Leaf returns the node as a leaf.
func (n Node) Leaf() (Leaf, error) {
	if !n.leaf {
		return Leaf{}, fmt.Errorf("mmapdb: node at %d is an index, not a leaf", n.off)
	}
	return leafAt(n.b, n.off)
}

// Leaf is the ordered list of records under one key path: ordered bytewise
// by their sort field, records with equal sort fields in insertion order.
// The zero Leaf is empty.
type Leaf struct {
	// b is the file up to the end of the leaf, whose payload (path
	// distance, count, record offsets, records) runs from off+extHeaderLen
	// to len(b). leafAt has checked the payload's head; the count and the
	// path distance are read from it where needed. Four words keep a Leaf
	// in registers (the compiler passes larger structs through memory),
	// which the lookup path returns through three calls.
	b   []byte
	off uint64
}

// payload returns the leaf's payload; l is not the zero Leaf.
func (l Leaf) payload() []byte { return l.b[l.off+extHeaderLen:] }

// pathOff returns the offset of the leaf's key path; l is not the zero Leaf.
func (l Leaf) pathOff() uint64 { return l.off - binary.BigEndian.Uint64(l.payload()) }

func leafAt(b []byte, off uint64) (Leaf, error) {
	p, err := readExt(b, off, extLeaf)
	if err != nil {
		return Leaf{}, err
	}
	if len(p) < leafHeadLen {
		return Leaf{}, corruptf("leaf at %d: payload of %d bytes", off, len(p))
	}
	pathRel := binary.BigEndian.Uint64(p)
	n := uint64(binary.BigEndian.Uint32(p[8:]))
	if leafHeadLen+n*4 > uint64(len(p)) {
		return Leaf{}, corruptf("leaf at %d: %d records do not fit %d bytes", off, n, len(p))
	}
	if pathRel == 0 || pathRel > off-uint64(headerLen) {
		return Leaf{}, corruptf("leaf at %d: key path at distance %d", off, pathRel)
	}
	end := off + extHeaderLen + uint64(len(p))
	return Leaf{b: b[:end:end], off: off}, nil
}

// Len returns the number of records.
func (l Leaf) Len() int {
	if l.b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint32(l.b[l.off+extHeaderLen+8:]))
}

// At returns the i-th record. It decodes the record in place; Sort and Data
// are views into the mapping.
func (l Leaf) At(i int) (Record, error) {
	n := l.Len()
	if i < 0 || i >= n {
		return Record{}, fmt.Errorf("mmapdb: leaf position %d out of range [0,%d)", i, n)
	}
	p := l.payload()
	rel := uint64(binary.BigEndian.Uint32(p[leafHeadLen+4*i:]))
	if rel < leafHeadLen+4*uint64(n) || rel >= uint64(len(p)) {
		return Record{}, corruptf("leaf at %d: record %d at %d", l.off, i, rel)
	}
	r, err := recordAt(l.b, l.off+extHeaderLen+rel)
	if err == nil && r.pathOff != l.pathOff() {
		err = corruptf("record at %d: key path %d, its leaf says %d", r.off, r.pathOff, l.pathOff())
	}
	return r, err
}

// Fields returns the sort field, the data and the ID of the i-th record:
// what At returns, views into the mapping as there, without the rest of a
// Record. It is the form for loops over block lists: its results travel
// in registers, where a Record is copied through memory. It checks the
// record's encoding but, unlike At, not its reference to the key path,
// which it does not use (Verify checks it).
func (l Leaf) Fields(i int) (sort, data []byte, id uint64, err error) {
	count := l.Len()
	if uint(i) >= uint(count) {
		return nil, nil, 0, fmt.Errorf("mmapdb: leaf position %d out of range [0,%d)", i, count)
	}
	// The fast path of recordAt, within the payload: sort and data
	// shorter than 256 bytes.
	p := l.payload()
	n := uint64(len(p))
	r := uint64(binary.BigEndian.Uint32(p[leafHeadLen+4*i:]))
	if r >= leafHeadLen+4*uint64(count) && r < n && n-r >= 12 && p[r] == 0x94 && p[r+1] == mpUint64 && p[r+10] == mpBin8 {
		s0 := r + 12
		s1 := s0 + uint64(p[r+11])
		if s1+2 <= n && p[s1] == mpBin8 {
			d0 := s1 + 2
			d1 := d0 + uint64(p[s1+1])
			if d1+9 <= n && p[d1] == mpUint64 {
				return p[s0:s1:s1], p[d0:d1:d1], binary.BigEndian.Uint64(p[d1+1:]), nil
			}
		}
	}
	rec, err := l.At(i)
	return rec.Sort, rec.Data, rec.ID, err
}

// Keys returns the key path of the leaf, copied out of the mapping.
func (l Leaf) Keys() ([]string, error) {
	if l.b == nil {
		return nil, nil
	}
	return readPath(l.b, l.pathOff())
}

// Record is a data record: [[KEY1..KEYn], SORT, DATA, ID]. Sort and Data
// alias the mapping of the snapshot the record came from (or the
// transaction's own memory for a record inserted in it); they are valid
// until that snapshot is released. Keys are decoded on demand.
type Record struct {
	Sort []byte
	Data []byte
	ID   uint64

	b       []byte   // the file, for Keys
	off     uint64   // the record's offset in b
	pathOff uint64   // the key path's offset in b
	keys    []string // the key path of a record not yet committed
}

// Keys returns the record's key path, copied out of the mapping.
func (r Record) Keys() ([]string, error) {
	if r.keys != nil {
		return append([]string(nil), r.keys...), nil
	}
	if r.b == nil {
		return nil, nil
	}
	return readPath(r.b, r.pathOff)
}

// recordAt decodes the record at off; b ends where the record must end.
// Records whose sort and data are shorter than 256 bytes, nearly all,
// take a fast path that checks the fixed layout in one go.
func recordAt(b []byte, off uint64) (Record, error) {
	n := uint64(len(b))
	if off < n && off >= uint64(headerLen) && n-off >= 12 && b[off] == 0x94 && b[off+1] == mpUint64 && b[off+10] == mpBin8 {
		pathRel := binary.BigEndian.Uint64(b[off+2:])
		s0 := off + 12
		s1 := s0 + uint64(b[off+11])
		if s1+2 <= n && b[s1] == mpBin8 {
			d0 := s1 + 2
			d1 := d0 + uint64(b[s1+1])
			if d1+9 <= n && b[d1] == mpUint64 && pathRel-1 < off-uint64(headerLen) {
				pathOff := off - pathRel
				return Record{
					Sort:    b[s0:s1:s1],
					Data:    b[d0:d1:d1],
					ID:      binary.BigEndian.Uint64(b[d1+1:]),
					b:       b,
					off:     off,
					pathOff: pathOff,
				}, nil
			}
		}
	}
	return recordAtSlow(b, off)
}

func recordAtSlow(b []byte, off uint64) (Record, error) {
	if off+recordFixedLen+4 > uint64(len(b)) || b[off] != 0x94 {
		return Record{}, corruptf("no record at %d", off)
	}
	if off < uint64(headerLen) {
		return Record{}, corruptf("no record at %d", off)
	}
	pathRel, next, err := readUint64(b, off+1)
	if err != nil {
		return Record{}, err
	}
	if pathRel == 0 || pathRel > off-uint64(headerLen) {
		return Record{}, corruptf("record at %d: key path at distance %d", off, pathRel)
	}
	pathOff := off - pathRel
	sort, next, err := readBin(b, next)
	if err != nil {
		return Record{}, err
	}
	data, next, err := readBin(b, next)
	if err != nil {
		return Record{}, err
	}
	id, _, err := readUint64(b, next)
	if err != nil {
		return Record{}, err
	}
	return Record{Sort: sort, Data: data, ID: id, b: b, off: off, pathOff: pathOff}, nil
}

// pathBytes returns the encoded key path of the leaf, a view into the
// mapping, for copying into a new file as it is.
func (l Leaf) pathBytes() ([]byte, error) {
	n, next, err := readArrayHeader(l.b, l.pathOff())
	if err != nil {
		return nil, err
	}
	if n == 0 || n > maxKeys {
		return nil, corruptf("key path at %d has %d keys", l.pathOff(), n)
	}
	for range n {
		if _, next, err = readBin(l.b, next); err != nil {
			return nil, err
		}
	}
	return l.b[l.pathOff():next], nil
}

// readPath decodes the key path array at off.
func readPath(b []byte, off uint64) ([]string, error) {
	n, next, err := readArrayHeader(b, off)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > maxKeys || n > uint64(len(b)) {
		return nil, corruptf("key path at %d has %d keys", off, n)
	}
	keys := make([]string, n)
	for i := range keys {
		var k []byte
		if k, next, err = readBin(b, next); err != nil {
			return nil, err
		}
		keys[i] = string(k)
	}
	return keys, nil
}

// idIndex is the ID index node: (id, record offset) sorted by id.
type idIndex struct {
	b   []byte
	off uint64
	p   []byte
	n   int
}

func (s Snapshot) idIndex() (idIndex, error) {
	b, off := s.v.data, s.v.h.ids
	p, err := readExt(b, off, extIDIndex)
	if err != nil {
		return idIndex{}, err
	}
	if len(p)%idEntryLen != 0 {
		return idIndex{}, corruptf("id index at %d: %d bytes", off, len(p))
	}
	return idIndex{b: b, off: off, p: p, n: len(p) / idEntryLen}, nil
}

func (x idIndex) id(i int) uint64 { return binary.BigEndian.Uint64(x.p[i*idEntryLen:]) }

func (x idIndex) record(i int) (Record, error) {
	off := binary.BigEndian.Uint64(x.p[i*idEntryLen+8:])
	if off >= x.off {
		return Record{}, corruptf("id index entry %d points to %d", i, off)
	}
	return recordAt(x.b[:x.off], off)
}

// bodyChecksum computes the CRC-32C of everything after the header.
func bodyChecksum(b []byte) uint32 {
	return crc32.Checksum(b[headerLen:], crcTable)
}
