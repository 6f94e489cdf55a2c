package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"transdb/bench"
	"transdb/translation/transgen"
)

func TestProbeFileRoundTrips(t *testing.T) {
	rows := transgen.Generate(2000, 1)
	path := filepath.Join(t.TempDir(), "probes")
	o := options{seed: 1, probes: 64}
	if err := writeProbes(path, rows, o); err != nil {
		t.Fatal(err)
	}
	ps, err := readProbes(path)
	if err != nil {
		t.Fatal(err)
	}
	hits, misses := transgen.Probes(rows, 64, 1)
	if !slices.Equal(ps.hits, hits) || !slices.Equal(ps.misses, misses) {
		t.Fatal("probes changed on the way through the file")
	}
	want := bench.ExpectedLookups(rows)
	for i, h := range hits {
		if ps.want[i] != want[h] {
			t.Fatalf("expected result of %v = %+v, want %+v", h, ps.want[i], want[h])
		}
	}
}

func TestDurationsAndSizesKeepThreeDigits(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "-"},
		{812, "812 ns"},
		{12345, "12.3 µs"},
		{4_567_000, "4.57 ms"},
		{1_234_000_000, "1.23 s"},
	} {
		if got := dur(c.d); got != c.want {
			t.Errorf("dur(%d) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := bytes(121 << 20); got != "121 MiB" {
		t.Errorf("bytes = %q", got)
	}
}

func TestParseSizesRejectsNonsense(t *testing.T) {
	if got, err := parseSizes("10000, 100000"); err != nil || !slices.Equal(got, []int{10000, 100000}) {
		t.Errorf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "ten", "10,-1"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}

// TestStorebenchPrintsATableForEveryStore runs the program as a user does,
// on a small table, with children and all.
func TestStorebenchPrintsATableForEveryStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program")
	}
	bin := filepath.Join(t.TempDir(), "storebench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "-sizes", "2000", "-reps", "1", "-lookups", "1000", "-probes", "256",
		"-benchtime", "20ms", "-rounds", "2", "-dir", dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("storebench: %v", err)
	}
	table := string(out)
	for _, s := range bench.Stores {
		if !strings.Contains(table, "| "+s.Name()+" | 2k |") {
			t.Errorf("no row for %s in\n%s", s.Name(), table)
		}
	}
	// Two rounds of lookups per store, each with its figure.
	rounds := regexp.MustCompile(`(?m)^\* (\w+) 2k: \d+, \d+$`).FindAllStringSubmatch(table, -1)
	if len(rounds) != len(bench.Stores) {
		t.Errorf("want a line of 2 rounds for each of %d stores, have %d in\n%s", len(bench.Stores), len(rounds), table)
	}
	if !strings.Contains(table, "| hit lookup at 1M at least 4x faster than bbolt |  | not measured in this run |") {
		t.Errorf("targets that need 1M are not marked unmeasured in\n%s", table)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left in -dir", len(left))
	}
}
