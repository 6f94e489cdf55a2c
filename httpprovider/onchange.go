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
// runs its -u command whenever the database changes.
type commandRunner struct {
	command string
	log     *slog.Logger

	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// run starts "sh -c command" in the background with TRANSDB_GENERATION
// and TRANSDB_FILE in its environment. The commands of successive
// commits may run at the same time. A failure is logged with the
// command's output.
func (c *commandRunner) run(generation uint64, file string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.log.Warn("httpprovider: server closed, OnChange command not run", "generation", generation, "file", file)
		return
	}
	c.running.Go(func() {
		cmd := exec.Command("sh", "-c", c.command)
		cmd.Env = append(os.Environ(),
			"TRANSDB_GENERATION="+strconv.FormatUint(generation, 10),
			"TRANSDB_FILE="+file)
		out, err := cmd.CombinedOutput()
		if err != nil {
			c.log.Error("httpprovider: OnChange command failed", "command", c.command,
				"generation", generation, "file", file, "err", err, "output", string(out[:min(len(out), maxCommandOutput)]))
		}
	})
}

// close waits for the running commands; later commits run none.
func (c *commandRunner) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.running.Wait()
}
