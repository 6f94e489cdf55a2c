package httpprovider

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// maxCommandOutput is how much of a failed OnChange command's output is
// kept, and logged.
const maxCommandOutput = 4096

// How long the OnChange commands may hold things up: a command that has
// exited is waited for pipeWait at most while processes it left in the
// background still hold its output; at Close, a command still running
// after closeWait is killed, with its process group.
const (
	pipeWait  = 5 * time.Second
	closeWait = 10 * time.Second
)

// A commandRunner runs the OnChange command after commits, as rawdbfs
// runs its -u command whenever the database changes. Runs never overlap:
// they follow one another in the background, in the order of the
// commits. A commit to a file whose run is still waiting replaces that
// run's generation with its own, so that a command slower than the
// commits runs for the newest generation rather than falling behind.
type commandRunner struct {
	command string
	log     *slog.Logger

	mu      sync.Mutex
	closed  bool
	waiting map[string]uint64 // the generation each waiting file's run is for
	queue   []string          // the waiting files, oldest first
	busy    bool              // a goroutine is working through the queue
	running sync.WaitGroup
	// kill ends the command running at Close, once closeWait has passed.
	killCtx context.Context
	kill    context.CancelFunc
}

// newCommandRunner returns the runner of the OnChange command.
func newCommandRunner(command string, log *slog.Logger) *commandRunner {
	c := &commandRunner{command: command, log: log}
	c.killCtx, c.kill = context.WithCancel(context.Background())
	return c
}

// run queues "sh -c command" for the commit of generation to file, with
// TRANSDB_GENERATION and TRANSDB_FILE in its environment. A failure is
// logged with the command's output.
func (c *commandRunner) run(generation uint64, file string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.log.Warn("httpprovider: server closed, OnChange command not run", "generation", generation, "file", file)
		return
	}
	if c.waiting == nil {
		c.waiting = make(map[string]uint64)
	}
	if _, ok := c.waiting[file]; !ok {
		c.queue = append(c.queue, file)
	}
	c.waiting[file] = max(c.waiting[file], generation)
	if !c.busy {
		c.busy = true
		c.running.Go(c.work)
	}
}

// work runs the queued commands one after the other until none waits.
func (c *commandRunner) work() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		file := c.queue[0]
		c.queue = c.queue[1:]
		generation := c.waiting[file]
		delete(c.waiting, file)
		c.mu.Unlock()
		c.runOne(generation, file)
	}
}

// runOne runs the command for generation of file and logs a failure.
func (c *commandRunner) runOne(generation uint64, file string) {
	cmd := exec.CommandContext(c.killCtx, "sh", "-c", c.command)
	cmd.Env = append(os.Environ(),
		"TRANSDB_GENERATION="+strconv.FormatUint(generation, 10),
		"TRANSDB_FILE="+file)
	// Its own process group, killed whole: the shell's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = pipeWait
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	switch {
	case errors.Is(err, exec.ErrWaitDelay):
		c.log.Warn("httpprovider: OnChange command left processes in the background that hold its output; not waited for",
			"command", c.command, "generation", generation, "file", file, "output", out.String())
	case c.killCtx.Err() != nil && err != nil:
		c.log.Error("httpprovider: OnChange command killed: the server closed and it ran on", "command", c.command,
			"generation", generation, "file", file, "waited", closeWait.String(), "output", out.String())
	case err != nil:
		c.log.Error("httpprovider: OnChange command failed", "command", c.command,
			"generation", generation, "file", file, "err", err, "output", out.String())
	}
}

// limitedBuffer keeps the first maxCommandOutput bytes written to it and
// drops the rest, so that a command's output costs bounded memory.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p[:min(len(p), maxCommandOutput-len(b.buf))]...)
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// close waits for the running command and those queued before it; later
// commits run none. A command still running after closeWait is killed.
func (c *commandRunner) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		c.kill()
		<-done
	}
	c.kill()
}
