package httpprovider_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkFetch measures the handler of GET /v1/fetch alone, without
// the network: query parsing, the lookup, the JSON, the metrics.
func BenchmarkFetch(b *testing.B) { benchGET(b, "/v1/fetch?key=front&uri=:PRE:") }

// benchGET measures the handler of a GET of target on the example
// table, which must answer 200.
func benchGET(b *testing.B, target string) {
	s := serveNew(b)
	s.loadExample()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

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
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK || w.Header().Get("X-Transdb-Proxy") != "http://backend/de/appl1/x" {
			b.Fatalf("status %d: %v", w.Code, w.Header())
		}
	}
}

// BenchmarkTranslate measures the handler of GET /v1/translate alone,
// for the example table's /static/img.png on www.xyz.de: query parsing,
// the translation, the decision's JSON, the metrics.
func BenchmarkTranslate(b *testing.B) {
	benchGET(b, "/v1/translate?key=front&uri=/static/img.png&host=www.xyz.de")
}
