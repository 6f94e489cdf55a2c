package mmapdb

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// An index node's payload (FORMAT.md has the byte layout). Version 2
// (ext type 4):
//
//	count           uint32
//	span            uint64: distance back from the node to its subtree's start
//	slot count      uint32: 0 for a node without hash table
//	slot width      uint8: 4 or 8 bytes per slot
//	own key         uint32 length, then the bytes: the key the parent has for this node
//	prefix levels   uint64 each, the top level first
//	entries         count × (key offset uint32, key length uint32, child distance uint64)
//	hash slots      slot count × (tag, distance): uint32 (8 and 24 bits) or uint64 (16 and 48)
//	key bytes
//
// Version 1 (ext type 1) has count, span, prefix levels, entries and key
// bytes only.
//
// Level 0 of the prefixes holds the first 8 bytes of every key, in key
// order, as big-endian integers; each level above holds every 8th prefix
// of the level below, up to a level of at most 8. A search descends the
// levels reading one 64-byte block of 8 prefixes per level: a few cache
// lines whatever the node size, where a plain binary search over a large
// node touches a new line at nearly every probe. Key bytes are read only
// when prefixes tie.
//
// A node of more than 8 keys also has a hash table (linear probing, load
// at most 2/3) for exact lookups. A slot leads straight to the child's
// first bytes, which confirm the key: a leaf's key path (which the leaf
// directly follows) ends with it, an index node carries its own key in
// its head. So a hit in a big node reads one slot of 4 or 8 bytes and then
// the bytes the lookup goes on with, where a search reads a line per
// prefix level, an entry and the key bytes.

const (
	fanout        = 8   // prefixes per block: one 64-byte cache line
	maxLevels     = 12  // fanout^11 > 2^32 keys
	entryLen      = 16  // key offset, key length, child offset
	indexHeadLen  = 12  // count, subtree span (version 1)
	index2HeadLen = 21  // count, subtree span, slot count, slot width, own key length
	shortKeyBytes = 8   // keys this short are decided by prefix and length
	leafPrefetch  = 512 // bytes of a leaf's path, head and records to prefetch
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

// hashSlotCount returns the number of hash slots a writer gives a node of
// n keys: none up to 8 keys, which one block of prefixes decides, else
// 3n/2 rounded up, a load of at most 2/3.
func hashSlotCount(n int) int {
	if n <= fanout {
		return 0
	}
	return n + (n+1)/2
}

// Index is one index node: sorted keys, each leading to a sub-index or a
// leaf. Keys are arbitrary byte strings compared bytewise.
type Index struct {
	b   []byte // the whole file
	off uint64 // offset of the node
	p   []byte // payload
	n   int
	lv  int // offset of the prefix levels in p
	ent int // offset of the entry table in p
	hs  int // offset of the hash slots in p
	ns  int // number of hash slots, 0 for a node without hash table
	sw  int // bytes per hash slot, 4 or 8
}

func indexAt(b []byte, off uint64) (Index, error) {
	p, typ, err := readNode(b, off)
	if err != nil {
		return Index{}, err
	}
	head := uint64(indexHeadLen)
	var ns uint64
	var sw int
	switch typ {
	case extIndex:
		if len(p) < indexHeadLen {
			return Index{}, corruptf("index at %d: payload of %d bytes", off, len(p))
		}
	case extIndex2:
		if len(p) < index2HeadLen {
			return Index{}, corruptf("index at %d: payload of %d bytes", off, len(p))
		}
		ns = uint64(binary.BigEndian.Uint32(p[12:]))
		if sw = int(p[16]); ns != 0 && sw != 4 && sw != 8 {
			return Index{}, corruptf("index at %d: hash slots of %d bytes", off, sw)
		}
		head = index2HeadLen + uint64(binary.BigEndian.Uint32(p[17:]))
	default:
		return Index{}, corruptf("node at %d has type %d, want an index", off, typ)
	}
	n := uint64(binary.BigEndian.Uint32(p))
	if n > uint64(len(p)) { // each key needs more than a byte: cheap bound first
		return Index{}, corruptf("index at %d: %d entries do not fit %d bytes", off, n, len(p))
	}
	// At least one free slot, so that a probe for a missing key ends.
	if ns != 0 && ns <= n {
		return Index{}, corruptf("index at %d: %d hash slots for %d keys", off, ns, n)
	}
	var sizes [maxLevels]int
	_, total := prefixLevels(int(n), &sizes)
	ent := head + 8*uint64(total)
	hs := ent + n*entryLen
	if hs+ns*uint64(sw) > uint64(len(p)) {
		return Index{}, corruptf("index at %d: %d entries and %d hash slots do not fit %d bytes", off, n, ns, len(p))
	}
	return Index{b: b, off: off, p: p, n: int(n), lv: int(head), ent: int(ent), hs: int(hs), ns: int(ns), sw: sw}, nil
}

// ownKey returns the key a version 2 index node has for itself, the key
// its parent has for it (empty for the root); ok is false for a node of
// version 1, which does not record it.
func (ix Index) ownKey() (key []byte, ok bool) {
	if ix.lv == indexHeadLen {
		return nil, false
	}
	return ix.p[index2HeadLen:ix.lv], true
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
		pfx := ix.p[ix.lv:ix.ent]
		k := 0
		for k < ix.n && binary.BigEndian.Uint64(pfx[8*k:]) < t {
			k++
		}
		return k
	}
	var sizes [maxLevels]int
	levels, _ := prefixLevels(ix.n, &sizes)
	pfx := ix.p[ix.lv:ix.ent]
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
	off, leaf, found, err := ix.lookup(key)
	if err != nil || !found {
		return Node{}, false, err
	}
	return Node{b: ix.b, off: off, leaf: leaf}, true, nil
}

// lookup returns the offset and kind of the node under key: through the
// hash table when the node has one, else by Search.
func (ix Index) lookup(key string) (off uint64, leaf, found bool, err error) {
	if ix.ns == 0 {
		pos, found, err := ix.Search(key)
		if err != nil || !found {
			return 0, false, false, err
		}
		off, leaf, err = ix.child(pos)
		return off, leaf, err == nil, err
	}
	return probe(ix.b, ix.off, ix.p[ix.hs:ix.hs+ix.ns*ix.sw], uint64(ix.ns), ix.sw, key)
}

// step is lookup in the index node at off, for the walk down a key path:
// a hashed node of version 2 is probed straight from its header, without
// building an Index.
func step(b []byte, off uint64, key string) (child uint64, leaf, found bool, err error) {
	if off+extHeaderLen+index2HeadLen <= uint64(len(b)) && b[off] == mpExt32 && int8(b[off+5]) == extIndex2 {
		p := off + extHeaderLen
		end := p + uint64(binary.BigEndian.Uint32(b[off+1:]))
		n := uint64(binary.BigEndian.Uint32(b[p:]))
		ns := uint64(binary.BigEndian.Uint32(b[p+12:]))
		sw := uint64(b[p+16])
		if ns > n && n > 0 && end <= uint64(len(b)) && (sw == 4 || sw == 8) {
			var sizes [maxLevels]int
			_, total := prefixLevels(int(n), &sizes)
			hs := p + index2HeadLen + uint64(binary.BigEndian.Uint32(b[p+17:])) + 8*uint64(total) + entryLen*n
			if hs+ns*sw <= end {
				return probe(b, off, b[hs:hs+ns*sw], ns, int(sw), key)
			}
		}
	}
	ix, err := indexAt(b, off)
	if err != nil {
		return 0, false, false, err
	}
	return ix.lookup(key)
}

// probe looks key up in the ns hash slots, w bytes each, of the index
// node at off.
func probe(b []byte, off uint64, slots []byte, ns uint64, w int, key string) (child uint64, leaf, found bool, err error) {
	h := hashKey(key)
	distBits := slotDistBits(w)
	tag := h & (1<<slotTagBits(w) - 1)
	for i, s := uint64(0), hashHome(h, ns); i < ns; i++ {
		e := slotAt(slots, s, w)
		if e == 0 { // a free slot ends the probe sequence
			return 0, false, false, nil
		}
		if e>>distBits == tag {
			child, leaf, found, err = slotChild(b, off, e&(1<<distBits-1), key)
			if err != nil || found {
				return child, leaf, found, err
			}
		}
		if s++; s == ns {
			s = 0
		}
	}
	return 0, false, false, nil
}

// slotChild follows a hash slot of the index node at parent whose tag
// matched to its target at distance rel and confirms the key there: the
// target is the key path of a leaf, whose last key is the leaf's and which
// the leaf directly follows, or an index node, which begins with its own
// key (an index of version 1, copied from an older file, does not: a
// search in the parent confirms it). The bytes that confirm the key are
// those the lookup reads next anyway.
func slotChild(b []byte, parent, rel uint64, key string) (off uint64, leaf, found bool, err error) {
	if rel == 0 || rel > parent-uint64(headerLen) {
		return 0, false, false, corruptf("index at %d: hash slot target at distance %d", parent, rel)
	}
	at := parent - rel
	if b[at] == mpExt32 {
		return slotIndex(b, parent, at, key)
	}
	b = b[:parent] // children lie before their parent
	// Path, leaf and records are one run of bytes: ask for its first lines
	// at once rather than one cache miss after the other.
	prefetch(&b[at], uintptr(min(leafPrefetch, parent-at)))
	n, next, err := readArrayHeader(b, at)
	if err != nil {
		return 0, false, false, err
	}
	if n == 0 || n > maxKeys {
		return 0, false, false, corruptf("key path at %d has %d keys", at, n)
	}
	for range n - 1 {
		if next+2 <= uint64(len(b)) && b[next] == mpBin8 { // nearly every key
			next += 2 + uint64(b[next+1])
		} else if _, next, err = readBin(b, next); err != nil {
			return 0, false, false, err
		}
	}
	k, off, err := readBin(b, next)
	if err != nil || bstr(k) != key {
		return 0, false, false, err
	}
	if off+extHeaderLen+8 > uint64(len(b)) || b[off] != mpExt32 || int8(b[off+5]) != extLeaf ||
		binary.BigEndian.Uint64(b[off+extHeaderLen:]) != off-at {
		return 0, false, false, corruptf("index at %d: no leaf follows the key path at %d", parent, at)
	}
	return off, true, true, nil
}

// slotIndex confirms key for a hash slot of the index node at parent that
// leads to the index node at at.
func slotIndex(file []byte, parent, at uint64, key string) (off uint64, leaf, found bool, err error) {
	b := file[:parent] // children lie before their parent
	if at+extHeaderLen+index2HeadLen > uint64(len(b)) {
		return 0, false, false, corruptf("index at %d: hash slot target at %d is not a node", parent, at)
	}
	switch int8(b[at+5]) {
	case extIndex2:
		p := at + extHeaderLen
		kl := uint64(binary.BigEndian.Uint32(b[p+17:]))
		k0 := p + index2HeadLen
		if k0+kl > uint64(len(b)) {
			return 0, false, false, corruptf("index at %d: own key of %d bytes runs past the node", at, kl)
		}
		return at, false, bstr(b[k0:k0+kl]) == key, nil
	case extIndex:
		ix, err := indexAt(file, parent)
		if err != nil {
			return 0, false, false, err
		}
		pos, found, err := ix.Search(key)
		if err != nil || !found {
			return 0, false, false, err
		}
		off, _, err := ix.child(pos)
		return at, false, err == nil && off == at, err
	}
	return 0, false, false, corruptf("index at %d: hash slot target at %d is not an index or a key path", parent, at)
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
	return ix.childAt(binary.BigEndian.Uint64(ix.p[ix.ent+i*entryLen+8:]))
}

// childAt returns the offset and kind of the child at distance rel.
func (ix Index) childAt(rel uint64) (off uint64, leaf bool, err error) {
	// Children are written before their parents, and references are
	// distances back from the parent: zero, or one reaching before the
	// body, is corrupt (and a forward one could make cycles).
	if rel == 0 || rel > ix.off-uint64(headerLen) {
		return 0, false, corruptf("index at %d: child at distance %d", ix.off, rel)
	}
	off = ix.off - rel
	t := int8(ix.b[off+5])
	if ix.b[off] != mpExt32 || (t != extIndex && t != extIndex2 && t != extLeaf) {
		return 0, false, corruptf("index at %d: child at %d is not a node", ix.off, off)
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

// appendIndexPayload appends the payload of an index node of version 2
// at off with sorted entries and hash slots of w bytes (indexSlotWidth);
// key is the node's own key.
func appendIndexPayload(p []byte, off uint64, key string, w int, entries []indexEntry) []byte {
	n := len(entries)
	ns := hashSlotCount(n)
	var sizes [maxLevels]int
	levels, total := prefixLevels(n, &sizes)
	p = binary.BigEndian.AppendUint32(p, uint32(n))
	span := uint64(0)
	if n > 0 {
		span = off - entries[0].start
	}
	p = binary.BigEndian.AppendUint64(p, span)
	p = binary.BigEndian.AppendUint32(p, uint32(ns))
	p = append(p, byte(w))
	p = binary.BigEndian.AppendUint32(p, uint32(len(key)))
	p = append(p, key...)
	for l := levels - 1; l >= 0; l-- {
		step := 1
		for range l {
			step *= fanout
		}
		for i := 0; i < n; i += step {
			p = binary.BigEndian.AppendUint64(p, keyPrefix(entries[i].key))
		}
	}
	ko := index2HeadLen + len(key) + 8*total + entryLen*n + w*ns
	for _, e := range entries {
		p = binary.BigEndian.AppendUint32(p, uint32(ko))
		p = binary.BigEndian.AppendUint32(p, uint32(len(e.key)))
		p = binary.BigEndian.AppendUint64(p, off-e.child)
		ko += len(e.key)
	}
	if ns > 0 {
		start := len(p)
		p = append(p, make([]byte, ns*w)...)
		slots := p[start:]
		for _, e := range entries {
			putSlot(slots, w, hashKey(e.key), off-e.slotTarget())
		}
	}
	for _, e := range entries {
		p = append(p, e.key...)
	}
	return p
}

// indexSlotWidth returns the width of the hash slots of an index node at
// off with the entries; an error when a target lies too far back even for
// 8-byte slots.
func indexSlotWidth(off uint64, entries []indexEntry) (int, error) {
	var maxRel uint64
	for _, e := range entries {
		maxRel = max(maxRel, off-e.slotTarget())
	}
	w := slotWidth(maxRel)
	if hashSlotCount(len(entries)) > 0 && maxRel >= 1<<slotDistBits(w) {
		return 0, fmt.Errorf("mmapdb: index at %d: a child %d bytes back is too far for a hash slot", off, maxRel)
	}
	return w, nil
}

// indexPayloadLen returns the payload size of an index node of version 2
// with own key key, hash slots of w bytes and the entries.
func indexPayloadLen(key string, w int, entries []indexEntry) int {
	var sizes [maxLevels]int
	_, total := prefixLevels(len(entries), &sizes)
	size := index2HeadLen + len(key) + 8*total + entryLen*len(entries) + w*hashSlotCount(len(entries))
	for _, e := range entries {
		size += len(e.key)
	}
	return size
}
