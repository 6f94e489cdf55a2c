package engine_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"transdb/engine"
	"transdb/translation"
)

// A tableRow is one row of a test table: "key | uri | block | order | action".
type tableRow string

// newTable writes rows into a new database and returns a provider on it.
func newTable(t testing.TB, rows ...tableRow) *translation.Provider {
	t.Helper()
	p, err := translation.New(translation.Options{FileName: filepath.Join(t.TempDir(), "t.mmdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	insertRows(t, p, rows...)
	return p
}

// insertRows inserts rows into the table of p in one commit.
func insertRows(t testing.TB, p *translation.Provider, rows ...tableRow) {
	t.Helper()
	if _, err := p.Update(func(tx *translation.Txn) error {
		for _, r := range rows {
			if _, err := tx.Insert(parseRow(t, r)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// parseRow splits "key | uri | block | order | action"; the action is
// everything after the fourth bar and the one blank that follows it.
func parseRow(t testing.TB, r tableRow) translation.Record {
	t.Helper()
	f := strings.SplitN(string(r), "|", 5)
	if len(f) != 5 {
		t.Fatalf("row %q: want key | uri | block | order | action", r)
	}
	block, err1 := strconv.ParseUint(strings.TrimSpace(f[2]), 10, 32)
	order, err2 := strconv.ParseUint(strings.TrimSpace(f[3]), 10, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("row %q: block or order", r)
	}
	return translation.Record{Key: strings.TrimSpace(f[0]), URI: strings.TrimSpace(f[1]),
		Block: uint32(block), Order: uint32(order), Action: strings.TrimPrefix(f[4], " ")}
}

// translate evaluates the table of p for req.
func translate(t testing.TB, e *engine.Engine, req engine.Request) *engine.Decision {
	t.Helper()
	d, err := e.Translate(context.Background(), req)
	if err != nil {
		t.Fatalf("Translate(%+v): %v", req, err)
	}
	return d
}

// get is a GET request for uri on host www.example.org, port 80.
func get(uri string) engine.Request {
	return engine.Request{URI: uri, Host: "www.example.org", ClientIP: "192.0.2.1"}
}

// note returns the values of a note, nil when it is not set.
func note(d *engine.Decision, name string) []string {
	for _, n := range d.Notes {
		if n.Name == name {
			return n.Values
		}
	}
	return nil
}

// ctxValue returns a %CTX value and whether it is set.
func ctxValue(d *engine.Decision, name string) (string, bool) {
	for _, v := range d.CTX {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}
