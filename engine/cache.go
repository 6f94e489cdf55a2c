package engine

import (
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
// so they live in a table, which reads without a lock. Past its size, in
// entries or in the memory they keep (as estimated from above), the
// cache starts over empty: entries carry no record of their use that
// would tell which to keep, and the rows in use are compiled again once.
type cache struct {
	t        atomic.Pointer[table[cacheEntry]] // keyed by record ID (IDs start at 1)
	mu       sync.Mutex                        // serializes writers
	max      int
	maxBytes int
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

func newCache(size, bytes int) *cache {
	c := &cache{max: size, maxBytes: bytes}
	c.t.Store(newTable[cacheEntry](minTableSlots))
	return c
}

// get returns the compiled action of the record id if its text is text,
// which was read from the mapping of serial (0: from no mapping).
func (c *cache) get(id uint64, text []byte, serial uint64) *action {
	if id == 0 {
		return nil
	}
	s := c.t.Load().find(id)
	if s == nil {
		return nil
	}
	e := s.e.Load()
	if e.seenAt(text, serial) {
		return &e.a
	}
	if e.a.text != string(text) { // compared without a copy
		return nil
	}
	if serial != 0 {
		// Remember this version's copy of the text, unless a writer has
		// replaced the entry meanwhile.
		s.e.CompareAndSwap(e, newEntry(&e.a, text, serial))
	}
	return &e.a
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
		t = newTable[cacheEntry](minTableSlots)
		c.t.Store(t)
	}
	switch {
	case t.n >= c.max || t.bytes+cost > c.maxBytes:
		t = newTable[cacheEntry](minTableSlots)
		c.t.Store(t)
	case t.full():
		t = t.grown()
		c.t.Store(t)
	}
	t.insert(id, e)
	t.bytes += cost
}
