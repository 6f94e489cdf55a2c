package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"transdb/internal/natstest"
)

// TestMeasuresASmallTable runs the whole program on a small table with
// two replicas: the writer publishes, the replicas serve every commit,
// and the table comes out.
func TestMeasuresASmallTable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds transdbd and runs NATS and three daemons")
	}
	natstest.Require(t)
	bin := filepath.Join(t.TempDir(), "replbench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-sizes", "2000", "-commits", "3", "-replicas", "2", "-dir", t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("replbench: %v\n%s\n%s", err, out, stderr.String())
	}
	if !strings.Contains(string(out), "| 2k | ") || !strings.Contains(string(out), "2 replicas, 3 commits per size") {
		t.Errorf("no result in the output:\n%s", out)
	}
}

func TestParseFlagsRejectsNonsense(t *testing.T) {
	for _, args := range [][]string{{"-sizes", "x"}, {"-sizes", "0"}, {"-commits", "0"}, {"-replicas", "0"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}
