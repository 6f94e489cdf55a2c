package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"transdb/internal/httpload"
	"transdb/translation"
	"transdb/translation/transgen"
)

// TestVersionSwitchesUnderLoad serves a generated table with a read-only
// transdbd while this process, another writer, commits 100 one-record
// changes and 8 connections fetch and resolve without pause. Every
// answer must be a 200 made from exactly one committed version: the
// table's block lists as generated, and the switch marker naming the
// generation of the answer's header and body. The next commit waits
// until the daemon has served the last one, so that the daemon switches
// versions 100 times.
func TestVersionSwitchesUnderLoad(t *testing.T) {
	const commits, conns, probes = 100, 8, 512
	db := filepath.Join(t.TempDir(), "trans.mmdb")
	rows := transgen.Generate(5000, 1)
	p, err := translation.New(translation.Options{FileName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := httpload.InsertRows(p, rows); err != nil {
		t.Fatal(err)
	}
	sw, err := httpload.NewSwitcher(p)
	if err != nil {
		t.Fatal(err)
	}
	first, err := sw.Commit()
	if err != nil {
		t.Fatal(err)
	}

	d := startDaemon(t, nil, "serve", "-config", config(t, db, true))
	addr := d.base[len("http://"):]
	c, err := httpload.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	targets, check := checkedTargets(t, c, rows, probes, first)

	// The load: rounds of 8 connections until the commits are done, and
	// one round more (see backgroundLoad).
	load := startLoad(addr, conns, targets, check)
	last := first
	for range commits {
		g, err := sw.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if g != last+1 {
			t.Fatalf("commit made generation %d after %d", g, last)
		}
		last = g
		waitServes(t, c, g, "the commit")
	}
	total := load.finish(t, "the load")
	lo, hi, n := total.GenerationRange()
	if lo < first || hi != last || n < 2 {
		t.Errorf("the load saw %d generations, %d..%d; the commits made %d..%d", n, lo, hi, first, last)
	}
	var st struct{ Generation, Reloads uint64 }
	if code, body := d.get(t, "/v1/stats"); code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Generation != last || st.Reloads < commits {
		t.Errorf("/v1/stats %d %s: want generation %d and at least %d reloads", code, body, last, commits)
	}
	t.Logf("%d answers during %d commits, %d generations seen, %.0f req/s", total.Requests, commits, n, total.Rate())
}
