package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile clients against a transdbd serve child: slow headers, a slow
// body, many idle connections and oversized headers. Each test checks
// that a well-behaved client is served meanwhile, and what the server
// does to the hostile one.

// staticAction is the answer of the example table to the normal client's
// lookup, GET /v1/fetch?uri=/static (TranslationKey front).
const staticAction = `"action":"File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO"`

// normalClient makes the lookups of a well-behaved client, each on a
// connection of its own or on a kept-alive one in turn, and fails the
// test on any that does not succeed.
type normalClient struct {
	base       string
	keepAlive  *http.Client
	fresh      *http.Client
	n          atomic.Int64
	mu         sync.Mutex
	errs       []string
	stop, done chan struct{}
	once       sync.Once
}

func newNormalClient(d *daemon) *normalClient {
	return &normalClient{
		base:      d.base,
		keepAlive: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}},
		fresh:     &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// lookup makes one lookup; it reports what went wrong, "" if nothing.
func (c *normalClient) lookup() string {
	client := c.keepAlive
	if c.n.Add(1)%2 == 0 {
		client = c.fresh
	}
	start := time.Now()
	resp, err := client.Get(c.base + "/v1/fetch?uri=/static")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return err.Error()
	case resp.StatusCode != http.StatusOK || !strings.Contains(string(body), staticAction):
		return fmt.Sprintf("%d %s after %v", resp.StatusCode, body, time.Since(start))
	}
	return ""
}

// waitLookups waits until the client has made n lookups since it was
// made, or fails the test after a generous bound.
func (c *normalClient) waitLookups(t *testing.T, n int64) {
	t.Helper()
	eventually(t, "lookups of the normal client", func() (bool, string) {
		got := c.n.Load()
		return got >= n, fmt.Sprintf("%d lookups", got)
	})
}

// mustLookup fails the test unless a lookup succeeds.
func (c *normalClient) mustLookup(t *testing.T) {
	t.Helper()
	if e := c.lookup(); e != "" {
		t.Fatalf("a normal client's lookup: %s", e)
	}
}

// start makes lookups one after the other until finish, or the end of
// the test.
func (c *normalClient) start(t *testing.T) {
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	t.Cleanup(c.halt)
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if e := c.lookup(); e != "" {
				c.mu.Lock()
				c.errs = append(c.errs, e)
				c.mu.Unlock()
			}
		}
	}()
}

// halt stops the lookups.
func (c *normalClient) halt() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	c.keepAlive.CloseIdleConnections()
}

// finish stops the lookups and fails the test if any failed or none was
// made.
func (c *normalClient) finish(t *testing.T) {
	t.Helper()
	c.halt()
	for i, e := range c.errs {
		if i == 5 {
			t.Errorf("... and %d more", len(c.errs)-i)
			break
		}
		t.Errorf("a normal client's lookup failed: %s", e)
	}
	if c.n.Load() < 10 {
		t.Errorf("the normal client made only %d lookups", c.n.Load())
	}
	t.Logf("the normal client made %d lookups", c.n.Load())
}

// dial opens a connection to the daemon d, closed at the end of the test.
func dial(t *testing.T, d *daemon) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(d.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSlowHeadersHoldUpNoOtherClientAndTimeOut(t *testing.T) {
	t.Parallel()
	db, _ := exampleDB(t)
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	normal := newNormalClient(d)
	normal.mustLookup(t)

	// 200 connections send a request line and the start of a header, then
	// a byte of it every 250 ms, never its end.
	const slow = 200
	conns := make([]net.Conn, slow)
	closedAfter := make(chan time.Duration, slow)
	started := time.Now()
	for i := range conns {
		c := dial(t, d)
		if _, err := io.WriteString(c, "GET /v1/fetch?uri=/static HTTP/1.1\r\nHost: transdb\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		go func() {
			// The server answers nothing: it closes the connection.
			n, _ := c.Read(make([]byte, 1))
			if n > 0 {
				closedAfter <- -1
				return
			}
			closedAfter <- time.Since(started)
		}()
	}
	stopTrickle := make(chan struct{})
	defer close(stopTrickle)
	go func() {
		for {
			select {
			case <-stopTrickle:
				return
			case <-time.After(250 * time.Millisecond):
			}
			for _, c := range conns {
				c.Write([]byte("x")) // fails once the server has closed it
			}
		}
	}()

	normal.start(t)
	if testing.Short() {
		normal.waitLookups(t, 20)
		normal.finish(t)
		return
	}
	// The server closes each slow connection when ReadHeaderTimeout has
	// passed since it began to read its request, and the normal client
	// is served until then and after.
	for range slow {
		select {
		case after := <-closedAfter:
			if after < 0 {
				t.Fatal("the server answered a request whose headers never ended")
			}
			if after < readHeaderTimeout || after > readHeaderTimeout+20*time.Second {
				t.Fatalf("a slow connection was closed after %v, want about ReadHeaderTimeout (%v)", after, readHeaderTimeout)
			}
		case <-time.After(readHeaderTimeout + 30*time.Second):
			t.Fatalf("slow connections still open after %v", time.Since(started))
		}
	}
	t.Logf("%d slow connections closed after %v", slow, time.Since(started).Round(time.Millisecond))
	normal.mustLookup(t)
	normal.finish(t)
}

// waitContinue reads the interim answer 100 Continue off r, the reader of
// c, to a request sent with "Expect: 100-continue": the server sends it
// when the request's handler begins to read the body.
func waitContinue(t *testing.T, c net.Conn, r *bufio.Reader) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	status, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
		t.Fatalf("waiting for 100 Continue: %q, %v", status, err)
	}
	if blank, err := r.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q, %v", blank, err)
	}
}

// timedTxn posts a txn body with the token "tok" to the daemon d, for
// the provider whose base key the basekey parameters name, and reports
// how long it took; an answer other than 200 is an error.
func timedTxn(d *daemon, basekey, body string) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequest("POST", d.base+"/v1/txn?"+basekey, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%d %s", resp.StatusCode, answer)
	}
	return time.Since(start), err
}

func TestTrickledBodyHoldsUpNoOtherClient(t *testing.T) {
	t.Parallel()
	db, _ := exampleDB(t)
	// A second file, whose transactions take no lock that the first's
	// do: a txn on it measures how fast this machine is at the moment.
	control := filepath.Join(filepath.Dir(db), "control.mmdb")
	cfg := writeFile(t, t.TempDir(), "transdbd.conf", fmt.Sprintf(`Listen 127.0.0.1:0
TranslationKey front
AdminToken tok
<TranslationProvider MMapDB>
    FileName %s
</TranslationProvider>
TranslationProvider MMapDB filename=%s basekey=control
`, db, control))
	d := startDaemon(t, nil, "serve", "-config", cfg)
	normal := newNormalClient(d)
	normal.mustLookup(t)

	// The test tells whether a body being received holds the file's lock
	// only if another txn is done before that body is complete. So the
	// body trickles for twenty times as long as a txn takes here now, at
	// least 2 s; on a machine where that would come near ReadTimeout, the
	// test cannot tell.
	ins := func(uri, action string) string {
		return `{"ops":[{"op":"insert","key":"front","uri":"` + uri + `","block":0,"order":0,"action":"` + action + `"}]}`
	}
	took, err := timedTxn(d, "basekey=control", ins("/measure", "m"))
	if err != nil {
		t.Fatalf("a txn on the control file: %v", err)
	}
	trickle := max(2*time.Second, 20*took)
	if trickle > readTimeout/2 {
		t.Skipf("a txn takes %v on this machine now: too slow to tell whether a trickled body holds up other clients", took)
	}

	// A txn whose body arrives a byte at a time over that time, and a
	// load whose body never ends. Both send their bodies once the server
	// has confirmed, with 100 Continue, that their handlers read them.
	body := ins("/slow", "trickled")
	txn := dial(t, d)
	txnR := bufio.NewReader(txn)
	fmt.Fprintf(txn, "POST /v1/txn HTTP/1.1\r\nHost: transdb\r\nAuthorization: Bearer tok\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	waitContinue(t, txn, txnR)
	var sent atomic.Int64
	trickled := make(chan error, 1)
	go func() {
		pause := trickle / time.Duration(len(body))
		for i := range len(body) {
			if _, err := txn.Write([]byte{body[i]}); err != nil {
				trickled <- err
				return
			}
			sent.Add(1)
			time.Sleep(pause)
		}
		trickled <- nil
	}()
	load := dial(t, d)
	loadR := bufio.NewReader(load)
	fmt.Fprintf(load, "POST /v1/load?format=text HTTP/1.1\r\nHost: transdb\r\nAuthorization: Bearer tok\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
	waitContinue(t, load, loadR)
	fmt.Fprintf(load, "%s", exampleTable[:200])

	// Meanwhile the others read, and write: the file's lock is not held
	// while a body is being received. A txn on the control file at the
	// same time tells whether the machine was fast enough to tell.
	normal.start(t)
	type timed struct {
		took time.Duration
		err  error
	}
	controlled := make(chan timed, 1)
	go func() {
		took, err := timedTxn(d, "basekey=control", ins("/control", "c"))
		controlled <- timed{took, err}
	}()
	otherTook, err := timedTxn(d, "", ins("/other", "meanwhile"))
	complete := sent.Load() >= int64(len(body))
	c := <-controlled
	if err != nil {
		t.Fatalf("another client's txn while a body trickles in: %v", err)
	}
	if c.err != nil {
		t.Fatalf("a txn on the control file while a body trickles in: %v", c.err)
	}
	if complete {
		if c.took >= trickle/4 {
			t.Skipf("a txn on another file took %v while the body trickled in for %v: the machine is too slow to tell", c.took, trickle)
		}
		t.Fatalf("another client's txn took %v, done only after the trickled body had arrived (%v), while a txn on another file took %v: it waited for the body", otherTook, trickle, c.took)
	}

	// The slow txn is served once its body is complete.
	if err := <-trickled; err != nil {
		t.Fatal(err)
	}
	txn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(txnR, nil)
	if err != nil {
		t.Fatal(err)
	}
	answerBytes, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(answerBytes), `"generation":3`) {
		t.Fatalf("the trickled txn: %d %s", resp.StatusCode, answerBytes)
	}
	normal.finish(t)

	// The client of the unfinished load gives up: its request is a 400,
	// the client's error, and has changed nothing.
	load.(*net.TCPConn).CloseWrite()
	load.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err = http.ReadResponse(loadR, nil)
	if err != nil {
		t.Fatal(err)
	}
	answerBytes, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(answerBytes), "request body") {
		t.Errorf("the unfinished load: %d %s, want 400", resp.StatusCode, answerBytes)
	}
	if strings.Contains(d.stderr.String(), "level=ERROR") {
		t.Errorf("the daemon logged an error:\n%s", d.stderr)
	}
	if code, body := d.get(t, "/v1/stats"); code != 200 || !strings.Contains(body, `"generation":3`) {
		t.Errorf("stats after the unfinished load: %d %s", code, body)
	}
	for uri, want := range map[string]string{"/slow": `"action":"trickled"`, "/other": `"action":"meanwhile"`} {
		if code, body := d.get(t, "/v1/fetch?uri="+uri); code != 200 || !strings.Contains(body, want) {
			t.Errorf("fetch %s: %d %s", uri, code, body)
		}
	}
}

func TestManyIdleConnectionsHoldUpNoOtherClient(t *testing.T) {
	t.Parallel()
	db, _ := exampleDB(t)
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	normal := newNormalClient(d)

	// 500 connections make a request each and keep the connection open,
	// idle; 100 more are opened and send nothing.
	const idle = 500
	type conn struct {
		c net.Conn
		r *bufio.Reader
	}
	get := func(c conn) error {
		if _, err := io.WriteString(c.c, "GET /healthz HTTP/1.1\r\nHost: transdb\r\n\r\n"); err != nil {
			return err
		}
		c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(c.r, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != 200 || resp.Close {
			return fmt.Errorf("status %d, close %v", resp.StatusCode, resp.Close)
		}
		return nil
	}
	conns := make([]conn, idle)
	for i := range conns {
		c := dial(t, d)
		conns[i] = conn{c, bufio.NewReader(c)}
		if err := get(conns[i]); err != nil {
			t.Fatalf("idle connection %d, first request: %v", i, err)
		}
	}
	for range 100 {
		dial(t, d)
	}

	for range 50 {
		normal.mustLookup(t)
	}
	// The idle connections are kept until IdleTimeout, and serve again.
	for i, c := range conns {
		if err := get(c); err != nil {
			t.Fatalf("idle connection %d, second request: %v", i, err)
		}
	}
	normal.mustLookup(t)
}

func TestOversizedHeadersGet431AndTheServerGoesOn(t *testing.T) {
	t.Parallel()
	db, _ := exampleDB(t)
	d := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	normal := newNormalClient(d)

	// send sends a lookup with the extra header lines and returns the
	// answer's status and body.
	send := func(headers string) (int, string) {
		c := dial(t, d)
		defer c.Close()
		req := "GET /v1/fetch?uri=/static HTTP/1.1\r\nHost: transdb\r\n" + headers + "\r\n"
		// The server may answer before it has read everything.
		go io.WriteString(c, req)
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%d bytes of headers: %v", len(headers), err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	line := func(name string, n int) string { return name + ": " + strings.Repeat("a", n) + "\r\n" }
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "X-Header-%d: %s\r\n", i, strings.Repeat("v", 20))
		}
		return b.String()
	}
	for _, c := range []struct {
		name    string
		headers string
		status  int
	}{
		{"a header of 60 KiB", line("X-Big", 60<<10), 200},
		{"headers of 60 KiB in all", many(60 << 10 / 35), 200},
		// net/http reads 4 KiB beyond MaxHeaderBytes before it refuses.
		{"a header of MaxHeaderBytes and 4 KiB", line("X-Big", maxHeaderBytes+4<<10), 431},
		{"a header of 1 MiB", line("X-Big", 1<<20), 431},
		{"headers of 128 KiB in all", many(128 << 10 / 35), 431},
	} {
		status, body := send(c.headers)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.status)
		}
		if status == 200 && !strings.Contains(body, staticAction) {
			t.Errorf("%s: %s", c.name, body)
		}
		normal.mustLookup(t)
	}
}

// The README's table of limits states the values the server is made
// with.
func TestREADMEStatesTheServerLimits(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), new(drain), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout != readHeaderTimeout || srv.ReadTimeout != readTimeout || srv.WriteTimeout != writeTimeout ||
		srv.IdleTimeout != idleTimeout || srv.MaxHeaderBytes != maxHeaderBytes {
		t.Errorf("the server is made with ReadHeaderTimeout %v, ReadTimeout %v, WriteTimeout %v, IdleTimeout %v, MaxHeaderBytes %d",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	human := func(d time.Duration) string {
		if d%time.Minute == 0 {
			return fmt.Sprintf("%d min", d/time.Minute)
		}
		return fmt.Sprintf("%d s", d/time.Second)
	}
	// Each row is found by a part of its first column.
	for name, value := range map[string]string{
		"`ReadHeaderTimeout`":             human(readHeaderTimeout),
		"`ReadTimeout`":                   human(readTimeout),
		"response must be written within": human(writeTimeout),
		"`IdleTimeout`":                   human(idleTimeout),
		"after SIGTERM, a request body":   human(drainIdle),
		"`MaxHeaderBytes`":                fmt.Sprintf("%d KiB", maxHeaderBytes>>10),
	} {
		row := regexp.MustCompile(`(?m)^ *\|[^|\n]*` + regexp.QuoteMeta(name) + `[^|\n]*\| ` + regexp.QuoteMeta(value) + `\b`)
		if !row.Match(readme) {
			t.Errorf("README.md has no row of the limits table stating %s as %s", name, value)
		}
	}
}
