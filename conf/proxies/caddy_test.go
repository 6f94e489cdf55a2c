package proxies

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// startCaddy starts Caddy in front of the stack with the shipped
// caddy/Caddyfile, its addresses from the environment, and returns the
// address it listens on. A missing caddy skips the test, loudly.
func startCaddy(t *testing.T, s *stack) string {
	t.Helper()
	bin := proxyBinary(t, "caddy", false)
	dir := t.TempDir()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	env := []string{
		"TRANSDB_ADDR=" + s.transdbAddr,
		"TRANSDB_BACKEND=" + s.backendAddr,
		"TRANSDB_LISTEN=" + port,
		// Caddy keeps its state under these; none of the user's.
		"HOME=" + dir,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
	}
	conf := shipped(t, "caddy/Caddyfile")
	validate := exec.Command(bin, "validate", "--config", conf, "--adapter", "caddyfile")
	validate.Env = append(os.Environ(), env...)
	if out, err := validate.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
	p := startEnv(t, "caddy", env, bin, "run", "--config", conf, "--adapter", "caddyfile")
	p.waitListening(t, addr)
	return addr
}

func TestCaddyServesTheExampleTable(t *testing.T) {
	s := newStack(t)
	checkExampleTable(t, s, startCaddy(t, s), limits{escapesAgain: true})
}
