package httpprovider_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkFetch measures the handler of GET /v1/fetch alone, without
// the network: query parsing, the lookup, the JSON, the metrics.
func BenchmarkFetch(b *testing.B) {
	s := serveNew(b)
	s.loadExample()
	req := httptest.NewRequest(http.MethodGet, "/v1/fetch?key=front&uri=:PRE:", nil)
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
func BenchmarkResolve(b *testing.B) {
	s := serveNew(b)
	s.loadExample()
	req := httptest.NewRequest(http.MethodGet, "/v1/resolve?key=front&uri=/static/img.png", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
