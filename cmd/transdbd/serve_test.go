package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// daemon is a running transdbd.
type daemon struct {
	cmd            *exec.Cmd
	stdout, stderr *output
	base           string // http://127.0.0.1:PORT
	exited         chan struct{}
	exitCode       int
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startDaemon starts transdbd with args and the extra environment, and
// waits until it listens.
func startDaemon(t *testing.T, env []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{
		cmd:    exec.Command(binary, args...),
		stdout: new(output),
		stderr: new(output),
		exited: make(chan struct{}),
	}
	d.cmd.Env = childEnv(env...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := d.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			d.exitCode = ee.ExitCode()
		} else if err != nil {
			d.exitCode = -1
		}
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("transdbd %q stderr:\n%s", args, d.stderr)
		}
	})
	addr := d.waitListening(t)
	d.base = "http://" + addr
	return d
}

// waitListening waits for the log line with the address, or for the
// daemon to exit.
func (d *daemon) waitListening(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if m := listeningRE.FindStringSubmatch(d.stderr.String()); m != nil {
			return m[1]
		}
		select {
		case <-d.exited:
			t.Fatalf("transdbd exited with %d before listening:\n%s", d.exitCode, d.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("transdbd does not listen:\n%s", d.stderr)
		}
	}
}

// signal sends sig to the daemon.
func (d *daemon) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the daemon to exit and returns its exit status.
func (d *daemon) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-d.exited:
		return d.exitCode
	case <-time.After(time.Minute):
		t.Fatalf("transdbd does not exit:\n%s", d.stderr)
		return -1
	}
}

// get requests path and returns status and body.
func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	return request(t, "GET", d.base+path, "", "")
}

// request makes an HTTP request and returns status and body.
func request(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// config writes a configuration file serving the database db on a free
// loopback port, with the extra directives, and returns its path.
func config(t *testing.T, db string, readOnly bool, extra ...string) string {
	t.Helper()
	ro := 0
	if readOnly {
		ro = 1
	}
	text := fmt.Sprintf(`Listen 127.0.0.1:0
TranslationKey front
CheckInterval 100ms
%s
<TranslationProvider MMapDB>
    FileName %s
    ReadOnly %d
</TranslationProvider>
`, strings.Join(extra, "\n"), db, ro)
	return writeFile(t, t.TempDir(), "transdbd.conf", text)
}

// TestServeAppliesTheTranslationLimits: the limits of the configuration
// reach the daemon's engine.
func TestServeAppliesTheTranslationLimits(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")
	ok(t, "", "load", "-db", db, writeFile(t, dir, "example.txt", string(exampleTable)))
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true, "MaxRows 2"))
	code, body := d.get(t, "/v1/translate?uri=/static/a.css&host=www.xyz.com")
	if code != 200 || !strings.Contains(body, `"status":500`) || !strings.Contains(body, "more than 2 rows walked") {
		t.Errorf("%d %s: want the decision ended by MaxRows", code, body)
	}
}

func TestServeConfigErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text, pattern string
	}{
		{"Listen 127.0.0.1:0\nNoSuchDirective 1\n", `transdbd\.conf:2: .*NoSuchDirective`},
		{"Listen 127.0.0.1:0\n<TranslationProvider MMapDB>\n FileName x.mmdb\n BaseKey [qw/a]\n</TranslationProvider>\n", `transdbd\.conf:4: BaseKey: .*invalid base key`},
		{"Listen 127.0.0.1:0\n", `transdbd\.conf: .*no TranslationProvider`},
	} {
		path := writeFile(t, dir, "transdbd.conf", c.text)
		r := transdbd(t, "", "serve", "-config", path)
		wantError(t, r, 1, "transdbd serve: ", c.pattern)
	}
	// A port in use is a failure too.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := writeFile(t, dir, "busy.conf", fmt.Sprintf("Listen %s\nTranslationProvider MMapDB filename=%s\n", ln.Addr(), filepath.Join(dir, "x.mmdb")))
	r := transdbd(t, "", "serve", "-config", path)
	if want := fmt.Sprintf("transdbd serve: %s: Listen %s: listen tcp %s", path, ln.Addr(), ln.Addr()); r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("serving a busy port: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestServeAnswersTheAPIAsTheCLIDoes(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")
	d := startDaemon(t, []string{"TRANSDB_ADMIN_TOKEN=s3cret"}, "serve", "-config",
		config(t, db, false, "AdminToken ${TRANSDB_ADMIN_TOKEN}"))

	// The writable daemon created the database.
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the database file was not created: %v", err)
	}
	if code, body := d.get(t, "/readyz"); code != 200 {
		t.Fatalf("readyz: %d %s", code, body)
	}
	code, body := request(t, "POST", d.base+"/v1/load?format=text", "s3cret", string(exampleTable))
	if code != 200 || body != `{"generation":1,"records":13}`+"\n" && body != `{"generation":1,"records":13}` {
		t.Fatalf("load: %d %s", code, body)
	}
	if code, _ := request(t, "POST", d.base+"/v1/load", "wrong", string(exampleTable)); code != 401 {
		t.Errorf("load with a wrong token: %d, want 401", code)
	}

	// fetch and resolve print exactly what the server answers.
	for _, c := range []struct {
		path string
		args []string
	}{
		{"/v1/fetch?key=front&uri=/static", []string{"fetch", "-db", db, "front", "/static"}},
		{"/v1/fetch?key=front&uri=:PRE:&notes=1", []string{"fetch", "-db", db, "-notes", "front", ":PRE:"}},
		{"/v1/fetch?key=front&uri=/nothing", []string{"fetch", "-db", db, "front", "/nothing"}},
		{"/v1/resolve?key=front&uri=/static/img.png", []string{"resolve", "-db", db, "front", "/static/img.png"}},
		{"/v1/resolve?key=back&uri=/appl1/x", []string{"resolve", "-db", db, "back", "/appl1/x"}},
	} {
		code, body := d.get(t, c.path)
		if code != 200 {
			t.Errorf("%s: %d %s", c.path, code, body)
			continue
		}
		if out := ok(t, "", c.args...); strings.TrimSuffix(out, "\n") != strings.TrimSuffix(body, "\n") {
			t.Errorf("transdbd %q prints\n%s\nGET %s answers\n%s", c.args, out, c.path, body)
		}
	}

	// The example of DESIGN section 10.
	_, body = d.get(t, "/v1/resolve?uri=/static/img.png")
	var res struct {
		Generation uint64 `json:"generation"`
		Pre        []struct {
			ID uint64 `json:"id"`
		} `json:"pre"`
		Matches []struct {
			URI      string `json:"uri"`
			PathInfo string `json:"path_info"`
			Blocks   []struct {
				Action string `json:"action"`
			} `json:"blocks"`
		} `json:"matches"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("resolve: %v: %s", err, body)
	}
	if len(res.Pre) != 5 || len(res.Matches) != 2 ||
		res.Matches[0].URI != "/static" || res.Matches[0].PathInfo != "/img.png" ||
		res.Matches[1].URI != "/" || res.Matches[1].PathInfo != "/static/img.png" ||
		!strings.HasPrefix(res.Matches[1].Blocks[0].Action, "Config: ") {
		t.Errorf("resolve /static/img.png: %s", body)
	}

	for path, want := range map[string]string{
		"/v1/keys":          `"keys":["back","front"]`,
		"/v1/uris?key=back": `"pairs":[["back","/appl1"],["back","/appl2"],["back",":PRE:"]]`,
	} {
		if code, body := d.get(t, path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s, want %s", path, code, body, want)
		}
	}
	if code, body := d.get(t, "/v1/dump"); code != 200 || body != ok(t, "", "dump", "-db", db) {
		t.Errorf("/v1/dump: %d, differs from transdbd dump:\n%s", code, body)
	}

	// A transaction with the token.
	txn := `{"ops":[{"op":"insert","key":"front","uri":"/new","block":0,"order":0,"action":"Proxy: 'http://new/'","note":"added"}]}`
	if code, body := request(t, "POST", d.base+"/v1/txn", "s3cret", txn); code != 200 || !strings.Contains(body, `"generation":2`) {
		t.Fatalf("txn: %d %s", code, body)
	}
	out := ok(t, "", "fetch", "-db", db, "-notes", "front", "/new")
	if !strings.Contains(out, `"action":"Proxy: 'http://new/'"`) || !strings.Contains(out, `"note":"added"`) {
		t.Errorf("fetch after txn: %s", out)
	}

	// stats prints the numbers of /v1/stats, with the counters of its
	// own process.
	_, body = d.get(t, "/v1/stats")
	var server, cli map[string]any
	if err := json.Unmarshal([]byte(body), &server); err != nil {
		t.Fatalf("/v1/stats: %v: %s", err, body)
	}
	if err := json.Unmarshal([]byte(ok(t, "", "stats", "-db", db)), &cli); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"generation", "records", "stored_records", "file_bytes", "reads", "writes", "creates", "deletes", "reloads"} {
		if _, ok := server[name]; !ok {
			t.Errorf("/v1/stats has no %s: %s", name, body)
		}
		if _, ok := cli[name]; !ok {
			t.Errorf("transdbd stats has no %s", name)
		}
	}
	for _, name := range []string{"generation", "records", "file_bytes"} {
		if server[name] != cli[name] {
			t.Errorf("%s: server %v, transdbd stats %v", name, server[name], cli[name])
		}
	}
	if cli["records"] != float64(14) || cli["generation"] != float64(2) {
		t.Errorf("transdbd stats: %v", cli)
	}

	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status after SIGTERM: %d", code)
	}
}

func TestReadOnlyServeFollowsEveryKindOfNewVersion(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")
	table := writeFile(t, dir, "example.txt", string(exampleTable))
	ro := startDaemon(t, nil, "serve", "-config", config(t, db, true))

	// No file yet: not ready, lookups 503, writes refused.
	if code, body := ro.get(t, "/readyz"); code != 503 {
		t.Errorf("readyz without a database: %d %s", code, body)
	}
	if code, body := ro.get(t, "/v1/fetch?uri=/static"); code != 503 {
		t.Errorf("fetch without a database: %d %s", code, body)
	}
	if code, _ := ro.get(t, "/healthz"); code != 200 {
		t.Errorf("healthz: %d", code)
	}

	waitFor := func(what, path, want string) {
		t.Helper()
		eventually(t, what, func() (bool, string) {
			code, body := ro.get(t, path)
			return code == 200 && strings.Contains(body, want), fmt.Sprintf("%d %s", code, body)
		})
	}

	// 1. The CLI creates the file and commits.
	ok(t, "", "load", "-db", db, table)
	waitFor("version of transdbd load", "/v1/fetch?uri=/static", `"action":"File: `)
	if code, _ := ro.get(t, "/readyz"); code != 200 {
		t.Errorf("readyz with a database: %d", code)
	}
	ok(t, "", "backup", "-db", db, filepath.Join(dir, "gen1.mmdb"))

	// 2. Another daemon commits.
	rw := startDaemon(t, nil, "serve", "-config", config(t, db, false, "AdminToken tok"))
	txn := `{"ops":[{"op":"insert","key":"front","uri":"/new","block":0,"order":0,"action":"from the other daemon"}]}`
	if code, body := request(t, "POST", rw.base+"/v1/txn", "tok", txn); code != 200 {
		t.Fatalf("txn: %d %s", code, body)
	}
	waitFor("version of another transdbd serve", "/v1/fetch?uri=/new", `"from the other daemon"`)

	// 3. A file moved into place: the backup of generation 1.
	if err := os.Rename(filepath.Join(dir, "gen1.mmdb"), db); err != nil {
		t.Fatal(err)
	}
	waitFor("file moved into place", "/v1/fetch?uri=/new", `"blocks":[]`)

	// Read-only means read-only.
	if code, _ := request(t, "POST", ro.base+"/v1/txn", "tok", txn); code != 403 {
		t.Errorf("txn on a read-only daemon: %d, want 403", code)
	}
}

// A database file written over in place (cp over it), which shrinks
// under the mapping a dump in flight reads, ends that dump, not the
// daemon: it goes on serving, and serves the new content.
func TestAFileWrittenOverInPlaceEndsTheRequestNotTheDaemon(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "trans.mmdb")
	records := bigTable(t, db)
	small := filepath.Join(dir, "small.mmdb")
	ok(t, string(exampleTable), "load", "-db", small, "-")
	smallBytes, err := os.ReadFile(small)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	dump := startDump(t, d)

	// As cp does: truncate, then write, the same file.
	if err := os.WriteFile(db, smallBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := 1
	for {
		if _, err := dump.ReadString('\n'); err != nil {
			break
		}
		lines++
	}
	if lines >= records {
		t.Errorf("the dump read %d lines of %d, all of them, from a file cut short", lines, records)
	}
	d.stderr.waitFor(t, regexp.MustCompile(`the mapped file changed under its reader`))
	eventually(t, "the new content served", func() (bool, string) {
		code, body := d.get(t, "/v1/fetch?uri=/static")
		return code == 200 && strings.Contains(body, `"action":"File: `), fmt.Sprintf("%d %s", code, body)
	})
	if code, body := d.get(t, "/healthz"); code != 200 {
		t.Errorf("healthz: %d %s", code, body)
	}

	// Emptied in place (truncate -s 0, or cp failing on a full disk):
	// the requests, the verifier and every other reader fail, the daemon
	// goes on, and serves the file once it is whole again.
	if err := os.Truncate(db, 0); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if code, body := d.get(t, "/v1/fetch?uri=/static"); code != 200 && code != 503 {
			t.Fatalf("fetch of an emptied file: %d %s", code, body)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err := os.WriteFile(db, smallBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the file served again", func() (bool, string) {
		code, body := d.get(t, "/v1/fetch?uri=/static")
		return code == 200 && strings.Contains(body, `"action":"File: `), fmt.Sprintf("%d %s", code, body)
	})
}

func TestSIGHUPReopensLogsAndKeepsServing(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, nil, "serve", "-config", config(t, filepath.Join(dir, "trans.mmdb"), false, "AccessLog "+logs))
	log := filepath.Join(logs, fmt.Sprintf("access_%d.log", d.cmd.Process.Pid))

	d.get(t, "/v1/fetch?uri=/before")
	eventually(t, "access log line", func() (bool, string) {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "/before"), string(b)
	})
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	d.signal(t, syscall.SIGHUP)
	// The daemon logs the SIGHUP once it has closed the logs.
	d.stderr.waitFor(t, regexp.MustCompile(`SIGHUP: logs closed`))
	if code, _ := d.get(t, "/v1/fetch?uri=/after"); code != 200 {
		t.Errorf("fetch after SIGHUP: %d", code)
	}
	eventually(t, "access log reopened", func() (bool, string) {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), "/after"), string(b)
	})
	old, _ := os.ReadFile(log + ".1")
	if strings.Contains(string(old), "/after") {
		t.Errorf("the rotated log got the line of a later request:\n%s", old)
	}
	d.signal(t, syscall.SIGINT)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status after SIGINT: %d", code)
	}
}

// bigTable loads into db a table whose dump is twice the largest TCP
// send buffer of the system, at least 16 MiB, so that a dump to a client
// with a small receive buffer stays in flight until the client has read
// most of it. It returns the number of records, one line each in jsonl.
func bigTable(t *testing.T, db string) int {
	t.Helper()
	action := strings.Repeat("x", 1000)
	records := max(16000, 2*int(maxSendBuffer(t))/len(action))
	var table strings.Builder
	for i := range records {
		fmt.Fprintf(&table, "{\"key\":\"k\",\"uri\":\"/u%d\",\"block\":0,\"order\":0,\"action\":\"%s\"}\n", i, action)
	}
	ok(t, table.String(), "load", "-db", db, "-format", "jsonl", "-")
	return records
}

// startDump requests the jsonl dump of the daemon d with a receive
// buffer that is small and fixed, so that the dump goes only as fast as
// it is read, and returns the reader of its body after its first line.
func startDump(t *testing.T, d *daemon) *bufio.Reader {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := new(net.Dialer).DialContext(ctx, network, addr)
			if err == nil {
				err = c.(*net.TCPConn).SetReadBuffer(32 << 10)
			}
			return c, err
		},
	}}
	resp, err := client.Get(d.base + "/v1/dump?format=jsonl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	r := bufio.NewReader(resp.Body)
	first, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, `{"key":"k"`) {
		t.Fatalf("first line of the dump: %q, %v", first, err)
	}
	return r
}

// waitClosed waits until the daemon d accepts no new connection, as it
// does once it shuts down.
func waitClosed(t *testing.T, d *daemon) {
	t.Helper()
	eventually(t, "listener closed after SIGTERM", func() (bool, string) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(d.base, "http://"), time.Second)
		if err != nil {
			return true, ""
		}
		c.Close()
		return false, "accepting connections"
	})
}

func TestSIGTERMLetsADumpReadAtASteadyPaceFinish(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "big.mmdb")
	records := bigTable(t, db)
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true, "ShutdownTimeout 2m"))
	r := startDump(t, d)

	d.signal(t, syscall.SIGTERM)
	signalled := time.Now()
	waitClosed(t, d)
	select {
	case <-d.exited:
		t.Fatal("transdbd exited while a dump was in flight")
	default:
	}
	// The client reads the rest at a steady pace, for longer than a
	// request body may pause during the drain: the drain leaves
	// responses alone.
	const lineBytes = 1070 // about, in jsonl with its id
	total, pace := records*lineBytes, drainIdle+2*time.Second
	chunk := make([]byte, 32<<10)
	lines, read, start := 1, 0, time.Now()
	for {
		n, err := r.Read(chunk)
		lines += bytes.Count(chunk[:n], []byte("\n"))
		read += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the dump %v after SIGTERM: %v", time.Since(signalled), err)
		}
		if ahead := time.Duration(float64(pace)*float64(read)/float64(total)) - time.Since(start); ahead > 0 {
			time.Sleep(ahead)
		}
	}
	took := time.Since(signalled)
	if lines != records {
		t.Errorf("the dump has %d records, want %d", lines, records)
	}
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status after SIGTERM: %d\n%s", code, d.stderr)
	}
	t.Logf("the dump was read for %v after SIGTERM", took.Round(time.Millisecond))
}

func TestSIGTERMCutsOffAStalledUploadAndLetsATrickledOneFinish(t *testing.T) {
	db, _ := exampleDB(t)
	// The bound is far: the stalled upload must be cut off by the drain,
	// long before it.
	d := startDaemon(t, nil, "serve", "-config", config(t, db, false, "AdminToken tok", "ShutdownTimeout 40s"))

	// A load that sends 200 bytes of its million and then nothing.
	stalled := dial(t, d)
	fmt.Fprintf(stalled, "POST /v1/load?format=text HTTP/1.1\r\nHost: transdb\r\nAuthorization: Bearer tok\r\nContent-Length: 1000000\r\n\r\n%s", exampleTable[:200])
	// A txn whose body keeps arriving, a byte at a time, until well
	// after the stalled one has been cut off.
	body := `{"ops":[{"op":"insert","key":"front","uri":"/trickled","block":0,"order":0,"action":"finished"}]}`
	trickled := dial(t, d)
	fmt.Fprintf(trickled, "POST /v1/txn HTTP/1.1\r\nHost: transdb\r\nAuthorization: Bearer tok\r\nContent-Length: %d\r\n\r\n", len(body))
	pause := (drainIdle + 3*time.Second) / time.Duration(len(body))
	var sent atomic.Int64
	sentAll := make(chan time.Time, 1)
	go func() {
		for i := range len(body) {
			if _, err := trickled.Write([]byte{body[i]}); err != nil {
				return
			}
			sent.Add(1)
			time.Sleep(pause)
		}
		sentAll <- time.Now()
	}()
	eventually(t, "the trickle started", func() (bool, string) { return sent.Load() >= 3, "no bytes sent" })

	d.signal(t, syscall.SIGTERM)
	signalled := time.Now()
	resp := readResponse(t, stalled)
	if resp.status != http.StatusRequestTimeout {
		t.Errorf("the stalled upload: %d %s, want 408", resp.status, resp.body)
	}
	t.Logf("the stalled upload was cut off %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	resp = readResponse(t, trickled)
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `"generation":2`) {
		t.Errorf("the trickled txn: %d %s", resp.status, resp.body)
	}
	if done := <-sentAll; done.Sub(signalled) <= drainIdle {
		t.Errorf("the trickled body was complete %v after SIGTERM, before a stalled body is cut off (%v): the test proves nothing", done.Sub(signalled), drainIdle)
	}
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status after SIGTERM: %d\n%s", code, d.stderr)
	}
	if out := ok(t, "", "fetch", "-db", db, "front", "/trickled"); !strings.Contains(out, `"action":"finished"`) {
		t.Errorf("the trickled txn is not in the database: %s", out)
	}
}

func TestShutdownTimeoutCutsOffWhatIsLeft(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "big.mmdb")
	bigTable(t, db)
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true, "ShutdownTimeout 1s"))
	// A dump whose client reads its first line and then nothing.
	startDump(t, d)

	d.signal(t, syscall.SIGTERM)
	signalled := time.Now()
	if code := d.wait(t); code != 1 {
		t.Errorf("exit status after a shutdown that timed out: %d, want 1", code)
	}
	if took := time.Since(signalled); took < time.Second {
		t.Errorf("the daemon exited %v after SIGTERM, before ShutdownTimeout", took)
	}
	if !strings.Contains(d.stderr.String(), "shutdown timeout") {
		t.Errorf("the daemon did not log the timeout:\n%s", d.stderr)
	}
}

// A rawResponse is a response read off a connection.
type rawResponse struct {
	status int
	body   string
}

// readResponse reads a response to a request written on c by hand.
func readResponse(t *testing.T, c net.Conn) rawResponse {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, string(body)}
}

func TestServeVerifiesEachVersionItMaps(t *testing.T) {
	db, _ := exampleDB(t)
	sound := filepath.Join(t.TempDir(), "sound.mmdb")
	ok(t, "", "backup", "-db", db, sound)
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	file, logFile := regexp.QuoteMeta(strconv.Quote(db)), regexp.QuoteMeta(db)
	readyz := func(what string, code int, want ...string) {
		t.Helper()
		eventually(t, what, func() (bool, string) {
			c, body := d.get(t, "/readyz")
			for _, w := range want {
				if !strings.Contains(body, w) {
					return false, fmt.Sprintf("%d %s", c, body)
				}
			}
			return c == code, fmt.Sprintf("%d %s", c, body)
		})
	}
	metrics := func(want ...string) {
		t.Helper()
		_, body := d.get(t, "/metrics")
		for _, w := range want {
			if !regexp.MustCompile(`(?m)^` + w + `$`).MatchString(body) {
				t.Errorf("/metrics has no line %s", w)
			}
		}
	}

	readyz("generation 1 verified", 200, `"generation":1,"verification":"verified","verified_generation":1`)
	d.stderr.waitFor(t, regexp.MustCompile(`level=INFO msg="httpprovider: database version verified" file=`+logFile+` generation=1 `))
	metrics(`transdb_verified_generation\{file=`+file+`\} 1`, `transdb_verify_failures_total\{file=`+file+`\} 0`)

	// A copy with a byte of its body flipped, moved into place: the
	// daemon maps it when it notices the file's new identity.
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x04
	damaged := filepath.Join(filepath.Dir(db), "damaged.mmdb")
	if err := os.WriteFile(damaged, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(damaged, db); err != nil {
		t.Fatal(err)
	}
	readyz("the damage found", 503, `fails verification`, `"verification":"failed","verified_generation":1,"verify_error":"`)
	d.stderr.waitFor(t, regexp.MustCompile(`level=ERROR msg="httpprovider: the database version served fails verification[^"]*" file=`+logFile+` generation=1 err=`))
	metrics(`transdb_verify_failures_total\{file=`+file+`\} 1`, `transdb_verify_failed\{file=`+file+`\} 1`)

	// The sound copy restored, as generation 2.
	ok(t, "", "restore", "-db", db, sound)
	readyz("generation 2 verified", 200, `"generation":2,"verification":"verified","verified_generation":2`)
	d.stderr.waitFor(t, regexp.MustCompile(`level=INFO msg="httpprovider: database version verified" file=`+logFile+` generation=2 `))
	metrics(`transdb_verified_generation\{file=`+file+`\} 2`, `transdb_verify_failures_total\{file=`+file+`\} 1`, `transdb_verify_failed\{file=`+file+`\} 0`)

	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status after SIGTERM: %d", code)
	}
}

// maxSendBuffer returns the largest TCP send buffer of the system.
func maxSendBuffer(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err != nil {
		return 4 << 20
	}
	var least, initial, most int64
	if _, err := fmt.Sscan(string(b), &least, &initial, &most); err != nil {
		t.Fatalf("tcp_wmem %q: %v", b, err)
	}
	return most
}

func TestDefaultServesTheExampleAndPrintsRequests(t *testing.T) {
	data := t.TempDir()
	env := []string{"TRANSDB_DATA=" + data}
	d := startDaemon(t, env, "-listen", "127.0.0.1:0")
	d.stdout.waitFor(t, regexp.MustCompile(`/v1/stats'\n`))
	out := d.stdout.String()
	for _, want := range []string{
		"transdbd: data directory " + data + " (from $TRANSDB_DATA)\n",
		"transdbd: created the demo database " + filepath.Join(data, "transdb-demo.mmdb") + " from the example table (generation 1, 13 records)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every printed curl line works.
	curls := regexp.MustCompile(`(?m)^  curl '([^']+)'$`).FindAllStringSubmatch(out, -1)
	if len(curls) < 4 {
		t.Fatalf("fewer than 4 curl lines:\n%s", out)
	}
	for _, m := range curls {
		if !strings.HasPrefix(m[1], d.base+"/") {
			t.Errorf("curl line for %s, serving %s", m[1], d.base)
		}
		code, body := request(t, "GET", m[1], "", "")
		if code != 200 || len(body) < 10 {
			t.Errorf("%s: %d %s", m[1], code, body)
		}
	}
	if _, body := d.get(t, "/v1/resolve?key=front&uri=/static/img.png"); !strings.Contains(body, `"path_info":"/img.png"`) {
		t.Errorf("resolve: %s", body)
	}
	// Writes need the token the demo made up and printed.
	if code, _ := request(t, "POST", d.base+"/v1/load", "x", ""); code != 401 {
		t.Errorf("load on the default with a wrong token: %d, want 401", code)
	}
	d.signal(t, syscall.SIGINT)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status: %d", code)
	}

	// The second start serves the same database.
	d = startDaemon(t, env, "-listen", "127.0.0.1:0")
	d.stdout.waitFor(t, regexp.MustCompile(`/v1/stats'\n`))
	if out := d.stdout.String(); !strings.Contains(out, "transdbd: demo database "+filepath.Join(data, "transdb-demo.mmdb")+" (generation 1, 13 records)") {
		t.Errorf("second start:\n%s", out)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status: %d", code)
	}
}

func TestDataDirectoryChoice(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TRANSDB_DATA", "")
	t.Setenv("XDG_DATA_HOME", "")
	dir, from, err := dataDir()
	if err != nil || dir != filepath.Join(home, ".local", "share", "transdb") || from != "in the home directory" {
		t.Errorf("without variables: %q, %q, %v", dir, from, err)
	}
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	if dir, from, err := dataDir(); err != nil || dir != filepath.Join(xdg, "transdb") || from != "from $XDG_DATA_HOME" {
		t.Errorf("with XDG_DATA_HOME: %q, %q, %v", dir, from, err)
	}
	data := t.TempDir()
	t.Setenv("TRANSDB_DATA", data)
	if dir, from, err := dataDir(); err != nil || dir != data || from != "from $TRANSDB_DATA" {
		t.Errorf("with TRANSDB_DATA: %q, %q, %v", dir, from, err)
	}
	// Neither variable usable and no home to write to: a temporary
	// directory.
	t.Setenv("TRANSDB_DATA", "")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/dev/null")
	dir, from, err = dataDir()
	if err != nil || from != "a temporary directory" {
		t.Fatalf("fallback: %q, %q, %v", dir, from, err)
	}
	defer os.RemoveAll(dir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("fallback directory %s: %v", dir, err)
	}
}

func TestTheDaemonCollectsGarbageLessOftenUnlessGOGCSays(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{nil, "go_gc_gogc_percent 400\n"},
		{[]string{"GOGC=150"}, "go_gc_gogc_percent 150\n"},
	} {
		data := t.TempDir()
		d := startDaemon(t, append([]string{"TRANSDB_DATA=" + data}, tt.env...), "-listen", "127.0.0.1:0")
		if status, body := d.get(t, "/metrics"); status != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("with %q: /metrics %d lacks %q", tt.env, status, strings.TrimSpace(tt.want))
		}
		d.signal(t, syscall.SIGTERM)
		if code := d.wait(t); code != 0 {
			t.Errorf("exit status %d", code)
		}
	}
}
