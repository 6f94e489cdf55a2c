package engine

import "testing"

// TestAdmissionKeepsACycleOfHalfItsFilter cycles through half as many
// requests as the admission filter has slots: at the second round more
// than 90% are admitted, and by the fourth more than 99% (a request is
// left out while its bucket's fingerprints are given way to others, at
// random). A filter of one fingerprint per
// slot admitted only the requests alone in their slot, 61% of them
// (1/e^0.5), and the same ones every round: the others were never kept.
func TestAdmissionKeepsACycleOfHalfItsFilter(t *testing.T) {
	m := newMemo(1 << 20)
	if len(m.seen) != 4096 {
		t.Fatalf("the filter of a 1 MiB cache has %d slots, want 4096", len(m.seen))
	}
	n := len(m.seen) / 2
	req := &Request{URI: "/"}
	var rd reads
	kept := make([]bool, n)
	for round := range 4 {
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
		if round == 1 && admitted < n*9/10 {
			t.Fatalf("round 1: %d of %d admitted, want at least 90%%", admitted, n)
		}
	}
	if left := n - countTrue(kept); left > n/100 {
		t.Fatalf("%d of %d requests are not admitted after four rounds", left, n)
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
