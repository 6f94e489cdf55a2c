package engine

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"transdb/engine/expr"
)

func TestCache(t *testing.T) {
	c := newCache(5000, DefaultCacheBytes)
	text := func(id uint64) []byte { return []byte("Do: $CTX{x}=" + strconv.FormatUint(id, 10)) }
	for id := uint64(1); id <= 3000; id++ {
		if c.get(id, text(id), 0) != nil {
			t.Fatalf("id %d found before it was put", id)
		}
		c.put(id, parseAction(string(text(id))), text(id), 0)
	}
	for id := uint64(1); id <= 3000; id++ {
		if a := c.get(id, text(id), 0); a == nil || a.text != string(text(id)) {
			t.Fatalf("id %d: %v", id, a)
		}
	}
	if n, slots := c.t.Load().n, len(c.t.Load().slots); n != 3000 || slots != 8192 {
		t.Errorf("%d entries in %d slots, want 3000 in 8192", n, slots)
	}
	// An ID reused for another action is a miss, and replaced when put.
	if c.get(7, []byte("Done"), 0) != nil {
		t.Error("id 7 with another text: a hit")
	}
	c.put(7, parseAction("Done"), []byte("Done"), 0)
	if a := c.get(7, []byte("Done"), 0); a == nil || a.kind != kindDone {
		t.Errorf("id 7 after the new put: %v", a)
	}
	if c.get(7, text(7), 0) != nil || c.t.Load().n != 3000 {
		t.Error("id 7's old text still found, or counted twice")
	}
	// Past its size the cache starts over.
	for id := uint64(3001); id <= 5001; id++ {
		c.put(id, parseAction(string(text(id))), text(id), 0)
	}
	if c.get(1, text(1), 0) != nil || c.get(5001, text(5001), 0) == nil || c.t.Load().n != 1 {
		t.Errorf("after overflow: %d entries, want the last one only", c.t.Load().n)
	}
	// ID 0 names no record: never cached.
	c.put(0, parseAction("Done"), []byte("Done"), 0)
	if c.get(0, []byte("Done"), 0) != nil {
		t.Error("id 0 cached")
	}
}

// TestCacheConcurrent reads while writers grow and restart the table;
// under -race it checks the publication of the slots.
func TestCacheConcurrent(t *testing.T) {
	c := newCache(3000, DefaultCacheBytes)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				id := uint64(i*4 + w + 1)
				text := "Key: 'k" + strconv.Itoa(int(id)) + "'"
				if a := c.get(id, []byte(text), uint64(w+1)); a != nil && a.text != text {
					t.Errorf("id %d: text %q", id, a.text)
					return
				}
				c.put(id, parseAction(text), []byte(text), uint64(w+1))
				if a := c.get(id, []byte(text), uint64(w+1)); a != nil && a.text != text {
					t.Errorf("id %d: text %q after put", id, a.text)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCacheKnowsWhereItsTextWasSeen: a row read from the same mapping
// (serial) at the same address is a hit without comparing texts; from
// another mapping, or from none, the texts are compared, and a hit
// remembers the new place. Changing the bytes of a "mapping" here, which
// a real one never does, shows which way a hit went.
func TestCacheKnowsWhereItsTextWasSeen(t *testing.T) {
	c := newCache(100, DefaultCacheBytes)
	mapped := []byte("Key: 'a'")
	c.put(9, parseAction(string(mapped)), mapped, 7)
	hit := func(text []byte, serial uint64) bool {
		a := c.get(9, text, serial)
		if a != nil && a.text != "Key: 'a'" {
			t.Fatalf("a hit of %q", a.text)
		}
		return a != nil
	}
	copy(mapped, "Key: 'b'")
	if !hit(mapped, 7) {
		t.Error("the same place of the same mapping: not a hit")
	}
	if hit(mapped, 8) {
		t.Error("another mapping with another text: a hit")
	}
	if hit(mapped, 0) {
		t.Error("text of no mapping, with another text: a hit")
	}
	copy(mapped, "Key: 'a'")
	other := []byte("Key: 'a'")
	if !hit(other, 8) {
		t.Fatal("another mapping with the same text: not a hit")
	}
	// The entry now knows mapping 8's copy, and no longer mapping 7's.
	copy(other, "Key: 'c'")
	if !hit(other, 8) {
		t.Error("the place remembered from the last hit: not a hit")
	}
	copy(mapped, "Key: 'c'")
	if hit(mapped, 7) {
		t.Error("the place of an older mapping: still a hit by address")
	}
	// A text of no mapping is never taken by its address.
	heap := []byte("Done")
	c.put(10, parseAction(string(heap)), heap, 0)
	copy(heap, "Last")
	if c.get(10, heap, 0) != nil {
		t.Error("a text of no mapping: a hit by address")
	}
}

// TestCacheBoundsItsMemory: past its bytes, as the actions' footprints
// estimate them, the cache starts over, whether an entry is new or
// replaces the action of a reused ID.
func TestCacheBoundsItsMemory(t *testing.T) {
	big := "Do: " + strings.Repeat("$CTX{a}=1;", (expr.MaxSource-8)/10) + "1"
	a := parseAction(big)
	if !a.compiled || a.footprint() < 80*len(big) {
		t.Fatalf("compiled %v, footprint %d: want a large one", a.compiled, a.footprint())
	}
	c := newCache(100, 3*a.footprint())
	for id := uint64(1); id <= 3; id++ {
		c.put(id, a, []byte(big), 0)
	}
	if n := c.t.Load().n; n != 3 || c.t.Load().bytes != 3*a.footprint() {
		t.Fatalf("%d entries of %d bytes, want 3 of %d", n, c.t.Load().bytes, 3*a.footprint())
	}
	c.put(4, a, []byte(big), 0)
	if n := c.t.Load().n; n != 1 || c.get(1, []byte(big), 0) != nil {
		t.Fatalf("%d entries after the fourth: want the cache started over", n)
	}
	small := parseAction("Done")
	c.put(5, small, []byte("Done"), 0)
	c.put(6, small, []byte("Done"), 0)
	c.put(5, a, []byte(big), 0) // reused: fits
	if n, b := c.t.Load().n, c.t.Load().bytes; n != 3 || b != 2*a.footprint()+small.footprint() {
		t.Fatalf("%d entries of %d bytes after a reused ID", n, b)
	}
	c.put(6, a, []byte(big), 0) // reused: fits exactly
	bigger := parseAction(big + ";1")
	c.put(5, bigger, []byte(big+";1"), 0) // reused: does not fit
	if n := c.t.Load().n; n != 1 || c.get(5, []byte(big+";1"), 0) == nil {
		t.Errorf("%d entries: a reused ID past the bytes did not start the cache over", n)
	}
	// An action larger than the bound alone is not kept at all.
	tiny := newCache(100, a.footprint()-1)
	tiny.put(1, a, []byte(big), 0)
	if n, b := tiny.t.Load().n, tiny.t.Load().bytes; n != 0 || b != 0 || tiny.get(1, []byte(big), 0) != nil {
		t.Errorf("%d entries of %d bytes, want none: the action alone is past the bound", n, b)
	}
}

// IDs in a stride that is a power of two spread over the table as
// sequential ones do: the home slot depends on all bits of an ID.
func TestCacheSpreadsStridedIDs(t *testing.T) {
	const n = 4096
	c := newCache(2*n, DefaultCacheBytes)
	for i := uint64(1); i <= n; i++ {
		id := i << 17
		c.put(id, parseAction("Done"), []byte("Done"), 0)
	}
	tb := c.t.Load()
	longest, run := 0, 0
	for i := range tb.slots {
		if tb.slots[i].key.Load() != 0 {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest > 64 {
		t.Errorf("a run of %d occupied slots among %d entries in %d slots: the IDs cluster", longest, n, len(tb.slots))
	}
	for i := uint64(1); i <= n; i++ {
		if c.get(i<<17, []byte("Done"), 0) == nil {
			t.Fatalf("id %d not found", i<<17)
		}
	}
}
