package engine

import (
	"math/bits"
	"sync/atomic"
)

// A table maps nonzero keys to entries, for the engine's caches, which
// are read on every translation and written seldom: readers take no
// lock and touch little memory. It is an array of (key, entry) slots
// with open addressing, where a lookup usually reads one slot and the
// entry it points to. Writers, one at a time (the cache's lock), fill a
// slot's entry before its key, so that a reader that finds the key
// finds the entry; they replace an entry by storing another, and the
// whole table (grown) when it would be more than half full; a reader
// holds on to the table it loaded. Nothing is ever removed: a cache
// that must shrink starts over with an empty table.
type table[E any] struct {
	slots []slot[E]
	shift uint // 64 - log2(len(slots)): home takes the hash's top bits
	n     int  // entries, under the cache's lock
	bytes int  // their memory, as the cache counts it, under its lock
}

// A slot holds one entry; key 0 marks an empty slot.
type slot[E any] struct {
	key atomic.Uint64
	e   atomic.Pointer[E]
}

// minTableSlots is the length of a new table.
const minTableSlots = 1 << 10

// newTable returns an empty table of n slots, a power of 2.
func newTable[E any](n int) *table[E] {
	return &table[E]{slots: make([]slot[E], n), shift: uint(64 - bits.TrailingZeros(uint(n)))}
}

// home is the first slot to probe for key: Fibonacci hashing, whose top
// bits depend on all of the key's, so that keys in any stride (record
// IDs 2^17 apart, say) spread over the table as sequential ones do.
func (t *table[E]) home(key uint64) uint64 {
	return (key * 0x9e3779b97f4a7c15) >> t.shift
}

// find returns the slot of key, or nil.
func (t *table[E]) find(key uint64) *slot[E] {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		switch t.slots[i].key.Load() {
		case key:
			return &t.slots[i]
		case 0:
			return nil
		}
	}
}

// full reports whether t has no room for one more entry.
func (t *table[E]) full() bool { return 2*(t.n+1) > len(t.slots) }

// insert adds an entry for a key t does not hold; with room in t.
func (t *table[E]) insert(key uint64, e *E) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(key)
	for t.slots[i].key.Load() != 0 {
		i = (i + 1) & mask
	}
	t.slots[i].e.Store(e)
	t.slots[i].key.Store(key)
	t.n++
}

// grown returns a table twice the length of t with its entries.
func (t *table[E]) grown() *table[E] {
	g := newTable[E](2 * len(t.slots))
	g.bytes = t.bytes
	for i := range t.slots {
		if key := t.slots[i].key.Load(); key != 0 {
			g.insert(key, t.slots[i].e.Load())
		}
	}
	return g
}
