// Package freeport picks loopback TCP ports for the servers a test starts
// that cannot pick their own and report it (nginx, HAProxy, Caddy,
// nats-server): ports free now, outside the kernel's ephemeral range.
//
// A port the kernel picked for a listener on port 0, closed again and
// handed to a server, is not reserved: until the server has bound it,
// any process on the machine that listens on port 0 or connects out may
// be given the same port, and the server then fails to start, or the
// test talks to another process's listener. The kernel hands out only
// ports of its ephemeral range (net.ipv4.ip_local_port_range); a port
// below it is taken only by a process that names it, so the ports here
// are drawn at random below that range, and each is checked free by
// listening on it.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The ports drawn from lie in [lowest, the ephemeral range's start):
// above the usual ports of services, below the kernel's.
const lowest = 16384

var (
	mu     sync.Mutex
	handed = map[int]bool{} // ports this process handed out already
)

// Ports returns n distinct loopback TCP ports that are free now and that
// this process has not handed out before.
func Ports(n int) ([]int, error) {
	lo, hi := pool()
	mu.Lock()
	defer mu.Unlock()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000*n {
			return nil, fmt.Errorf("freeport: no free port in [%d, %d) after %d tries", lo, hi, tries)
		}
		p := lo + rand.IntN(hi-lo)
		if handed[p] || !free(p) {
			continue
		}
		handed[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}

// Addr returns a loopback address, 127.0.0.1:PORT, with a port from
// Ports.
func Addr() (string, error) {
	ports, err := Ports(1)
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(ports[0]), nil
}

// free reports whether a listener can be opened on port p of loopback.
func free(p int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// pool returns the range [lo, hi) that ports are drawn from: below the
// kernel's ephemeral range, or above it when too little is left below.
func pool() (lo, hi int) {
	first, last := 32768, 60999 // Linux's default
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			a, err1 := strconv.Atoi(f[0])
			b, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && a <= b {
				first, last = a, b
			}
		}
	}
	if first-lowest >= 4096 {
		return lowest, first
	}
	if 65536-(last+1) >= 4096 {
		return last + 1, 65536
	}
	return lowest, 65536 // an unusual range: the ports may be the kernel's too
}
