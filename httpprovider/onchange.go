package httpprovider

import (
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// maxCommandOutput is how much of a failed OnChange command's output is
// logged.
const maxCommandOutput = 4096

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

		cmd := exec.Command("sh", "-c", c.command)
		cmd.Env = append(os.Environ(),
			"TRANSDB_GENERATION="+strconv.FormatUint(generation, 10),
			"TRANSDB_FILE="+file)
		out, err := cmd.CombinedOutput()
		if err != nil {
			c.log.Error("httpprovider: OnChange command failed", "command", c.command,
				"generation", generation, "file", file, "err", err, "output", string(out[:min(len(out), maxCommandOutput)]))
		}
	}
}

// close waits for the running command and those queued before it; later
// commits run none.
func (c *commandRunner) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.running.Wait()
}
