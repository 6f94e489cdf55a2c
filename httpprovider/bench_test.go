package httpprovider_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"transdb/httpprovider"
)

// A benchWriter is a ResponseWriter that keeps the last response and is
// used again for the next, as net/http's own is: the benchmarks measure
// the handler, not a recorder's allocations.
type benchWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// reset forgets the last response.
func (w *benchWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

// benchServe measures h serving req, whose answer check accepts.
func benchServe(b *testing.B, h http.Handler, req *http.Request, check func(w *benchWriter) bool) {
	w := &benchWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
		if !check(w) {
			b.Fatalf("status %d: %v %s", w.status, w.header, w.body.Bytes())
		}
	}
}

// benchGET measures the handler of a GET of target on the example
// table, which must answer 200.
func benchGET(b *testing.B, target string) {
	s := serveNew(b)
	s.loadExample()
	benchServe(b, s.srv, httptest.NewRequest(http.MethodGet, target, nil),
		func(w *benchWriter) bool { return w.status == http.StatusOK })
}

// BenchmarkBare is the yardstick of the handler benchmarks: a handler
// that answers a constant body with the headers of a transdbd answer.
func BenchmarkBare(b *testing.B) {
	body := []byte(`{"status":0,"rows":3}` + "\n")
	gen := []string{"1"}
	ct := []string{"application/json"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = ct
		w.Header()[httpprovider.HeaderGeneration] = gen
		w.Write(body)
	})
	benchServe(b, h, httptest.NewRequest(http.MethodGet, "/v1/translate?key=front&uri=%2Fstatic%2Fimg.png&host=www.xyz.de", nil),
		func(w *benchWriter) bool { return w.status == http.StatusOK })
}

// BenchmarkFetch measures the handler of GET /v1/fetch alone, without
// the network: query parsing, the lookup, the JSON, the metrics.
func BenchmarkFetch(b *testing.B) { benchGET(b, "/v1/fetch?key=front&uri=:PRE:") }

// BenchmarkResolve measures the handler of GET /v1/resolve alone.
func BenchmarkResolve(b *testing.B) { benchGET(b, "/v1/resolve?key=front&uri=/static/img.png") }

// BenchmarkAuth measures the handler of GET /v1/auth alone, for an
// nginx subrequest of the example table's /appl1/x: the headers read,
// the translation, the decision's headers.
func BenchmarkAuth(b *testing.B) {
	s := serveNew(b)
	s.loadExample()
	req := httptest.NewRequest(http.MethodGet, "/v1/auth?deny=403&key=front&basekey=trans&basekey=db", nil)
	for _, h := range [][2]string{{"X-Original-URI", "/appl1/x?a=1"}, {"X-Original-Method", "GET"},
		{"X-Forwarded-Host", "www.xyz.de"}, {"X-Forwarded-Proto", "http"}, {"X-Forwarded-Port", "80"},
		{"X-Real-IP", "192.0.2.7"}, {"User-Agent", "bench"}, {"Accept", "*/*"}} {
		req.Header.Set(h[0], h[1])
	}
	benchServe(b, s.srv, req, func(w *benchWriter) bool {
		return w.status == http.StatusOK && w.header.Get("X-Transdb-Proxy") == "http://backend/de/appl1/x"
	})
}

// BenchmarkTranslate measures the handler of GET /v1/translate alone,
// for the example table's /static/img.png on www.xyz.de, as httpbench
// asks for it: query parsing, the decision (from the decision cache
// after the first two), its JSON, the metrics.
func BenchmarkTranslate(b *testing.B) {
	benchGET(b, "/v1/translate?key=front&uri=%2Fstatic%2Fimg.png&host=www.xyz.de")
}

// BenchmarkTranslateMany is BenchmarkTranslate over 65,536 uris, each
// asked for in turn, as a server sees them: the decision cache's
// entries are mostly out of the processor's caches when asked for.
func BenchmarkTranslateMany(b *testing.B) {
	s := serveNew(b)
	s.loadExample()
	reqs := make([]*http.Request, 1<<16)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/translate?key=front&uri=%%2Fstatic%%2Fimg%d.png&host=www.xyz.de", i), nil)
	}
	w := &benchWriter{header: http.Header{}}
	for range 4 { // a decision is kept at its second miss, when its
		// admission slot was not taken by another uri meanwhile
		for _, req := range reqs {
			w.reset()
			s.srv.ServeHTTP(w, req)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.reset()
		s.srv.ServeHTTP(w, reqs[i%len(reqs)])
		if w.status != http.StatusOK {
			b.Fatalf("status %d: %s", w.status, w.body.Bytes())
		}
		i++
	}
}
