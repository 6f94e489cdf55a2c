package mmapdb

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

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
	p := l.payload()
	r := uint64(binary.BigEndian.Uint32(p[leafHeadLen+4*i:]))
	if r >= leafHeadLen+4*uint64(count) {
		if sort, data, id, _, ok := fastRecord(l.b, l.off+extHeaderLen+r); ok {
			return sort, data, id, nil
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

// fastRecord decodes the record at off when it has the layout of nearly
// every record, sort and data shorter than 256 bytes, checking that
// layout in one go; ok is false for any other record, which
// recordAtSlow decodes. b ends where the record must end. It is the one
// place that knows the fixed offsets of that layout (see appendRecord).
func fastRecord(b []byte, off uint64) (sort, data []byte, id, pathRel uint64, ok bool) {
	n := uint64(len(b))
	if off >= n || n-off < 12 || b[off] != 0x94 || b[off+1] != mpUint64 || b[off+10] != mpBin8 {
		return nil, nil, 0, 0, false
	}
	s0 := off + 12
	s1 := s0 + uint64(b[off+11])
	if s1+2 > n || b[s1] != mpBin8 {
		return nil, nil, 0, 0, false
	}
	d0 := s1 + 2
	d1 := d0 + uint64(b[s1+1])
	if d1+9 > n || b[d1] != mpUint64 {
		return nil, nil, 0, 0, false
	}
	return b[s0:s1:s1], b[d0:d1:d1], binary.BigEndian.Uint64(b[d1+1:]), binary.BigEndian.Uint64(b[off+2:]), true
}

// recordAt decodes the record at off; b ends where the record must end.
func recordAt(b []byte, off uint64) (Record, error) {
	if off >= uint64(headerLen) {
		if sort, data, id, pathRel, ok := fastRecord(b, off); ok && pathRel-1 < off-uint64(headerLen) {
			return Record{Sort: sort, Data: data, ID: id, b: b, off: off, pathOff: off - pathRel}, nil
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
