package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPortsAreFreeDistinctAndOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := pool()
	seen := map[int]bool{}
	for range 20 {
		ports, err := Ports(3)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ports {
			if p < lo || p >= hi {
				t.Errorf("port %d outside [%d, %d)", p, lo, hi)
			}
			if seen[p] {
				t.Errorf("port %d handed out twice", p)
			}
			seen[p] = true
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				t.Fatalf("port %d is not free: %v", p, err)
			}
			ln.Close()
		}
	}
	if lo == lowest && hi == 65536 {
		t.Skip("an unusual ephemeral range: the pool overlaps it")
	}
	// What the kernel picks for a listener on port 0 lies in its
	// ephemeral range, outside the pool.
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if p >= lo && p < hi {
			t.Errorf("the kernel picked port %d, inside the pool [%d, %d)", p, lo, hi)
		}
	}
}

func TestAPortInUseIsNotFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if p := ln.Addr().(*net.TCPAddr).Port; free(p) {
		t.Errorf("port %d, listened on, reported free", p)
	}
}
