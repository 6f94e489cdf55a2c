package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
	"transdb/internal/syncbuf"
)

// The child processes of the benchmark commands: transdbd built from
// the parent module, and servers that log the address they listen on.

// ModuleDir returns the directory of the parent module, the one the
// replace directive of bench/go.mod names: the root of the repository.
func ModuleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "transdb").Output()
	if err != nil {
		return "", fmt.Errorf("finding the transdb module: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// BuildTransdbd builds cmd/transdbd of the parent module (see ModuleDir)
// into dir, in that module, and returns the binary's path.
func BuildTransdbd(dir string) (string, error) {
	mod, err := ModuleDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "transdbd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/transdbd")
	cmd.Dir = mod
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building transdbd in %s: %w", cmd.Dir, err)
	}
	return bin, nil
}

// A Server is a child process that serves HTTP: a transdbd, or a
// benchmark program serving a handler of its own.
type Server struct {
	Name   string
	Addr   string // host:port it listens on
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer // the first 64 KiB: its start-up lines and first errors
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// listeningRE matches the log line of transdbd, and of the benchmarks'
// own servers, that names the address: level=INFO msg=listening
// addr=127.0.0.1:PORT.
var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// StartServer starts the command and waits until it logs the address it
// listens on.
func StartServer(name string, cmd *exec.Cmd) (*Server, error) {
	s := &Server{Name: name, cmd: cmd, stderr: &syncbuf.Buffer{Max: 64 << 10}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		if m := listeningRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.Addr = m[1]
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s exited before it listened (%v):\n%s", name, s.err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("%s does not listen after a minute:\n%s", name, s.stderr)
		}
	}
}

// PID returns the server's process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stderr returns the start of what the server wrote to its standard
// error.
func (s *Server) Stderr() string { return s.stderr.String() }

// Stop ends the server with SIGTERM (SIGKILL after 10 s) and reports
// whether it had failed on its own before.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s exited early (%v):\n%s", s.Name, s.err, s.stderr)
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return nil
}
