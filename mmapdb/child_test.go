package mmapdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash and multi-process tests run real processes: the test binary
// re-executes itself with -test.run=^TestHelperProcess$ and the role to
// play in $MMAPDB_TEST_CHILD. A child talks to its parent in lines: it
// reports on stdout ("ready", "committed 7"), takes commands on stdin, and
// explains a failure on stderr before exiting with status 1. A child exits
// when its stdin reaches EOF, so none outlives a parent that dies.

const (
	childRoleEnv = "MMAPDB_TEST_CHILD" // the role; empty in the parent
	childPathEnv = "MMAPDB_TEST_DB"    // the database file
)

// childDeadline bounds the life of every child, and childWait how long
// the parent waits for one line or for an exit: no test hangs.
const (
	childDeadline = 2 * time.Minute
	childWait     = 30 * time.Second
)

// stderrLines is how much of a child's stderr a failure message quotes.
const stderrLines = 25

// childRoles are the parts a child can play: run works on the database
// at path and reads the parent's commands from in.
var childRoles = map[string]func(path string, in *childInput) error{
	"crash-writer": runCrashWriter, // crash_test.go
	"gen-writer":   runGenWriter,   // multiprocess_test.go
	"gen-reader":   runGenReader,
	"lock-holder":  runLockHolder,
	"churn-writer": runChurnWriter,
	"churn-reader": runChurnReader,
}

// TestHelperProcess is not a test: it is the body of the child processes
// of the tests in crash_test.go and multiprocess_test.go. It returns at
// once unless $MMAPDB_TEST_CHILD names a role.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(childRoleEnv)
	if role == "" {
		return
	}
	run, ok := childRoles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
		os.Exit(2)
	}
	time.AfterFunc(childDeadline, func() {
		fmt.Fprintf(os.Stderr, "child %s: still running after %v\n", role, childDeadline)
		os.Exit(3)
	})
	if err := run(os.Getenv(childPathEnv), newChildInput()); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childInput delivers the parent's command lines to a child; at EOF (the
// parent is gone or closed stdin) the child exits.
type childInput struct {
	lines chan string
}

func newChildInput() *childInput {
	in := &childInput{lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			in.lines <- sc.Text()
		}
		os.Exit(0)
	}()
	return in
}

// next returns the next command line.
func (in *childInput) next() string { return <-in.lines }

// tellParent writes one line to the parent.
func tellParent(format string, args ...any) {
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// childProcess is a running child process seen from the parent.
type childProcess struct {
	t     testing.TB
	role  string
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu     sync.Mutex
	lines  []string      // stdout lines not yet consumed
	more   chan struct{} // signalled when lines grow or the child exits
	stderr bytes.Buffer  // guarded by mu through childStderrWriter
	exited bool
	err    error // from Wait, once exited

	done chan struct{} // closed once the child has exited
}

// startChild starts the test binary as a child playing role on the
// database at path. The child is killed, if still running, when the test
// ends.
func startChild(t testing.TB, role, path string) *childProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	// Under -race a process that exits with status 0 sleeps a second
	// first, unless told otherwise.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), childRoleEnv+"="+role, childPathEnv+"="+path, "GORACE="+gorace)
	c := &childProcess{t: t, role: role, cmd: cmd, more: make(chan struct{}, 1), done: make(chan struct{})}
	cmd.Stderr = childStderrWriter{&c.mu, &c.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %s: %v", role, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			c.mu.Unlock()
			c.signal()
		}
		err := cmd.Wait()
		c.mu.Lock()
		c.exited, c.err = true, err
		c.mu.Unlock()
		close(c.done)
		c.signal()
	}()
	t.Cleanup(func() {
		c.kill()
		if !c.waitExit(childWait) {
			t.Errorf("child %s (pid %d) did not exit after SIGKILL", role, cmd.Process.Pid)
		}
	})
	return c
}

type childStderrWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w childStderrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (c *childProcess) signal() {
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// String describes the child for failure messages, with its stderr.
func (c *childProcess) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := fmt.Sprintf("child %s (pid %d)", c.role, c.cmd.Process.Pid)
	if c.exited {
		s += fmt.Sprintf(", exited: %v", c.err)
	}
	if e := strings.TrimSpace(c.stderr.String()); e != "" {
		// A fatal error's goroutine dump is long: its head says it all.
		lines := strings.Split(e, "\n")
		if len(lines) > stderrLines {
			lines = append(lines[:stderrLines], fmt.Sprintf("... (%d more lines)", len(lines)-stderrLines))
		}
		s += ", stderr:\n" + strings.Join(lines, "\n")
	}
	return s
}

// next returns the next stdout line that match accepts, skipping the
// others. ok is false when the child exits or timeout passes first.
func (c *childProcess) next(match func(string) bool, timeout time.Duration) (line string, ok bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		for len(c.lines) > 0 {
			line = c.lines[0]
			c.lines = c.lines[1:]
			if match(line) {
				c.mu.Unlock()
				return line, true
			}
		}
		exited := c.exited
		c.mu.Unlock()
		if exited {
			return "", false
		}
		select {
		case <-c.more:
		case <-timer.C:
			return "", false
		}
	}
}

// expect waits for a stdout line starting with prefix and returns it; it
// fails the test when the child exits or stays silent for childWait.
func (c *childProcess) expect(prefix string) string {
	c.t.Helper()
	line, ok := c.next(func(l string) bool { return strings.HasPrefix(l, prefix) }, childWait)
	if !ok {
		c.t.Fatalf("no line %q from %v", prefix, c)
	}
	return line
}

// send writes a command line to the child's stdin.
func (c *childProcess) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("send %q to %v: %v", line, c, err)
	}
}

// kill sends SIGKILL unless the child has exited.
func (c *childProcess) kill() {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
	}
}

func (c *childProcess) waitExit(timeout time.Duration) bool {
	select {
	case <-c.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// wait waits for the child to exit and returns its Wait error; it fails
// the test when the child is still running after childWait.
func (c *childProcess) wait() error {
	c.t.Helper()
	if !c.waitExit(childWait) {
		c.t.Fatalf("%v still running after %v", c, childWait)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// killedBySIGKILL reports whether a Wait error says SIGKILL ended the
// process.
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// writerTempFiles lists the temporary files of writers of the database at path
// (<file>.tmp-*).
func writerTempFiles(t testing.TB, path string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPrefix(path)+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}
