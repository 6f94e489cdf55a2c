package engine

import (
	"strconv"
	"sync"
	"testing"
)

func TestCache(t *testing.T) {
	c := newCache(5000)
	text := func(id uint64) []byte { return []byte("Do: $CTX{x}=" + strconv.FormatUint(id, 10)) }
	for id := uint64(1); id <= 3000; id++ {
		if c.get(id, text(id)) != nil {
			t.Fatalf("id %d found before it was put", id)
		}
		c.put(id, parseAction(string(text(id))))
	}
	for id := uint64(1); id <= 3000; id++ {
		if a := c.get(id, text(id)); a == nil || a.text != string(text(id)) {
			t.Fatalf("id %d: %v", id, a)
		}
	}
	if n, slots := c.t.Load().n, len(c.t.Load().slots); n != 3000 || slots != 8192 {
		t.Errorf("%d entries in %d slots, want 3000 in 8192", n, slots)
	}
	// An ID reused for another action is a miss, and replaced when put.
	if c.get(7, []byte("Done")) != nil {
		t.Error("id 7 with another text: a hit")
	}
	c.put(7, parseAction("Done"))
	if a := c.get(7, []byte("Done")); a == nil || a.kind != kindDone {
		t.Errorf("id 7 after the new put: %v", a)
	}
	if c.get(7, text(7)) != nil || c.t.Load().n != 3000 {
		t.Error("id 7's old text still found, or counted twice")
	}
	// Past its size the cache starts over.
	for id := uint64(3001); id <= 5001; id++ {
		c.put(id, parseAction(string(text(id))))
	}
	if c.get(1, text(1)) != nil || c.get(5001, text(5001)) == nil || c.t.Load().n != 1 {
		t.Errorf("after overflow: %d entries, want the last one only", c.t.Load().n)
	}
	// ID 0 names no record: never cached.
	c.put(0, parseAction("Done"))
	if c.get(0, []byte("Done")) != nil {
		t.Error("id 0 cached")
	}
}

// TestCacheConcurrent reads while writers grow and restart the table;
// under -race it checks the publication of the slots.
func TestCacheConcurrent(t *testing.T) {
	c := newCache(3000)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				id := uint64(i*4 + w + 1)
				text := "Key: 'k" + strconv.Itoa(int(id)) + "'"
				if a := c.get(id, []byte(text)); a != nil && a.text != text {
					t.Errorf("id %d: text %q", id, a.text)
					return
				}
				c.put(id, parseAction(text))
				if a := c.get(id, []byte(text)); a != nil && a.text != text {
					t.Errorf("id %d: text %q after put", id, a.text)
					return
				}
			}
		})
	}
	wg.Wait()
}
