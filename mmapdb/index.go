package mmapdb

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// An index node's payload (FORMAT.md has the byte layout):
//
//	count           uint32
//	span            uint64: distance back from the node to its subtree's start
//	prefix levels   uint64 each, the top level first
//	entries         count × (key offset uint32, key length uint32, child distance uint64)
//	key bytes
//
// Level 0 of the prefixes holds the first 8 bytes of every key, in key
// order, as big-endian integers; each level above holds every 8th prefix
// of the level below, up to a level of at most 8. A search descends the
// levels reading one 64-byte block of 8 prefixes per level: a few cache
// lines whatever the node size, where a plain binary search over a large
// node touches a new line at nearly every probe. Key bytes are read only
// when prefixes tie.

const (
	fanout        = 8  // prefixes per block: one 64-byte cache line
	maxLevels     = 12 // fanout^11 > 2^32 keys
	entryLen      = 16 // key offset, key length, child offset
	indexHeadLen  = 12 // count, subtree span
	shortKeyBytes = 8  // keys this short are decided by prefix and length
)

// prefixLevels computes the level sizes for n keys, level 0 first, and
// returns the number of levels and the total number of prefixes.
func prefixLevels(n int, sizes *[maxLevels]int) (levels, total int) {
	sizes[0] = n
	total = n
	levels = 1
	for s := n; s > fanout; levels++ {
		s = (s + fanout - 1) / fanout
		sizes[levels] = s
		total += s
	}
	return levels, total
}

// Index is one index node: sorted keys, each leading to a sub-index or a
// leaf. Keys are arbitrary byte strings compared bytewise.
type Index struct {
	b   []byte // the whole file
	off uint64 // offset of the node
	p   []byte // payload
	n   int
	ent int // offset of the entry table in p
}

func indexAt(b []byte, off uint64) (Index, error) {
	p, err := readExt(b, off, extIndex)
	if err != nil {
		return Index{}, err
	}
	if len(p) < indexHeadLen {
		return Index{}, corruptf("index at %d: payload of %d bytes", off, len(p))
	}
	n := uint64(binary.BigEndian.Uint32(p))
	if n > uint64(len(p)) { // each key needs more than a byte: cheap bound first
		return Index{}, corruptf("index at %d: %d entries do not fit %d bytes", off, n, len(p))
	}
	var sizes [maxLevels]int
	_, total := prefixLevels(int(n), &sizes)
	ent := indexHeadLen + 8*uint64(total)
	if ent+n*entryLen > uint64(len(p)) {
		return Index{}, corruptf("index at %d: %d entries do not fit %d bytes", off, n, len(p))
	}
	return Index{b: b, off: off, p: p, n: int(n), ent: int(ent)}, nil
}

// Len returns the number of keys.
func (ix Index) Len() int { return ix.n }

// Key returns the i-th key, a view into the mapping.
func (ix Index) Key(i int) ([]byte, error) {
	if i < 0 || i >= ix.n {
		return nil, fmt.Errorf("mmapdb: index position %d out of range [0,%d)", i, ix.n)
	}
	return ix.key(i)
}

func (ix Index) key(i int) ([]byte, error) {
	e := ix.p[ix.ent+i*entryLen:]
	ko := uint64(binary.BigEndian.Uint32(e))
	kl := uint64(binary.BigEndian.Uint32(e[4:]))
	if ko+kl > uint64(len(ix.p)) {
		return nil, corruptf("index at %d: key %d outside the node", ix.off, i)
	}
	return ix.p[ko : ko+kl : ko+kl], nil
}

// prefix returns the level-0 prefix of the i-th key.
func (ix Index) prefix(i int) uint64 {
	return binary.BigEndian.Uint64(ix.p[ix.ent-8*(ix.n-i):])
}

// countLess returns how many keys have a prefix below t. It descends the
// prefix levels from the top, scanning one block of at most 8 per level:
// level l+1 holds every 8th prefix of level l, so the count c at level
// l+1 says that the answer at level l lies in block c-1.
func (ix Index) countLess(t uint64) int {
	if ix.n <= fanout { // one level: the common small node
		pfx := ix.p[indexHeadLen:ix.ent]
		k := 0
		for k < ix.n && binary.BigEndian.Uint64(pfx[8*k:]) < t {
			k++
		}
		return k
	}
	var sizes [maxLevels]int
	levels, _ := prefixLevels(ix.n, &sizes)
	pfx := ix.p[indexHeadLen:ix.ent]
	start := 0 // index of the current level's first prefix
	c := -1    // the count at the level above; -1 at the top
	for l := levels - 1; l >= 0; l-- {
		lo, hi := 0, sizes[l]
		switch {
		case c == 0:
			return 0 // the first prefix is already >= t
		case c > 0:
			lo = (c - 1) * fanout
			hi = min(lo+fanout, hi)
		}
		k := lo
		for k < hi && binary.BigEndian.Uint64(pfx[8*(start+k):]) < t {
			k++
		}
		c = k
		start += sizes[l]
	}
	return c
}

// compareKey compares the i-th key with key, whose prefix equals the
// entry's: short keys are decided by their lengths, others by their bytes.
func (ix Index) compareKey(i int, key string) (int, error) {
	e := ix.p[ix.ent+i*entryLen:]
	kl := int(binary.BigEndian.Uint32(e[4:]))
	if kl <= shortKeyBytes && len(key) <= shortKeyBytes {
		// Equal zero-padded prefixes: the shorter key is the smaller.
		return kl - len(key), nil
	}
	k, err := ix.key(i)
	if err != nil {
		return 0, err
	}
	switch s := bstr(k); {
	case s < key:
		return -1, nil
	case s > key:
		return 1, nil
	}
	return 0, nil
}

// Search returns the position of key: where it is, or where it would be
// inserted. It descends the prefix levels (a few cache lines per search),
// then compares key bytes only among keys with the same 8-byte prefix, by
// binary search. It allocates nothing.
func (ix Index) Search(key string) (pos int, found bool, err error) {
	t := keyPrefix(key)
	pos = ix.countLess(t)
	if pos == ix.n || ix.prefix(pos) != t {
		return pos, false, nil
	}
	c, err := ix.compareKey(pos, key)
	if err != nil || c >= 0 {
		return pos, err == nil && c == 0, err
	}
	// key sorts after the first key of its prefix: binary search the run
	// of keys sharing the prefix.
	end := ix.n
	if t != ^uint64(0) {
		end = ix.countLess(t + 1)
	}
	lo, hi := pos+1, end
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c, err := ix.compareKey(m, key)
		if err != nil {
			return 0, false, err
		}
		if c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == end {
		return lo, false, nil
	}
	c, err = ix.compareKey(lo, key)
	return lo, err == nil && c == 0, err
}

// Get returns the node under key.
func (ix Index) Get(key string) (n Node, found bool, err error) {
	pos, found, err := ix.Search(key)
	if err != nil || !found {
		return Node{}, false, err
	}
	n, err = ix.Child(pos)
	return n, err == nil, err
}

// Child returns the node under the i-th key.
func (ix Index) Child(i int) (Node, error) {
	if i < 0 || i >= ix.n {
		return Node{}, fmt.Errorf("mmapdb: index position %d out of range [0,%d)", i, ix.n)
	}
	off, leaf, err := ix.child(i)
	return Node{b: ix.b, off: off, leaf: leaf}, err
}

// child returns the offset and kind of the node under the i-th key.
func (ix Index) child(i int) (off uint64, leaf bool, err error) {
	rel := binary.BigEndian.Uint64(ix.p[ix.ent+i*entryLen+8:])
	// Children are written before their parents, and references are
	// distances back from the parent: zero, or one reaching before the
	// body, is corrupt (and a forward one could make cycles).
	if rel == 0 || rel > ix.off-uint64(headerLen) {
		return 0, false, corruptf("index at %d: child %d at distance %d", ix.off, i, rel)
	}
	off = ix.off - rel
	t := int8(ix.b[off+5])
	if ix.b[off] != mpExt32 || (t != extIndex && t != extLeaf) {
		return 0, false, corruptf("index at %d: child %d at %d is not a node", ix.off, i, off)
	}
	return off, t == extLeaf, nil
}

// IndexEntry is a key of an index and the node under it.
type IndexEntry struct {
	Key  []byte // a view into the mapping
	Node Node
}

// Entries iterates over the keys and children from position from on, in
// key order. With LookupPosition it gives MMapDB's iteration from a
// position. On a corrupt entry it yields the error and stops.
func (ix Index) Entries(from int) iter.Seq2[IndexEntry, error] {
	return func(yield func(IndexEntry, error) bool) {
		for i := max(from, 0); i < ix.n; i++ {
			k, err := ix.key(i)
			if err != nil {
				yield(IndexEntry{}, err)
				return
			}
			n, err := ix.Child(i)
			if !yield(IndexEntry{Key: k, Node: n}, err) || err != nil {
				return
			}
		}
	}
}

// appendIndexPayload appends the payload of an index node at off with
// sorted entries.
func appendIndexPayload(p []byte, off uint64, entries []indexEntry) []byte {
	n := len(entries)
	var sizes [maxLevels]int
	levels, total := prefixLevels(n, &sizes)
	p = binary.BigEndian.AppendUint32(p, uint32(n))
	span := uint64(0)
	if n > 0 {
		span = off - entries[0].start
	}
	p = binary.BigEndian.AppendUint64(p, span)
	for l := levels - 1; l >= 0; l-- {
		step := 1
		for range l {
			step *= fanout
		}
		for i := 0; i < n; i += step {
			p = binary.BigEndian.AppendUint64(p, keyPrefix(entries[i].key))
		}
	}
	ko := indexHeadLen + 8*total + entryLen*n
	for _, e := range entries {
		p = binary.BigEndian.AppendUint32(p, uint32(ko))
		p = binary.BigEndian.AppendUint32(p, uint32(len(e.key)))
		p = binary.BigEndian.AppendUint64(p, off-e.child)
		ko += len(e.key)
	}
	for _, e := range entries {
		p = append(p, e.key...)
	}
	return p
}

// indexPayloadLen returns the payload size of an index of the entries.
func indexPayloadLen(entries []indexEntry) int {
	var sizes [maxLevels]int
	_, total := prefixLevels(len(entries), &sizes)
	size := indexHeadLen + 8*total + entryLen*len(entries)
	for _, e := range entries {
		size += len(e.key)
	}
	return size
}
