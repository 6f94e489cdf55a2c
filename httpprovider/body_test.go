package httpprovider_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/internal/syncbuf"
	"transdb/translation"
)

// A body that ends before its Content-Length, as when the client goes
// away, is 400; one that does not arrive within the server's ReadTimeout
// is 408. They are the client's errors, not the server's: no 5xx, no
// error in the server's log, nothing committed.
func TestIncompleteOrLateBodyIsTheClientsError(t *testing.T) {
	var logs syncbuf.Buffer
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

// A load that would lose records is 400 with the reason, and commits
// nothing: a dump cut short, and a clearing load of a body without
// records unless empty=1 or the body's records=0 says that emptying the
// table is meant.
func TestLoadRefusesATruncatedDumpAndAnEmptyClear(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	example, err := os.ReadFile("../testdata/example.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(example), "\n")
	before, gen := s.dump()
	for _, c := range []struct{ name, path, body, want string }{
		{"dump cut after 13 lines", "/v1/load?format=text&clear=1", strings.Join(lines[:13], ""), "declares records=13, the input ends after 4"},
		{"dump cut in its last line", "/v1/load?format=text&clear=1", string(example[:len(example)-5]), `found "# transdb dump"`},
		{"dump cut in the last line of its last record", "/v1/load?format=text&clear=1", strings.Join(lines[:len(lines)-2], "") + "action> Perl", "ends in the middle of a line"},
		{"dump cut before its end line", "/v1/load?format=text&clear=1", strings.Join(lines[:len(lines)-2], ""), `ends without the end line "# transdb dump end"`},
		{"file dump cut short", "/v1/load?format=file", "# transdb dump generation=1 records=2\n>>> 1 k / 0 0\na\n", "declares records=2, the input ends after 1"},
		{"empty text", "/v1/load?clear=1", "", "refusing to empty the table"},
		{"empty jsonl", "/v1/load?format=jsonl&clear=1", "\n", "add empty=1 to empty the table"},
		{"empty with empty=0", "/v1/load?clear=1&empty=0", "", "refusing to empty the table"},
		{"comments only", "/v1/load?clear=1", "# transdb dump generation=1\n", "does not declare records=0"},
		{"bad empty value", "/v1/load?clear=1&empty=yes", "", "parameter empty"},
	} {
		if msg := s.wantError(s.post(c.path, c.body), http.StatusBadRequest); !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, msg, c.want)
		}
		if after, g := s.dump(); after != before || g != gen {
			t.Fatalf("%s: a refused load changed the database from generation %d to %d", c.name, gen, g)
		}
	}

	// A stale generation is still 409, before the empty body is looked at.
	s.wantError(s.post("/v1/load?clear=1&generation=0", ""), http.StatusConflict)

	var res loadResult
	s.decode(s.post("/v1/load?format=jsonl&clear=1&empty=1", ""), http.StatusOK, &res)
	if res.Records != 0 || res.Generation != gen+1 {
		t.Errorf("load with empty=1: %+v, want no records at generation %d", res, gen+1)
	}
	s.decode(s.post("/v1/load?clear=1", "# transdb dump generation=7 records=0\n"), http.StatusOK, &res)
	if res.Records != 0 || res.Generation != gen+2 {
		t.Errorf("load of a records=0 dump: %+v, want no records at generation %d", res, gen+2)
	}
	if keys, _ := s.p.ListKeys(); len(keys) != 0 {
		t.Errorf("keys after emptying loads: %q", keys)
	}
}

// A record in a txn body and a line of a jsonl load are decoded by the
// same code: a fault in one is the same error in the other, named by its
// place in the body (ops[0].block) or by its line.
func TestTxnAndJSONLShareTheRecordDecoder(t *testing.T) {
	s := serveNew(t)
	s.loadExample()
	before, gen := s.dump()
	const valid = `"key":"k","uri":"/u","block":0,"order":0,"action":"a"`
	for _, c := range []struct{ fields, jsonl, txn string }{
		{`"key":"k","uri":"/u","block":-1,"order":0,"action":"a"`,
			`block "-1" is not an integer in 0..4294967295`, `ops[0].block "-1" is not an integer in 0..4294967295`},
		{`"key":"k","uri":"/u","block":0,"order":1.5,"action":"a"`,
			`order "1.5" is not an integer in 0..4294967295`, `ops[0].order "1.5" is not an integer in 0..4294967295`},
		{`"key":"k","uri":"/u","block":0,"order":0,"action":null`,
			`action must be a string, found "null"`, `ops[0].action must be a string, found "null"`},
		{`"key":"a b","uri":"/u","block":0,"order":0,"action":"a"`,
			`key "a b" contains white space`, `ops[0].key "a b" contains white space`},
		{`"key":"","uri":"/u","block":0,"order":0,"action":"a"`,
			`empty key`, `empty ops[0].key`},
		{valid + `,"color":"red"`, `unknown field "color"`, `unknown field "ops[0].color"`},
		{valid + `,"Note":"n"`, `unknown field "Note"`, `unknown field "ops[0].Note"`},
		{valid + `,"action":"b"`, `repeated field "action"`, `repeated field "ops[0].action"`},
		{`"key":"k","uri":"/u","block":0,"order":0`, `missing field "action"`, `missing field "ops[0].action" in op "insert"`},
	} {
		jsonl := s.wantError(s.post("/v1/load?format=jsonl", "{"+c.fields+"}\n"), http.StatusBadRequest)
		if want := "jsonl input, line 1: " + c.jsonl; !strings.Contains(jsonl, want) {
			t.Errorf("jsonl load of %s: %q, want %q", c.fields, jsonl, want)
		}
		txn := s.wantError(s.post("/v1/txn", `{"ops":[{"op":"insert",`+c.fields+`}]}`), http.StatusBadRequest)
		if !strings.HasPrefix(txn, c.txn) {
			t.Errorf("txn insert of %s: %q, want %q", c.fields, txn, c.txn)
		}
	}
	for _, c := range []struct{ body, want string }{
		{`{"ops":[{"op":"delete","old":{"key":"k","uri":"/u","block":0,"order":0,"id":-1}}]}`, `ops[0].old.id "-1" is not an integer`},
		{`{"ops":[{"op":"delete","old":{"key":"k","uri":"/u","block":0,"order":0,"id":0}}]}`, `ops[0].old.id "0" is not an integer in 1..18446744073709551615`},
		{`{"ops":[{"op":"delete","old":{"key":"k","uri":"/u","block":0,"order":0}}]}`, `missing field "ops[0].old.id"`},
		{`{"ops":[{"op":"delete","old":{"key":"k","uri":"/u","block":0,"order":0,"id":1,"id":2}}]}`, `repeated field "ops[0].old.id"`},
		{`{"ops":[{"op":"delete","old":[1]}]}`, `ops[0].old: want a JSON object, found "[1]"`},
		{`{"ops":[{"op":"update","old":{"key":"k","uri":"/u","block":0,"order":0,"id":1},"new":{` + valid + `,"id":1}}]}`, `field "ops[0].new.id" is not allowed`},
		{`{"ops":[{"op":"clear","key":"k"}]}`, `field "ops[0].key" is not allowed in op "clear"`},
		{`{"ops":[{"op":"insert",` + valid + `,"old":{}}]}`, `field "ops[0].old" is not allowed in op "insert"`},
		{`{"ops":[{` + valid + `}]}`, `missing field "ops[0].op"`},
	} {
		if msg := s.wantError(s.post("/v1/txn", c.body), http.StatusBadRequest); !strings.HasPrefix(msg, c.want) {
			t.Errorf("txn %s: %q, want %q", c.body, msg, c.want)
		}
	}
	if after, g := s.dump(); after != before || g != gen {
		t.Errorf("refused writes changed the database from generation %d to %d", gen, g)
	}
}
