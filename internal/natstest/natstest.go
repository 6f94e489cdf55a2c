// Package natstest runs real nats-server processes with JetStream on
// loopback, for the tests and benchmarks of replication: one server, or
// a cluster of several, each with a store directory of its own, that can
// be killed and started again on the same ports and store.
//
// The server is the nats-server binary on PATH (the Debian package
// nats-server, which .ci/run installs) or the one NATS_SERVER names.
// Require finds it for a test: without it the test is skipped, or fails
// under CI=true, where a missing server is a broken machine.
package natstest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"transdb/internal/freeport"
)

// Binary returns the path of nats-server: $NATS_SERVER, else the one on
// PATH (or in /usr/sbin, where Debian puts it).
func Binary() (string, error) {
	if b := os.Getenv("NATS_SERVER"); b != "" {
		return b, nil
	}
	if b, err := exec.LookPath("nats-server"); err == nil {
		return b, nil
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server", nil
	}
	return "", errors.New("natstest: nats-server not found: apt-get install nats-server, or set NATS_SERVER")
}

// Require returns the path of nats-server, skipping the test when there
// is none, or failing it under CI=true.
func Require(t testing.TB) string {
	t.Helper()
	b, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return b
}

// Options describe a server.
type Options struct {
	// Name is the server's name, also used in messages; default "nats".
	Name string
	// Dir is the directory of its JetStream store and log; required.
	Dir string
	// Args are more command-line arguments (--user, --tls, -c FILE...).
	Args []string
}

// A Server is a running nats-server.
type Server struct {
	bin  string
	opts Options
	// Port is the client port, Cluster the route port (0 outside a
	// cluster), Monitor the HTTP monitoring port.
	Port, Cluster, Monitor int
	routes                 []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	log    *bytes.Buffer
}

// URL returns the client URL, nats://127.0.0.1:PORT.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.Port) }

// Start starts a server with JetStream on free loopback ports and waits
// until it is ready.
func Start(bin string, opts Options) (*Server, error) {
	ports, err := freeport.Ports(2)
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, opts: opts, Port: ports[0], Monitor: ports[1]}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	return s, nil
}

// StartCluster starts n servers that form one JetStream cluster, each
// with a store directory under dir, and waits until every one is ready.
func StartCluster(bin, dir string, n int) ([]*Server, error) {
	ports, err := freeport.Ports(3 * n)
	if err != nil {
		return nil, err
	}
	servers := make([]*Server, n)
	var routes []string
	for i := range n {
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(ports[3*i+1]))
	}
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		servers[i] = &Server{bin: bin, Port: ports[3*i], Cluster: ports[3*i+1], Monitor: ports[3*i+2], routes: routes,
			opts: Options{Name: name, Dir: filepath.Join(dir, name)}}
	}
	// The servers start together: the cluster elects its JetStream
	// leader once enough of them are up.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i] = s.Restart() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range servers {
			s.Kill()
		}
		return nil, err
	}
	return servers, nil
}

// Restart starts the server again, after Kill or Stop, on the same ports
// and store, and waits until it is ready.
func (s *Server) Restart() error {
	name := s.opts.Name
	if name == "" {
		name = "nats"
	}
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return err
	}
	args := []string{"-js", "-sd", s.opts.Dir, "-a", "127.0.0.1", "-p", strconv.Itoa(s.Port),
		"-m", strconv.Itoa(s.Monitor), "-n", name}
	if s.Cluster != 0 {
		args = append(args, "--cluster_name", "transdb", "--cluster", "nats://127.0.0.1:"+strconv.Itoa(s.Cluster),
			"--routes", strings.Join(s.routes, ","))
	}
	args = append(args, s.opts.Args...)
	cmd := exec.Command(s.bin, args...)
	log := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = &lockedWriter{s: s, w: log}, &lockedWriter{s: s, w: log}
	exited := make(chan struct{})
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("natstest: %s: %w", name, err)
	}
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.log = cmd, exited, log
	s.mu.Unlock()
	return s.waitReady(name, exited)
}

// waitReady polls the monitoring endpoint /healthz until the server
// says it is healthy, JetStream included, or exits.
func (s *Server) waitReady(name string, exited chan struct{}) error {
	url := "http://127.0.0.1:" + strconv.Itoa(s.Monitor) + "/healthz"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-exited:
			return fmt.Errorf("natstest: %s exited:\n%s", name, s.Log())
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("natstest: %s is not ready after a minute:\n%s", name, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server with SIGKILL and waits for it to exit.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Stop stops the server with SIGTERM, as a shutdown does, and waits
// for it to exit (SIGKILL after 10 s).
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

// Log returns what the server wrote to its standard output and error.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// lockedWriter writes to a server's log under its lock.
type lockedWriter struct {
	s *Server
	w *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.w.Write(p)
}

// StartT starts a server for the test t, with a store in a temporary
// directory and the extra arguments, and kills it when the test ends,
// logging its output if the test failed.
func StartT(t testing.TB, args ...string) *Server {
	t.Helper()
	s, err := Start(Require(t), Options{Dir: t.TempDir(), Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("nats-server on port %d:\n%s", s.Port, s.Log())
		}
	})
	return s
}

// StartClusterT starts a cluster of n servers for the test t and kills
// them when the test ends.
func StartClusterT(t testing.TB, n int) []*Server {
	t.Helper()
	servers, err := StartCluster(Require(t), t.TempDir(), n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Kill()
			if t.Failed() {
				t.Logf("nats-server %s on port %d:\n%s", s.opts.Name, s.Port, s.Log())
			}
		}
	})
	return servers
}
