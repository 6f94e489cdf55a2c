package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"transdb/internal/syncbuf"
)

// The tests run transdbd as a child process: the binary built once by
// TestMain, with the race detector when the tests have it.

// binary is the path of the transdbd built for the tests.
var binary string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "transdbd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "transdbd")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building transdbd:", err)
		return 1
	}
	return m.Run()
}

// childEnv is the environment of the children: the test's own, without
// the variables transdbd reads (GOGC among them), plus extra
// ("NAME=value"). A race-enabled child exits without the race detector's
// customary one-second pause; a race it finds makes it exit 66 with a
// report on stderr, which fails the test.
func childEnv(extra ...string) []string {
	env := []string{"GORACE=atexit_sleep_ms=0"}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "TRANSDB_DATA", "TRANSDB_ADMIN_TOKEN", "XDG_DATA_HOME", "GORACE", "GOGC":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// result is what a finished transdbd produced.
type result struct {
	stdout, stderr string
	code           int
}

// transdbd runs the binary with args and stdin and waits for it.
func transdbd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("transdbd %q: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// ok runs transdbd and fails the test unless it exits 0 with nothing on
// stderr; it returns stdout.
func ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := transdbd(t, stdin, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("transdbd %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	return r.stdout
}

// wantError checks that r is a failure with exit status code and one line
// on stderr that starts with prefix and matches pattern.
func wantError(t *testing.T, r result, code int, prefix, pattern string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr is not one line: %q", r.stderr)
	}
	if !strings.HasPrefix(r.stderr, prefix) {
		t.Errorf("stderr %q does not start with %q", r.stderr, prefix)
	}
	if !regexp.MustCompile(pattern).MatchString(r.stderr) {
		t.Errorf("stderr %q does not match %q", r.stderr, pattern)
	}
}

// output collects what a running child writes, for tests that wait for
// a line to appear.
type output struct{ syncbuf.Buffer }

// waitFor polls until the output matches re and returns the submatches,
// or fails the test after a generous bound (the machine may be busy).
func (o *output) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if m := re.FindStringSubmatch(o.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no output matching %q in:\n%s", re, o.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventually polls cond until it reports true, or fails the test with
// what it last said after a generous bound.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, state := cond()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// exampleDB returns a new database file holding the example table at
// the top of the file, where the CLI puts it without -basekey, and the
// path of the table's text.
func exampleDB(t *testing.T) (db, table string) {
	t.Helper()
	dir := t.TempDir()
	table = writeFile(t, dir, "example.txt", string(exampleTable))
	db = filepath.Join(dir, "trans.mmdb")
	out := ok(t, "", "load", "-db", db, table)
	if out != "loaded records=13 generation=1\n" {
		t.Fatalf("load: %q", out)
	}
	return db, table
}

func TestEmbeddedExampleIsTheTestdataTable(t *testing.T) {
	want, err := os.ReadFile("../../testdata/example.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(exampleTable, want) {
		t.Fatal("cmd/transdbd/example.txt differs from testdata/example.txt: copy testdata/example.txt over it")
	}
}
