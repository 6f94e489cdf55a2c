package proxies

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"transdb/internal/freeport"
	"transdb/internal/syncbuf"
)

// transdbdBinary is the transdbd built for the tests.
var transdbdBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "proxies-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	transdbdBinary = filepath.Join(dir, "transdbd")
	build := exec.Command("go", "build", "-o", transdbdBinary, "transdb/cmd/transdbd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building transdbd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// adminToken is the AdminToken of the tests' transdbd.
const adminToken = "proxy-test-token"

// The files of the document root, different per language so that a test
// sees which one the proxy served.
var docFiles = map[string][]byte{
	"en/img.png": []byte("\x89PNG\r\n\x1a\n english image"),
	"de/img.png": []byte("\x89PNG\r\n\x1a\n deutsches Bild"),
}

// A stack is transdbd serving the example table, with the document root
// of its File actions, and the echoing backend that the table's Proxy
// URLs (host "backend") and the requests without Proxy go to.
type stack struct {
	dir         string
	docroot     string
	transdbAddr string // host:port of transdbd
	backendAddr string // host:port of the backend
	transdbd    *process
}

// newStack starts transdbd and the backend, both stopped at the end of
// the test. extra are more directives for transdbd's configuration.
func newStack(t *testing.T, extra ...string) *stack {
	t.Helper()
	s := &stack{dir: t.TempDir()}
	s.docroot = filepath.Join(s.dir, "www")
	for name, data := range docFiles {
		writeFile(t, filepath.Join(s.docroot, name), data)
	}
	db := filepath.Join(s.dir, "trans.mmdb")
	run(t, transdbdBinary, "load", "-db", db, filepath.Join("..", "..", "testdata", "example.txt"))
	cfg := writeFile(t, filepath.Join(s.dir, "transdbd.conf"), []byte(fmt.Sprintf(`Listen 127.0.0.1:0
TranslationKey front
DocumentRoot %s
TrustedProxies 127.0.0.1 ::1
AdminToken %s
%s
<TranslationProvider MMapDB>
    FileName %s
</TranslationProvider>
`, s.docroot, adminToken, strings.Join(extra, "\n"), db)))
	s.transdbd = start(t, "transdbd", transdbdBinary, "serve", "-config", cfg)
	m := s.transdbd.waitOutput(t, regexp.MustCompile(`msg=listening addr=(\S+)`))
	s.transdbAddr = m[1]

	backend := httptest.NewServer(http.HandlerFunc(echo))
	t.Cleanup(backend.Close)
	s.backendAddr = strings.TrimPrefix(backend.URL, "http://")
	return s
}

// An echoed request is what the backend received.
type echoed struct {
	Method string      `json:"method"`
	URI    string      `json:"uri"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

// echo answers a request with what it received, as JSON.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Echo", "1")
	json.NewEncoder(w).Encode(echoed{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header, Body: string(body)})
}

// commit applies a transaction through transdbd.
func (s *stack) commit(t *testing.T, ops string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+s.transdbAddr+"/v1/txn", strings.NewReader(`{"ops":`+ops+`}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("txn: %d %s", resp.StatusCode, b)
	}
}

// A reply is a response of the proxy.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// echoed returns what the backend received, failing the test when the
// reply does not come from it.
func (r reply) echoed(t *testing.T) echoed {
	t.Helper()
	var e echoed
	if r.status != 200 || r.header.Get("X-Echo") != "1" {
		t.Fatalf("not the backend's answer: %d %v %q", r.status, r.header, r.body)
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("backend answer %q: %v", r.body, err)
	}
	return e
}

// request sends a request to addr from the local address from (a
// loopback address), for host, with the headers given as name, value
// pairs; redirects are not followed.
func request(t *testing.T, from, addr, method, host, target, body string, header ...string) reply {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", method, target, host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// A process is a server the test started, stopped at its end.
type process struct {
	name   string
	cmd    *exec.Cmd
	out    *syncbuf.Buffer
	exited chan struct{}
	err    error
}

// start starts a server, with its output collected; at the end of the
// test it gets SIGTERM, and SIGKILL if it does not exit within 10 s.
func start(t *testing.T, name, bin string, args ...string) *process {
	t.Helper()
	return startEnv(t, name, nil, bin, args...)
}

// startEnv is start with more environment variables.
func startEnv(t *testing.T, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), out: new(syncbuf.Buffer), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})
	return p
}

// waitOutput waits until the output matches re and returns the match.
func (p *process) waitOutput(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited (%v):\n%s", p.name, p.err, p.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q in its output:\n%s", p.name, re, p.out)
		}
	}
}

// waitListening waits until addr accepts connections.
func (p *process) waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("%s exited (%v):\n%s", p.name, p.err, p.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s: %v\n%s", p.name, addr, err, p.out)
		}
	}
}

// freeAddr returns a free loopback address, for a server that cannot
// pick its own, with a port that no listener on port 0 is given while the
// server starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// writeFile writes a file, creating its directory, and returns its name.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// run runs a command to its end and fails the test when it fails.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, out)
	}
	return string(out)
}

// shipped returns the absolute path of a shipped file of this directory.
func shipped(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// proxyBinary finds the binary of a proxy server. A missing one skips
// the test, loudly, unless required says CI must have it: then the test
// fails.
func proxyBinary(t *testing.T, name string, required bool) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				return filepath.Join(dir, name)
			}
		}
		msg := fmt.Sprintf("!!! %s IS NOT INSTALLED: the %s configuration in conf/proxies/%s is NOT TESTED (.ci/run installs the Debian package %s) !!!", strings.ToUpper(name), name, name, name)
		if required && os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return bin
}
