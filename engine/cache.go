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
// replaced by other tools) is compiled anew. Entries are written once and
// read many times, the case sync.Map is made for; past its size the
// cache drops about half of its entries.
type cache struct {
	m    sync.Map // uint64 -> *action
	n    atomic.Int64
	max  int64
	trim sync.Mutex
}

func newCache(size int) *cache { return &cache{max: int64(size)} }

// get returns the compiled action of the record id if its text is text.
func (c *cache) get(id uint64, text []byte) *action {
	v, ok := c.m.Load(id)
	if !ok {
		return nil
	}
	a := v.(*action)
	if a.text != string(text) { // compared without a copy
		return nil
	}
	return a
}

// put stores the compiled action of the record id.
func (c *cache) put(id uint64, a *action) {
	if _, loaded := c.m.Swap(id, a); !loaded && c.n.Add(1) > c.max {
		c.shrink()
	}
}

// shrink drops entries until the cache holds half of its maximum.
func (c *cache) shrink() {
	if !c.trim.TryLock() {
		return // another goroutine is at it
	}
	defer c.trim.Unlock()
	c.m.Range(func(k, _ any) bool {
		if c.n.Load() <= c.max/2 {
			return false
		}
		if _, loaded := c.m.LoadAndDelete(k); loaded {
			c.n.Add(-1)
		}
		return true
	})
}
