package engine_test

import (
	"context"
	"path/filepath"
	"testing"

	"transdb/engine"
	"transdb/translation"
)

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
		p, err := translation.New(translation.Options{FileName: filepath.Join(dir, "f.mmdb"), CheckInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Stop()
		if _, err := p.Update(func(tx *translation.Txn) error {
			if _, err := tx.Clear(); err != nil {
				return err
			}
			for i, a := range []string{a1, a2, a3} {
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
