package httpprovider_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

const token = "s3cret-token"

// newProvider returns a provider on path with the base key, stopped at
// the end of the test.
func newProvider(t testing.TB, path string, readOnly bool, baseKey ...string) *translation.Provider {
	t.Helper()
	p, err := translation.New(translation.Options{FileName: path, ReadOnly: readOnly, BaseKey: baseKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// dbPath returns the path of a database file in a new directory.
func dbPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "trans.mmdb")
}

// A testServer is a Server behind a real HTTP server.
type testServer struct {
	t   testing.TB
	srv *httpprovider.Server
	url string
	p   *translation.Provider // the first provider
}

// serve starts a Server with opts behind an httptest.Server, closed at
// the end of the test.
func serve(t testing.TB, opts httpprovider.Options) *testServer {
	t.Helper()
	srv, err := httpprovider.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &testServer{t: t, srv: srv, url: newHTTPServer(t, srv), p: opts.Providers[0]}
}

// newHTTPServer serves h until the end of the test and returns its URL.
func newHTTPServer(t testing.TB, h http.Handler) string {
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs.URL
}

// serveNew serves a new writable database with base key ["trans","db"],
// the admin token and the default key "front".
func serveNew(t testing.TB) *testServer {
	t.Helper()
	return serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, dbPath(t), false, "trans", "db")},
		AdminToken:     token,
		TranslationKey: "front",
		Flush:          true,
	})
}

// A response is a whole HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// generation returns the response's X-Transdb-Generation.
func (r response) generation(t testing.TB) uint64 {
	t.Helper()
	v := r.header.Values(httpprovider.HeaderGeneration)
	if len(v) != 1 {
		t.Fatalf("response has %d %s headers, want 1", len(v), httpprovider.HeaderGeneration)
	}
	g, err := strconv.ParseUint(v[0], 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", httpprovider.HeaderGeneration, err)
	}
	return g
}

// do sends a request; header is a list of name, value pairs.
func (s *testServer) do(method, path string, body io.Reader, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return s.send(req)
}

func (s *testServer) send(req *http.Request) response {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *testServer) get(path string) response {
	s.t.Helper()
	return s.do(http.MethodGet, path, nil)
}

// post sends a POST with the admin token.
func (s *testServer) post(path, body string) response {
	s.t.Helper()
	return s.do(http.MethodPost, path, strings.NewReader(body), "Authorization", "Bearer "+token)
}

// txn posts a txn body with the token and expects 200.
func (s *testServer) txn(body string) txnResult {
	s.t.Helper()
	r := s.post("/v1/txn", body)
	var res txnResult
	s.decode(r, http.StatusOK, &res)
	return res
}

// decode checks the status and the JSON content type and decodes the
// body into v, strictly.
func (s *testServer) decode(r response, status int, v any) {
	s.t.Helper()
	if r.status != status {
		s.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		s.t.Fatalf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks that r is a JSON error with the status, and returns
// its message.
func (s *testServer) wantError(r response, status int) string {
	s.t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	s.decode(r, status, &e)
	if e.Error == "" {
		s.t.Fatalf("error response without message: %s", r.body)
	}
	r.generation(s.t)
	return e.Error
}

// dump returns the text dump of the first provider and its generation.
func (s *testServer) dump() (string, uint64) {
	s.t.Helper()
	var b strings.Builder
	snap, err := s.p.Snapshot()
	if err != nil {
		s.t.Fatal(err)
	}
	defer snap.Release()
	if err := snap.Dump(&b, translation.FormatText); err != nil {
		s.t.Fatal(err)
	}
	return b.String(), snap.Generation()
}

// Response bodies.
type (
	block struct {
		Block  uint32  `json:"block"`
		Order  uint32  `json:"order"`
		Action string  `json:"action"`
		ID     uint64  `json:"id"`
		Note   *string `json:"note"`
	}
	fetchResult struct {
		Key        string  `json:"key"`
		URI        string  `json:"uri"`
		Generation uint64  `json:"generation"`
		Blocks     []block `json:"blocks"`
	}
	match struct {
		URI      string  `json:"uri"`
		PathInfo string  `json:"path_info"`
		Blocks   []block `json:"blocks"`
	}
	resolveResult struct {
		Key        string  `json:"key"`
		URI        string  `json:"uri"`
		Generation uint64  `json:"generation"`
		Pre        []block `json:"pre"`
		Matches    []match `json:"matches"`
	}
	txnResult struct {
		Generation uint64 `json:"generation"`
		Results    []struct {
			ID      *uint64 `json:"id"`
			Deleted *int    `json:"deleted"`
		} `json:"results"`
	}
	loadResult struct {
		Generation uint64 `json:"generation"`
		Records    int    `json:"records"`
	}
	readiness struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Files  []struct {
			File         string  `json:"file"`
			Generation   uint64  `json:"generation"`
			Verification string  `json:"verification"`
			Verified     *uint64 `json:"verified_generation"`
			VerifyError  string  `json:"verify_error"`
		} `json:"files"`
	}
)

// fetch gets /v1/fetch with the query and checks that the header and
// body generations agree.
func (s *testServer) fetch(query string) fetchResult {
	s.t.Helper()
	r := s.get("/v1/fetch?" + query)
	var f fetchResult
	s.decode(r, http.StatusOK, &f)
	if g := r.generation(s.t); g != f.Generation {
		s.t.Fatalf("header generation %d, body %d", g, f.Generation)
	}
	if f.Blocks == nil {
		s.t.Fatalf("blocks is null: %s", r.body)
	}
	return f
}

// readFile returns the content of a file, "" when it does not exist.
func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// loadExample loads testdata/example.txt into the server's first
// provider.
func (s *testServer) loadExample() loadResult {
	s.t.Helper()
	b, err := os.ReadFile("../testdata/example.txt")
	if err != nil {
		s.t.Fatal(err)
	}
	var res loadResult
	s.decode(s.post("/v1/load?format=text", string(b)), http.StatusOK, &res)
	return res
}
