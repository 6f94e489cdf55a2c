package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildTransdbd builds cmd/transdbd of the parent module (the one the
// replace directive of bench/go.mod names) into dir, in that module, and
// returns the binary's path.
func buildTransdbd(dir string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "transdb").Output()
	if err != nil {
		return "", fmt.Errorf("finding the transdb module: %w", err)
	}
	bin := filepath.Join(dir, "transdbd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/transdbd")
	cmd.Dir = strings.TrimSpace(string(out))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building transdbd in %s: %w", cmd.Dir, err)
	}
	return bin, nil
}

// A server is a child process that serves HTTP: a transdbd, or this
// program serving the bare handler.
type server struct {
	name   string
	cmd    *exec.Cmd
	addr   string // host:port it listens on
	stderr *logTail
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// listeningRE matches the log line of transdbd, and of the bare server,
// that names the address: level=INFO msg=listening addr=127.0.0.1:PORT.
var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer starts the command and waits until it logs the address it
// listens on.
func startServer(name string, cmd *exec.Cmd) (*server, error) {
	s := &server{name: name, cmd: cmd, stderr: &logTail{}, exited: make(chan struct{})}
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
			s.addr = m[1]
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("%s exited before it listened (%v):\n%s", name, s.err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s does not listen after a minute:\n%s", name, s.stderr)
		}
	}
}

// startTransdbd serves the database file db with transdbd, read-only,
// under the base key of the default configuration. With a profile
// directory, transdbd writes a CPU profile there, NAME.pprof, when it
// stops.
func startTransdbd(bin, dir, name, db, profiles string) (*server, error) {
	cfg := filepath.Join(dir, name+".conf")
	text := "Listen 127.0.0.1:0\n" +
		"<TranslationProvider MMapDB>\n" +
		"    FileName " + db + "\n" +
		"    ReadOnly 1\n" +
		"    BaseKey  [qw/trans db/]\n" +
		"</TranslationProvider>\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, err
	}
	args := []string{"serve", "-config", cfg}
	if profiles != "" {
		args = append(args, "-cpuprofile", filepath.Join(profiles, name+".pprof"))
	}
	return startServer(name, exec.Command(bin, args...))
}

// pid returns the server's process ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server with SIGTERM (SIGKILL after 10 s) and reports
// whether it had failed on its own before.
func (s *server) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("%s exited early (%v):\n%s", s.name, s.err, s.stderr)
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

// logTail keeps the first 64 KiB a child writes to stderr: enough for
// its start-up lines and the first errors.
type logTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 64<<10 - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// memory is a process's memory, in KiB, from /proc/PID/smaps_rollup
// (all mappings) or from the entry of one mapping in /proc/PID/smaps.
type memory struct {
	Rss, Pss, Anonymous, PrivateDirty, SharedClean, PrivateClean int64
}

// memoryFields are the lines of smaps that fill a memory.
var memoryFields = map[string]func(m *memory) *int64{
	"Rss:":           func(m *memory) *int64 { return &m.Rss },
	"Pss:":           func(m *memory) *int64 { return &m.Pss },
	"Anonymous:":     func(m *memory) *int64 { return &m.Anonymous },
	"Private_Dirty:": func(m *memory) *int64 { return &m.PrivateDirty },
	"Shared_Clean:":  func(m *memory) *int64 { return &m.SharedClean },
	"Private_Clean:": func(m *memory) *int64 { return &m.PrivateClean },
}

// readRollup reads /proc/PID/smaps_rollup.
func readRollup(pid int) (memory, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return memory{}, err
	}
	var m memory
	err = parseSmaps(bytes.NewReader(data), func(string) bool { return true }, &m)
	return m, err
}

// readMapping adds up the entries of /proc/PID/smaps that map the file
// path (a database version is one mapping, but a process that switched
// versions may map several files of that name, the older ones deleted).
func readMapping(pid int, path string) (memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps")
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	err = parseSmaps(f, func(name string) bool { return name == path }, &m)
	return m, err
}

// parseSmaps adds to m the fields of the smaps entries whose mapped file
// name satisfies match; smaps_rollup has one entry whose "name" is
// [rollup].
func parseSmaps(r io.Reader, match func(name string) bool, m *memory) error {
	sc := bufio.NewScanner(r)
	in, seen := false, false
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if field, ok := memoryFields[f[0]]; ok {
			if !in {
				continue
			}
			if len(f) < 2 {
				return fmt.Errorf("smaps line %q", line)
			}
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return fmt.Errorf("smaps line %q: %w", line, err)
			}
			*field(m) += v
			continue
		}
		if strings.HasSuffix(f[0], ":") && !strings.Contains(f[0], "-") {
			continue // another field of the current entry
		}
		// The header line of an entry: "START-END PERMS OFFSET DEV INODE [NAME]".
		name := ""
		if len(f) >= 6 {
			name = strings.Join(f[5:], " ")
		}
		in = match(name)
		seen = seen || in
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !seen {
		return errors.New("smaps: no matching mapping")
	}
	return nil
}

// clockTick is the unit of the CPU times in /proc/PID/stat: USER_HZ,
// which is 100 on Linux.
const clockTick = 10 * time.Millisecond

// processCPU returns the CPU time (user and system) a process has used,
// from /proc/PID/stat; pid 0 is this process.
func processCPU(pid int) (time.Duration, error) {
	name := "/proc/self/stat"
	if pid != 0 {
		name = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count the fields after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: %q", name, b)
	}
	f := strings.Fields(string(b[i+1:]))
	// Fields 14 and 15 (utime, stime) are the 12th and 13th after it.
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: %q", name, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: %q", name, b)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
