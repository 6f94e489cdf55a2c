package engine

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// cache keeps compiled actions by record ID, so that an action is parsed
// once, not per request. Records are immutable: a changed action is a new
// record with a new ID, so an entry stays right across versions; but an
// ID that a database reused for another record (after a clear, or in a
// file replaced by other tools) must be compiled anew, so a hit needs the
// row's text to be the entry's.
//
// Comparing the texts would read two more places on every row (the
// entry's copy and the row in the mapping); instead an entry remembers
// where in which mapped version its text was last seen. A mapped version
// does not change (one written over in place by another tool is mapped
// anew, with a new serial, at the next snapshot: mmapdb compares its
// header, and takes the new one once its body matches the header's
// checksum), so a row read from the same mapping (serial) at the
// same address with the same length has the same text, and its hit
// compares three numbers in the entry. A row of another version is
// compared in full once, and the entry then remembers that version.
//
// Entries are written once and read on every row of every translation,
// so reads take no lock and touch little memory: the table is one array
// of (ID, entry) slots with open addressing, where a lookup usually
// reads one slot and the entry it points to. Writers take a lock, fill
// a slot's entry before its ID, and replace the whole table when it
// must grow; a reader holds on to the table it loaded. Past its size,
// in entries or in the memory they keep (as estimated from above), the
// cache starts over empty: entries carry no record of their use that
// would tell which to keep, and the rows in use are compiled again once.
type cache struct {
	t        atomic.Pointer[cacheTable]
	mu       sync.Mutex // serializes writers
	max      int
	maxBytes int
}

// cacheTable is an open-addressing hash table of compiled actions; its
// length is a power of two, and it is never more than half full.
type cacheTable struct {
	slots []cacheSlot
	shift uint // 64 - log2(len(slots)): home takes the hash's top bits
	n     int  // entries, under cache.mu
	bytes int  // their footprint, under cache.mu
}

// cacheSlot holds one entry; id 0 marks an empty slot (record IDs start
// at 1).
type cacheSlot struct {
	id atomic.Uint64
	e  atomic.Pointer[cacheEntry]
}

// A cacheEntry is a compiled action and where its text was last seen: n
// bytes at the address text in the mapping of serial (0: in no mapping).
// The address is a number, not a pointer: the collector must not follow
// it, since the mapping may be gone and its addresses reused. The action
// is held by value, so that a hit reads one object. Entries are
// immutable; seeing the text elsewhere replaces the entry with a copy.
type cacheEntry struct {
	serial uint64
	text   uintptr
	n      int
	a      action
}

// newEntry returns an entry of a whose text is text, seen in the mapping
// of serial (0 when text is not in a mapping).
func newEntry(a *action, text []byte, serial uint64) *cacheEntry {
	if serial == 0 {
		return &cacheEntry{a: *a}
	}
	return &cacheEntry{serial: serial, text: address(text), n: len(text), a: *a}
}

// seenAt reports whether e's text is known to be text, read from the
// mapping of serial.
func (e *cacheEntry) seenAt(text []byte, serial uint64) bool {
	return serial != 0 && e.serial == serial && e.text == address(text) && e.n == len(text)
}

// address returns the address of b's first byte.
func address(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

// minCacheSlots is the length of a new table.
const minCacheSlots = 1 << 10

func newCache(size, bytes int) *cache {
	c := &cache{max: size, maxBytes: bytes}
	c.t.Store(newCacheTable(minCacheSlots))
	return c
}

// newCacheTable returns a table of n slots, a power of 2.
func newCacheTable(n int) *cacheTable {
	return &cacheTable{slots: make([]cacheSlot, n), shift: uint(64 - bits.TrailingZeros(uint(n)))}
}

// home is the first slot to probe for id: Fibonacci hashing, whose top
// bits depend on all of the ID's, so that IDs in any stride (2^17 apart,
// say) spread over the table as sequential ones do.
func (t *cacheTable) home(id uint64) uint64 {
	return (id * 0x9e3779b97f4a7c15) >> t.shift
}

// get returns the compiled action of the record id if its text is text,
// which was read from the mapping of serial (0: from no mapping).
func (c *cache) get(id uint64, text []byte, serial uint64) *action {
	if id == 0 {
		return nil
	}
	t := c.t.Load()
	mask := uint64(len(t.slots) - 1)
	for i := t.home(id); ; i = (i + 1) & mask {
		switch t.slots[i].id.Load() {
		case id:
			s := &t.slots[i]
			e := s.e.Load()
			if e.seenAt(text, serial) {
				return &e.a
			}
			if e.a.text != string(text) { // compared without a copy
				return nil
			}
			if serial != 0 {
				// Remember this version's copy of the text, unless a
				// writer has replaced the entry meanwhile.
				s.e.CompareAndSwap(e, newEntry(&e.a, text, serial))
			}
			return &e.a
		case 0:
			return nil
		}
	}
}

// put stores the compiled action of the record id, whose text was read
// from the mapping of serial.
func (c *cache) put(id uint64, a *action, text []byte, serial uint64) {
	if id == 0 {
		return
	}
	cost := a.footprint()
	if cost > c.maxBytes {
		return // no room for it even alone: compiled each time
	}
	e := newEntry(a, text, serial)
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t.Load()
	if s := t.find(id); s != nil {
		// A reused ID.
		if bytes := t.bytes + cost - s.e.Load().a.footprint(); bytes <= c.maxBytes {
			t.bytes = bytes
			s.e.Store(e)
			return
		}
		t = newCacheTable(minCacheSlots)
		c.t.Store(t)
	}
	switch {
	case t.n >= c.max || t.bytes+cost > c.maxBytes:
		t = newCacheTable(minCacheSlots)
		c.t.Store(t)
	case 2*(t.n+1) > len(t.slots):
		t = t.grown()
		c.t.Store(t)
	}
	t.insert(id, e)
	t.bytes += cost
}

// find returns the slot of id in t, or nil; under cache.mu.
func (t *cacheTable) find(id uint64) *cacheSlot {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(id); ; i = (i + 1) & mask {
		switch t.slots[i].id.Load() {
		case id:
			return &t.slots[i]
		case 0:
			return nil
		}
	}
}

// insert adds an entry for an id t does not hold; under cache.mu, with
// room in t. The entry is stored before the ID, so that a reader that
// finds the ID finds the entry.
func (t *cacheTable) insert(id uint64, e *cacheEntry) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(id)
	for t.slots[i].id.Load() != 0 {
		i = (i + 1) & mask
	}
	t.slots[i].e.Store(e)
	t.slots[i].id.Store(id)
	t.n++
}

// grown returns a table twice the length of t with its entries; under
// cache.mu.
func (t *cacheTable) grown() *cacheTable {
	g := newCacheTable(2 * len(t.slots))
	g.bytes = t.bytes
	for i := range t.slots {
		if id := t.slots[i].id.Load(); id != 0 {
			g.insert(id, t.slots[i].e.Load())
		}
	}
	return g
}
