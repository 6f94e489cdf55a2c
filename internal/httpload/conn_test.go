package httpload

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConnReadsLengthAndChunkedBodiesAndReconnectsAfterClose(t *testing.T) {
	big := strings.Repeat("0123456789", 1000) // beyond net/http's buffer: chunked
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			w.Header().Set("X-Transdb-Generation", "42")
			w.Write([]byte("small body"))
		case "/big":
			w.Write([]byte(big))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, err := Dial(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		target, body, gen string
		status            int
	}{
		{"/small", "small body", "42", 200},
		{"/big", big, "", 200},
		{"/close", "bye", "", 200},
		{"/small", "small body", "42", 200}, // on a new connection
		{"/empty", "", "", 204},
		{"/missing", "404 page not found\n", "", 404},
		{"/big", big, "", 200},
	} {
		r, err := c.Get(tc.target)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.target, err)
		}
		if r.Status != tc.status || string(r.Body) != tc.body || string(r.Generation) != tc.gen || (tc.gen == "") != (r.Generation == nil) {
			t.Errorf("GET %s: %d %q generation %q, want %d %.20q %q", tc.target, r.Status, r.Body, r.Generation, tc.status, tc.body, tc.gen)
		}
	}
}

// cannedServer answers every connection's first request with response
// and closes it.
func cannedServer(t *testing.T, response string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				nc.Write([]byte(response))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestConnRejectsMalformedResponses(t *testing.T) {
	for name, response := range map[string]string{
		"status line":       "HTTP/1.1 OK\r\n\r\n",
		"not HTTP":          "SSH-2.0-OpenSSH\r\n\r\n",
		"header":            "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"length":            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"no length":         "HTTP/1.1 200 OK\r\n\r\nbody",
		"encoding":          "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"chunk size":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"no CRLF after one": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
	} {
		c, err := Dial(cannedServer(t, response))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get("/"); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: error %v, want ErrProtocol", name, err)
		}
		c.Close()
	}
	c, err := Dial(cannedServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get("/"); err == nil {
		t.Error("a body cut short is no error")
	}
}

func TestConnGetAllocatesNothingOnceWarm(t *testing.T) {
	// A keep-alive server that allocates nothing itself: it answers every
	// read (a whole request, as the client sends one at a time) with a
	// canned response.
	response := []byte("HTTP/1.1 200 OK\r\nX-Transdb-Generation: 7\r\nContent-Length: 3000\r\n\r\n" + strings.Repeat("x", 3000))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		var buf [4096]byte
		for {
			if _, err := nc.Read(buf[:]); err != nil {
				return
			}
			if _, err := nc.Write(response); err != nil {
				return
			}
		}
	}()
	c, err := Dial(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	allocs := testing.AllocsPerRun(100, func() {
		if r, err := c.Get("/v1/fetch?key=k&uri=/u"); err != nil || r.Status != 200 || len(r.Body) != 3000 || string(r.Generation) != "7" {
			t.Fatal(r.Status, err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Get", allocs)
	}
}

func TestConnSendsTheHeaderLinesOfATargetAndReadsTheDecisionHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Transdb-Generation", "3")
		if r.URL.Path == "/plain" {
			return
		}
		h["X-Transdb-File"] = []string{r.Header.Get("X-Original-Uri")}
		h["X-Transdb-Note-a"] = []string{r.Header.Get("X-Forwarded-Host"), "two"}
		if r.URL.Query().Get("redirect") != "" {
			h.Set("Location", "/there")
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer srv.Close()
	c, err := Dial(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.Get("/v1/auth?key=k\r\nX-Original-URI: /a/b\r\nX-Forwarded-Host: www.k")
	if err != nil {
		t.Fatal(err)
	}
	// net/http writes the headers sorted by name.
	if want := "X-Transdb-File: /a/b\nX-Transdb-Note-a: www.k\nX-Transdb-Note-a: two\n"; r.Status != 200 || string(r.Headers) != want || string(r.Generation) != "3" {
		t.Errorf("status %d, headers %q, generation %q; want 200, %q, 3", r.Status, r.Headers, r.Generation, want)
	}
	r, err = c.Get("/v1/auth?redirect=1\r\nX-Original-URI: /c")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Location: /there\nX-Transdb-File: /c\nX-Transdb-Note-a: \nX-Transdb-Note-a: two\n"; r.Status != 302 || string(r.Headers) != want {
		t.Errorf("status %d, headers %q; want 302, %q", r.Status, r.Headers, want)
	}
	if r, err = c.Get("/plain"); err != nil || r.Headers != nil {
		t.Errorf("headers %q, %v; want none", r.Headers, err)
	}
}
