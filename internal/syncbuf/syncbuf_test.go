package syncbuf

import (
	"strings"
	"sync"
	"testing"
)

func TestConcurrentWritesAndReads(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("ab\n"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if s := b.String(); len(s) != 4*100*3 || strings.Count(s, "ab\n") != 400 {
		t.Errorf("%d bytes, %d lines; want 1200 bytes, 400 lines", len(s), strings.Count(s, "ab\n"))
	}
}

func TestMaxKeepsTheFirstBytes(t *testing.T) {
	b := Buffer{Max: 5}
	for _, w := range []string{"abc", "defg", "h"} {
		if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v: want all of it taken", w, n, err)
		}
	}
	if s := b.String(); s != "abcde" {
		t.Errorf("kept %q, want the first 5 bytes, abcde", s)
	}
}
