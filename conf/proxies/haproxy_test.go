package proxies

import (
	"testing"
)

// startHAProxy starts HAProxy in front of the stack with the shipped
// haproxy/haproxy.cfg and haproxy/transdb.lua, its addresses from the
// environment, and returns the address it listens on. A missing haproxy
// skips the test, loudly.
func startHAProxy(t *testing.T, s *stack) string {
	t.Helper()
	bin := proxyBinary(t, "haproxy", false)
	addr := freeAddr(t)
	env := []string{
		"TRANSDB_ADDR=" + s.transdbAddr,
		"TRANSDB_BACKEND=" + s.backendAddr,
		"TRANSDB_LISTEN=" + addr,
		"TRANSDB_LUA=" + shipped(t, "haproxy/transdb.lua"),
	}
	conf := shipped(t, "haproxy/haproxy.cfg")
	check := startEnv(t, "haproxy -c", env, bin, "-c", "-f", conf)
	<-check.exited
	if check.err != nil {
		t.Fatalf("haproxy -c: %v\n%s", check.err, check.out)
	}
	p := startEnv(t, "haproxy", env, bin, "-db", "-f", conf)
	p.waitListening(t, addr)
	return addr
}

func TestHAProxyServesTheExampleTable(t *testing.T) {
	s := newStack(t)
	checkExampleTable(t, s, startHAProxy(t, s), limits{noFiles: true})
}
