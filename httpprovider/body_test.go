package httpprovider_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/translation"
)

// A body that ends before its Content-Length, as when the client goes
// away, is 400; one that does not arrive within the server's ReadTimeout
// is 408. They are the client's errors, not the server's: no 5xx, no
// error in the server's log, nothing committed.
func TestIncompleteOrLateBodyIsTheClientsError(t *testing.T) {
	var logs syncBuffer
	p := newProvider(t, dbPath(t), false, "trans", "db")
	srv, err := httpprovider.New(httpprovider.Options{
		Providers:  []*translation.Provider{p},
		AdminToken: token,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ReadTimeout = 300 * time.Millisecond
	hs.Start()
	t.Cleanup(hs.Close)
	s := &testServer{t: t, srv: srv, p: p, url: hs.URL}
	s.loadExample()
	before, gen := s.dump()

	for _, c := range []struct{ path, partial string }{
		{"/v1/txn", `{"ops":[{"op":"clear"}`},
		{"/v1/load?format=text&clear=1", strings.Repeat("#", 70) + "\nfront & /x 0/0/1\naction> a\n"},
		{"/v1/load?format=jsonl&clear=1", `{"key":"front","uri":"/x","block":0,"order":0,"action":"a"}` + "\n" + `{"key":`},
	} {
		for _, late := range []bool{false, true} {
			conn, err := net.Dial("tcp", hs.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: transdb\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n%s",
				c.path, token, c.partial)
			status := http.StatusRequestTimeout
			if !late {
				conn.(*net.TCPConn).CloseWrite()
				status = http.StatusBadRequest
			}
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s, late %v: %v", c.path, late, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			conn.Close()
			if err != nil {
				t.Fatal(err)
			}
			msg := s.wantError(response{status: resp.StatusCode, header: resp.Header, body: body}, status)
			if !strings.Contains(msg, "request body") {
				t.Errorf("%s, late %v: message %q does not name the request body", c.path, late, msg)
			}
		}
	}
	if after, g := s.dump(); g != gen || after != before {
		t.Errorf("incomplete bodies changed the database from generation %d to %d", gen, g)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("incomplete bodies are logged as errors of the server:\n%s", logs.String())
	}
}
