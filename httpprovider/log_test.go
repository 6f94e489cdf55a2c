package httpprovider_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/internal/syncbuf"
	"transdb/translation"
)

// splitFields splits a log line into its fields at the unescaped "|"
// and undoes the escapes \\, \|, \n and \r.
func splitFields(t testing.TB, line string) []string {
	t.Helper()
	var fields []string
	var f strings.Builder
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '|':
			fields = append(fields, f.String())
			f.Reset()
		case '\\':
			if i++; i == len(line) {
				t.Fatalf("line ends in a backslash: %q", line)
			}
			switch e := line[i]; e {
			case '\\', '|':
				f.WriteByte(e)
			case 'n':
				f.WriteByte('\n')
			case 'r':
				f.WriteByte('\r')
			case 'x':
				v, err := strconv.ParseUint(line[i+1:min(i+3, len(line))], 16, 8)
				if err != nil || i+2 >= len(line) {
					t.Fatalf("bad escape \\x in %q", line)
				}
				f.WriteByte(byte(v))
				i += 2
			default:
				t.Fatalf("unknown escape \\%c in %q", e, line)
			}
		default:
			f.WriteByte(c)
		}
	}
	return append(fields, f.String())
}

// logLines returns the lines of a log file, split into fields, waiting
// up to a few seconds for at least n lines: an access log line is
// written when its response is done, which the client may see first.
func logLines(t testing.TB, name string, n int) [][]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		text := readFile(t, name)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if text == "" {
			lines = nil
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if text != "" && !strings.HasSuffix(text, "\n") {
				t.Fatalf("%s ends in a partial line", name)
			}
			var out [][]string
			for _, l := range lines {
				out = append(out, splitFields(t, l))
			}
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkTime checks the time field of a log line.
func checkTime(t testing.TB, field string) {
	t.Helper()
	ts, err := time.Parse("2006-01-02T15:04:05.000000Z", field)
	if err != nil || time.Since(ts) > time.Minute || time.Since(ts) < -time.Minute {
		t.Errorf("time field %q: %v", field, err)
	}
}

func accessLogServer(t *testing.T, flush bool) (*testServer, string) {
	dir := t.TempDir()
	s := serve(t, httpprovider.Options{
		Providers:  []*translation.Provider{newProvider(t, dbPath(t), false, "trans", "db")},
		AdminToken: token,
		AccessLog:  dir,
		Flush:      flush,
	})
	return s, filepath.Join(dir, "access_"+strconv.Itoa(os.Getpid())+".log")
}

func TestAccessLogHasALinePerRequest(t *testing.T) {
	s, name := accessLogServer(t, true)
	s.loadExample()
	s.fetch("key=front&uri=/")
	s.get("/v1/resolve?key=front&uri=/static/x")
	s.get(`/v1/fetch?key=a|b\c&uri=/x`)
	s.get("/v1/no%0Awhere")
	s.get("/v1/no%1B%5B31m%00%7F%09where")
	lines := logLines(t, name, 6)
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6: %q", len(lines), lines)
	}
	want := [][]string{
		{"POST", "/v1/load", "", "", "200", ""},
		{"GET", "/v1/fetch", "front", "/", "200", "1"},
		{"GET", "/v1/resolve", "front", "/static/x", "200", "7"},
		{"GET", "/v1/fetch", `a|b\c`, "/x", "200", "0"},
		{"GET", "/v1/no\nwhere", "", "", "404", ""},
		{"GET", "/v1/no\x1b[31m\x00\x7f\twhere", "", "", "404", ""},
	}
	// No control character but tab and the newlines reaches the file.
	if raw := readFile(t, name); strings.ContainsFunc(raw, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' || r == 0x7f }) {
		t.Errorf("control characters in the log: %q", raw)
	}
	for i, f := range lines {
		if len(f) != 9 {
			t.Fatalf("line %d has %d fields: %q", i, len(f), f)
		}
		checkTime(t, f[0])
		if !strings.HasPrefix(f[1], "127.0.0.1:") {
			t.Errorf("line %d: remote %q", i, f[1])
		}
		if !slices.Equal(f[2:8], want[i]) {
			t.Errorf("line %d: %q, want %q", i, f[2:8], want[i])
		}
		if us, err := strconv.ParseInt(f[8], 10, 64); err != nil || us < 0 {
			t.Errorf("line %d: microseconds %q", i, f[8])
		}
	}
}

func TestRotateReopensTheAccessLogUnderItsName(t *testing.T) {
	s, name := accessLogServer(t, true)
	s.get("/healthz")
	s.get("/readyz")
	logLines(t, name, 2)
	if err := os.Rename(name, name+".1"); err != nil {
		t.Fatal(err)
	}
	// Until the rotation the lines go to the renamed file.
	s.get("/v1/keys")
	logLines(t, name+".1", 3)
	r := s.post("/v1/rotate", "")
	if r.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	s.get("/v1/uris")
	s.get("/v1/stats")
	cur := logLines(t, name, 3) // the last request's line is there
	old := logLines(t, name+".1", 3)
	paths := func(lines [][]string) []string {
		var p []string
		for _, l := range lines {
			p = append(p, l[3])
		}
		return p
	}
	// The rotate request's own line is written after it rotated.
	if got := paths(old); !slices.Equal(got, []string{"/healthz", "/readyz", "/v1/keys"}) {
		t.Errorf("renamed file: %v", got)
	}
	if got := paths(cur); !slices.Equal(got, []string{"/v1/rotate", "/v1/uris", "/v1/stats"}) {
		t.Errorf("new file: %v", got)
	}
}

func TestAccessLogWithoutFlushIsWrittenOnRotate(t *testing.T) {
	s, name := accessLogServer(t, false)
	// ServeHTTP returns once the request's line is handed to the log.
	for range 2 {
		s.srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	}
	if text := readFile(t, name); text != "" {
		t.Errorf("lines written without flush before rotate: %q", text)
	}
	if err := s.srv.Rotate(); err != nil {
		t.Fatal(err)
	}
	if lines := logLines(t, name, 2); len(lines) != 2 {
		t.Errorf("%d lines after rotate, want 2", len(lines))
	}
}

func TestJournalHasALinePerCommittedChange(t *testing.T) {
	s := serveNew(t)
	journal := s.p.Path() + ".journal"
	res := s.txn(`{"ops":[
		{"op":"insert","key":"k","uri":"/u","block":1,"order":2,"action":"a|b\\c\nd\re","note":"not journaled"},
		{"op":"insert","key":"k","uri":"/v","block":0,"order":0,"action":"x"}]}`)
	a, x := *res.Results[0].ID, *res.Results[1].ID
	res = s.txn(fmt.Sprintf(`{"ops":[
		{"op":"update","old":{"key":"k","uri":"/v","block":0,"order":0,"id":%d},"new":{"key":"k","uri":"/w","block":3,"order":4,"action":"y"}},
		{"op":"delete","old":{"key":"k","uri":"/u","block":1,"order":2,"id":%d}},
		{"op":"clear"}]}`, x, a))
	y := *res.Results[0].ID
	// Refused requests are not journaled.
	s.wantError(s.post("/v1/txn", `{"ops":[{"op":"delete","old":{"key":"k","uri":"/u","block":1,"order":2,"id":1}}]}`), http.StatusConflict)
	s.decode(s.post("/v1/load?format=file", ">>> 1 front / 0 0\nConfig: x\n"), http.StatusOK, &loadResult{})

	loaded := s.fetch("key=front&uri=/").Blocks[0].ID
	lines := logLines(t, journal, 7)
	id := func(n uint64) string { return strconv.FormatUint(n, 10) }
	want := [][]string{
		{"1", "insert", id(a), "k", "/u", "1", "2", "a|b\\c\nd\re"},
		{"1", "insert", id(x), "k", "/v", "0", "0", "x"},
		{"2", "delete", id(x), "k", "/v", "0", "0", ""},
		{"2", "insert", id(y), "k", "/w", "3", "4", "y"},
		{"2", "delete", id(a), "k", "/u", "1", "2", ""},
		{"2", "clear", "", "", "", "", "", ""},
		{"3", "insert", id(loaded), "front", "/", "0", "0", "Config: x"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d journal lines, want %d: %q", len(lines), len(want), readFile(t, journal))
	}
	for i, f := range lines {
		if len(f) != 9 {
			t.Fatalf("line %d has %d fields: %q", i, len(f), f)
		}
		checkTime(t, f[0])
		if !slices.Equal(f[1:], want[i]) {
			t.Errorf("line %d: %q, want %q", i, f[1:], want[i])
		}
	}

	// Rotation: the renamed journal keeps its lines, the next commit
	// starts a new file under the name.
	if err := os.Rename(journal, journal+".old"); err != nil {
		t.Fatal(err)
	}
	if err := s.srv.Rotate(); err != nil {
		t.Fatal(err)
	}
	s.txn(`{"ops":[{"op":"clear"}]}`)
	if n := len(logLines(t, journal+".old", 0)); n != len(want) {
		t.Errorf("renamed journal has %d lines, want %d", n, len(want))
	}
	if cur := logLines(t, journal, 1); len(cur) != 1 || cur[0][1] != "4" || cur[0][2] != "clear" {
		t.Errorf("new journal: %q", cur)
	}
}

func TestOnChangeRunsAfterEachCommitWithoutBlockingIt(t *testing.T) {
	dir := t.TempDir()
	p := newProvider(t, dbPath(t), false)
	// The command waits for the file "go", then records its environment.
	cmd := fmt.Sprintf(`while [ ! -e %[1]s/go ]; do sleep 0.01; done; `+
		`printf '%%s %%s\n' "$TRANSDB_GENERATION" "$TRANSDB_FILE" > %[1]s/env.$TRANSDB_GENERATION`, dir)
	srv, err := httpprovider.New(httpprovider.Options{Providers: []*translation.Provider{p}, AdminToken: token, OnChange: cmd})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, srv: srv, p: p, url: newHTTPServer(t, srv)}
	// The commits return while their commands wait.
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a"}]}`)
	s.decode(s.post("/v1/load?format=jsonl", `{"key":"k","uri":"/v","block":0,"order":0,"action":"b"}`), http.StatusOK, &loadResult{})
	if files, _ := filepath.Glob(filepath.Join(dir, "env.*")); len(files) != 0 {
		t.Fatalf("commands finished before they were let go: %v", files)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Close waits for them.
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for gen := 1; gen <= 2; gen++ {
		got := readFile(t, filepath.Join(dir, "env."+strconv.Itoa(gen)))
		if want := fmt.Sprintf("%d %s\n", gen, p.Path()); got != want {
			t.Errorf("environment of the command of generation %d: %q, want %q", gen, got, want)
		}
	}
}

// TestOnChangeRunsOneAtATimeForTheNewestGeneration makes commits while
// the command of the first waits: the commands never overlap, and the
// next one runs once, for the newest generation.
func TestOnChangeRunsOneAtATimeForTheNewestGeneration(t *testing.T) {
	dir := t.TempDir()
	p := newProvider(t, dbPath(t), false)
	// Each command holds the directory "lock" while it runs; one that
	// finds it held records an overlap. The first waits for "go".
	cmd := fmt.Sprintf(`mkdir %[1]s/lock || echo $TRANSDB_GENERATION >> %[1]s/overlaps; `+
		`while [ ! -e %[1]s/go ]; do sleep 0.01; done; `+
		`echo $TRANSDB_GENERATION >> %[1]s/generations; rmdir %[1]s/lock`, dir)
	srv, err := httpprovider.New(httpprovider.Options{Providers: []*translation.Provider{p}, AdminToken: token, OnChange: cmd})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, srv: srv, p: p, url: newHTTPServer(t, srv)}
	for i := range 5 {
		s.txn(fmt.Sprintf(`{"ops":[{"op":"insert","key":"k","uri":"/u%d","block":0,"order":0,"action":"a"}]}`, i))
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "overlaps")); err == nil {
		t.Errorf("commands overlapped, for generations %q", readFile(t, filepath.Join(dir, "overlaps")))
	}
	// The first run is for the newest generation when it started (1,
	// unless the commits outran its start), the second, if any, for 5.
	got := strings.Fields(readFile(t, filepath.Join(dir, "generations")))
	if len(got) < 1 || len(got) > 2 || got[len(got)-1] != "5" || (len(got) == 2 && got[0] >= got[1]) {
		t.Errorf("commands ran for generations %q, want one run, then one for 5", got)
	}
}

// commitWithOnChange commits once to a server whose OnChange is cmd,
// closes the server and returns what it logged.
func commitWithOnChange(t *testing.T, cmd string) string {
	t.Helper()
	var logs syncbuf.Buffer
	p := newProvider(t, dbPath(t), false)
	srv, err := httpprovider.New(httpprovider.Options{
		Providers:  []*translation.Provider{p},
		AdminToken: token,
		OnChange:   cmd,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, srv: srv, p: p, url: newHTTPServer(t, srv)}
	s.txn(`{"ops":[{"op":"clear"}]}`)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	return logs.String()
}

func TestOnChangeFailureIsLogged(t *testing.T) {
	out := commitWithOnChange(t, "echo broken >&2; exit 3")
	if !strings.Contains(out, "OnChange command failed") || !strings.Contains(out, "exit status 3") || !strings.Contains(out, "broken") {
		t.Errorf("log: %s", out)
	}
}

// An OnChange command that leaves a process in the background holding
// its output is not waited for beyond a few seconds, and one that runs
// on when the server closes is killed, its children with it: neither
// holds up the next command or the shutdown for good.
func TestOnChangeCommandsCannotHoldTheServerUp(t *testing.T) {
	for _, tt := range []struct {
		name, cmd, log string
	}{
		{"background process holding the output", "sleep 30 & echo started", "left processes in the background that hold its output"},
		{"command running at close", "echo started; sleep 600", "OnChange command killed: the server closed and it ran on"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if out := commitWithOnChange(t, tt.cmd); !strings.Contains(out, tt.log) || !strings.Contains(out, "started") {
				t.Errorf("log: %s", out)
			}
		})
	}
}

// A translation is logged with the key it started with, the default one
// too, and the rows it walked, as many as a trace of it lists.
func TestAccessLogOfATranslation(t *testing.T) {
	s, name := accessLogServer(t, true)
	s.loadExample()
	s.get("/v1/translate?uri=/static/img.png&host=www.xyz.de")
	s.get("/v1/translate?uri=/static/img.png&host=www.xyz.de&key=front")
	var traced struct{ Trace []json.RawMessage }
	decodeLoosely(t, s.get("/v1/translate?uri=/static/img.png&host=www.xyz.de&key=front&trace=1"), &traced)
	if len(traced.Trace) == 0 {
		t.Fatal("no trace")
	}
	lines := logLines(t, name, 4)
	want := [][]string{
		{"GET", "/v1/translate", "default", "/static/img.png", "200", "0"},
		{"GET", "/v1/translate", "front", "/static/img.png", "200", strconv.Itoa(len(traced.Trace))},
	}
	for i, w := range want {
		if f := lines[1+i]; !slices.Equal(f[2:8], w) {
			t.Errorf("line %d: %q, want %q", 1+i, f[2:8], w)
		}
	}
}
