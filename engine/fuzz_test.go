package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"transdb/engine"
	"transdb/translation"
)

// fuzzTable returns a provider on the file f.mmdb in dir, which it
// fills anew with the actions in the lists :PRE:, / and sub of the key
// default, in two blocks.
func fuzzTable(t *testing.T, dir string, actions ...string) *translation.Provider {
	p, err := translation.New(translation.Options{FileName: filepath.Join(dir, "f.mmdb"), CheckInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	if _, err := p.Update(func(tx *translation.Txn) error {
		if _, err := tx.Clear(); err != nil {
			return err
		}
		for i, a := range actions {
			for _, u := range []string{":PRE:", "/", "sub"} {
				rec := translation.Record{Key: "default", URI: u, Block: uint32(i % 2), Order: uint32(i), Action: a}
				if _, err := tx.Insert(rec); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzTranslate evaluates random actions against random requests: the
// engine must neither panic nor loop, and its decision stays bounded.
func FuzzTranslate(f *testing.F) {
	for _, r := range exampleTable {
		f.Add(parseRow(f, r).Action, `Do: $CTX{x}=$URI`, "Done", "/static/img.png", "www.xyz.de")
	}
	f.Add(`Call: 'sub'`, `Call: 'sub'`, `Restart: '/'`, "/a/b", "h")
	f.Add(`Do: $MATCHED_URI='abc'`, `State: 'start'`, `Key: 'x'`, "*", "")
	f.Add(`Redirect: 'x', 301`, `Error`, `Proxy`, "//x//y/", "h:1")
	f.Add(`Error: 1`, `Redirect: "/x", -7`, `Error: 1e300`, "/", "h")
	f.Add(`Config: ['a', 'b'], 'c', [1]`, `Fixup: $r->notes->add('a', $ARGV[0])`, `Doc: 'text/html'`, "/", "h")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, a1, a2, a3, uri, host string) {
		p := fuzzTable(t, dir, a1, a2, a3)
		e := engine.New(p, engine.Options{MaxSteps: 200, MaxCallDepth: 8})
		if uri == "" {
			uri = "/"
		}
		d, err := e.Translate(context.Background(), engine.Request{URI: uri, Host: host, Trace: true})
		if err != nil {
			t.Fatalf("Translate: %v", err)
		}
		if d.Status != 0 && (d.Status < 100 || d.Status > 999) {
			t.Errorf("status %d", d.Status)
		}
		// 200 steps of at most three rows each, and their Calls.
		if len(d.Trace) > 200*3*9 {
			t.Errorf("%d trace steps", len(d.Trace))
		}
	})
}

// FuzzDecisionCache translates random actions for two requests that
// share their uri and differ in what the fuzzer chooses, with and
// without the decision cache: a decision taken from the cache is the one
// the translation makes.
func FuzzDecisionCache(f *testing.F) {
	for _, a := range memoReaders {
		f.Add(a, `Do: $CTX{x}=$HEADERS->{X}.$METHOD`, `Proxy: 'http://b/'.$CTX{x}`, "/a", "www.xyz.de", "www.xyz.de:81", "1", "2", uint16(0x5a5))
	}
	f.Add(`Cond: $HEADERS->{X} eq ''`, `Redirect: 'y'`, `Error: 403`, "/a/b", "h", "h", "", "", uint16(0xfff))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, a1, a2, a3, uri, host1, host2, x1, x2 string, differ uint16) {
		p := fuzzTable(t, dir, a1, a2, a3)
		if uri == "" {
			uri = "/"
		}
		cached, plain := cachedAndNot(p, engine.Options{MaxSteps: 200, MaxCallDepth: 8})
		r1 := engine.Request{URI: uri, Host: host1, ClientIP: "192.0.2.1", Header: []engine.Header{{Name: "X", Value: x1}}}
		r2 := engine.Request{URI: uri, Host: host2, ClientIP: "192.0.2.1", Header: []engine.Header{{Name: "x", Value: x2}}}
		bit := func(i int) bool { return differ&(1<<i) != 0 }
		if bit(0) {
			r2.ClientIP = "10.0.0.1"
		}
		if bit(1) {
			r2.Method = "POST"
		}
		if bit(2) {
			r2.Args = "a=1"
		}
		if bit(3) {
			r2.Scheme = "https"
		}
		if bit(4) {
			r2.Port = 8080
		}
		if bit(5) {
			r2.Header = append(r2.Header, engine.Header{Name: "Y", Value: x1})
		}
		if bit(6) {
			r2.Host = ""
			r2.Header = append(r2.Header, engine.Header{Name: "Host", Value: host2})
		}
		if bit(7) {
			r2.Key = "sub"
		}
		for _, req := range []engine.Request{r1, r1, r1, r2, r2, r1, r2} {
			sameDecision(t, cached, plain, req)
		}
	})
}
