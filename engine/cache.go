package engine

import (
	"sync"
	"sync/atomic"
)

// cache keeps compiled actions by record ID, so that an action is parsed
// once, not per request. Records are immutable: a changed action is a new
// record with a new ID, so an entry stays right across versions; the
// action text is compared on every hit all the same, so that an ID that
// a database reused for another record (after a clear, or in a file
// replaced by other tools) is compiled anew.
//
// Entries are written once and read on every row of every translation,
// so reads take no lock and touch little memory: the table is one array
// of (ID, action) slots with open addressing, where a lookup usually
// reads one slot and the action it points to. Writers take a lock, fill
// a slot's action before its ID, and replace the whole table when it
// must grow; a reader holds on to the table it loaded. Past its size the
// cache starts over empty: entries carry no record of their use that
// would tell which to keep, and the rows in use are compiled again once.
type cache struct {
	t   atomic.Pointer[cacheTable]
	mu  sync.Mutex // serializes writers
	max int
}

// cacheTable is an open-addressing hash table of compiled actions; its
// length is a power of two, and it is never more than half full.
type cacheTable struct {
	slots []cacheSlot
	n     int // entries, under cache.mu
}

// cacheSlot holds one entry; id 0 marks an empty slot (record IDs start
// at 1).
type cacheSlot struct {
	id atomic.Uint64
	a  atomic.Pointer[action]
}

// minCacheSlots is the length of a new table.
const minCacheSlots = 1 << 10

func newCache(size int) *cache {
	c := &cache{max: size}
	c.t.Store(newCacheTable(minCacheSlots))
	return c
}

func newCacheTable(n int) *cacheTable { return &cacheTable{slots: make([]cacheSlot, n)} }

// home is the first slot to probe for id: Fibonacci hashing, so that
// sequential IDs spread over the table.
func (t *cacheTable) home(id uint64) uint64 {
	return (id * 0x9e3779b97f4a7c15) & uint64(len(t.slots)-1)
}

// get returns the compiled action of the record id if its text is text.
func (c *cache) get(id uint64, text []byte) *action {
	if id == 0 {
		return nil
	}
	t := c.t.Load()
	mask := uint64(len(t.slots) - 1)
	for i := t.home(id); ; i = (i + 1) & mask {
		switch t.slots[i].id.Load() {
		case id:
			if a := t.slots[i].a.Load(); a.text == string(text) { // compared without a copy
				return a
			}
			return nil
		case 0:
			return nil
		}
	}
}

// put stores the compiled action of the record id.
func (c *cache) put(id uint64, a *action) {
	if id == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t.Load()
	if s := t.find(id); s != nil {
		s.a.Store(a) // a reused ID
		return
	}
	switch {
	case t.n >= c.max:
		t = newCacheTable(minCacheSlots)
		c.t.Store(t)
	case 2*(t.n+1) > len(t.slots):
		t = t.grown()
		c.t.Store(t)
	}
	t.insert(id, a)
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
// room in t. The action is stored before the ID, so that a reader that
// finds the ID finds the action.
func (t *cacheTable) insert(id uint64, a *action) {
	mask := uint64(len(t.slots) - 1)
	i := t.home(id)
	for t.slots[i].id.Load() != 0 {
		i = (i + 1) & mask
	}
	t.slots[i].a.Store(a)
	t.slots[i].id.Store(id)
	t.n++
}

// grown returns a table twice the length of t with its entries; under
// cache.mu.
func (t *cacheTable) grown() *cacheTable {
	g := newCacheTable(2 * len(t.slots))
	for i := range t.slots {
		if id := t.slots[i].id.Load(); id != 0 {
			g.insert(id, t.slots[i].a.Load())
		}
	}
	return g
}
