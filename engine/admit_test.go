package engine

import (
	"strconv"
	"testing"
)

// TestAdmissionKeepsACycleOfHalfItsFilter cycles through half as many
// requests as the admission filter has slots: at the second round more
// than 85% are admitted (about 93% on average), and by the eighth more
// than 98% (over 3,000 runs, at most 9 of the 2,048 were left: a request
// is left out while the others of its bucket take its place, at
// random). A filter of one fingerprint per slot admitted only the
// requests alone in their slot, 61% of them (1/e^0.5), and the same ones
// every round: the others were never kept.
func TestAdmissionKeepsACycleOfHalfItsFilter(t *testing.T) {
	m := newMemo(1 << 20)
	if len(m.seen) != 4096 {
		t.Fatalf("the filter of a 1 MiB cache has %d slots, want 4096", len(m.seen))
	}
	n := len(m.seen) / 2
	req := &Request{URI: "/"}
	var rd reads
	kept := make([]bool, n)
	for round := range 8 {
		admitted := 0
		for i := range kept {
			if kept[i] {
				continue // its decision is kept: no miss
			}
			if m.admit(m.key("k", "/"+string(rune(0x4e00+i))), req, &rd) {
				kept[i] = true
				admitted++
			}
		}
		t.Logf("round %d: %d admitted", round, admitted)
		if round == 0 && admitted != 0 {
			t.Fatalf("round 0: %d admitted, want none: a request is admitted when seen again", admitted)
		}
		if round == 1 && admitted < n*85/100 {
			t.Fatalf("round 1: %d of %d admitted, want at least 85%%", admitted, n)
		}
	}
	if left := n - countTrue(kept); left > n/50 {
		t.Fatalf("%d of %d requests are not admitted after eight rounds", left, n)
	}
}

// TestAdmittedRequestsGiveWayFirst fills a bucket of the filter: an
// admitted request stays in it, and is admitted again at once when the
// cache has started over, until a waiting request needs its place.
func TestAdmittedRequestsGiveWayFirst(t *testing.T) {
	m := newMemo(1 << 20)
	bucketOf := func(h uint64) int { return int(h) & (len(m.seen) - 1) / memoAdmitWays }
	// Five uris whose requests share a bucket.
	var hs []uint64
	first := m.key("k", "/0")
	hs = append(hs, first)
	for i := 1; len(hs) < memoAdmitWays+1; i++ {
		if h := m.key("k", "/"+strconv.Itoa(i)); bucketOf(h) == bucketOf(first) {
			hs = append(hs, h)
		}
	}
	req := &Request{URI: "/"}
	var rd reads
	admit := func(i int) bool { return m.admit(hs[i], req, &rd) }
	if admit(0) || !admit(0) {
		t.Fatal("the first request is not admitted at its second miss")
	}
	if !admit(0) {
		t.Fatal("an admitted request is not admitted again at once, as after the cache starts over")
	}
	for i := 1; i < memoAdmitWays; i++ {
		if admit(i) {
			t.Fatalf("request %d is admitted at its first miss", i)
		}
	}
	// The bucket is full: the admitted request gives way to the next
	// waiting one, and none of those waiting is forgotten.
	if admit(memoAdmitWays) {
		t.Fatal("the last request is admitted at its first miss")
	}
	for i := 1; i <= memoAdmitWays; i++ {
		if !admit(i) {
			t.Fatalf("request %d is not admitted at its second miss: it gave way to another", i)
		}
	}
	if admit(0) {
		t.Fatal("the first request is still admitted after it gave way")
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// TestAdmissionSlots checks the filter's size for a few bounds.
func TestAdmissionSlots(t *testing.T) {
	for _, tt := range []struct{ bytes, slots int }{
		{1, 4096}, {1 << 20, 4096}, {2 << 20, 8192}, {DefaultDecisionCacheBytes, 1 << 19}, {1 << 62, 1 << 22},
	} {
		if got := admitSlots(tt.bytes); got != tt.slots {
			t.Errorf("admitSlots(%d) = %d, want %d", tt.bytes, got, tt.slots)
		}
	}
}
