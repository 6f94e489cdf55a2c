package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

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
	table := httpload.NewTable(rows)
	pairs, _ := transgen.Probes(rows, probes, 1)
	var targets []string
	var exp []httpload.Expected
	c, err := httpload.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, pr := range pairs {
		target := httpload.FetchTarget(pr[0], pr[1])
		r, err := c.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := table.CheckFetch(r.Body, pr[0], pr[1], first); err != nil {
			t.Fatal(err)
		}
		e, err := httpload.CutGeneration(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		targets, exp = append(targets, target), append(exp, e)
	}
	targets, check := httpload.WithMarker(targets, exp, 8)

	// The load: rounds of 8 connections until the commits are done, and
	// one round more, begun after the daemon served the last generation,
	// so that the load sees it (a round that ends just as the last switch
	// is confirmed may have answered all it counts before it).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var done sync.WaitGroup
	var total httpload.Result
	var loadErr error
	stop := make(chan struct{})
	done.Go(func() {
		for {
			final := false
			select {
			case <-stop:
				final = true
			default:
			}
			res, err := httpload.Run(ctx, httpload.Round{Addr: addr, Conns: conns, Duration: 200 * time.Millisecond, Targets: targets, Check: check})
			if err != nil {
				loadErr = err
				return
			}
			total.Merge(&res)
			if final {
				return
			}
		}
	})

	marker := httpload.FetchTarget(httpload.SwitchKey, httpload.SwitchURI)
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
		// Wait until the daemon serves it.
		for deadline := time.Now().Add(30 * time.Second); ; {
			r, err := c.Get(marker)
			if err != nil {
				t.Fatal(err)
			}
			if err := httpload.CheckSwitchFetch(r); err != nil {
				t.Fatal(err)
			}
			if string(r.Generation) == strconv.FormatUint(g, 10) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the daemon still serves generation %s, 30 s after the commit of %d", r.Generation, g)
			}
			time.Sleep(time.Millisecond)
		}
	}
	close(stop)
	done.Wait()
	if loadErr != nil {
		t.Fatal(loadErr)
	}

	if total.Failures != 0 {
		t.Errorf("%d of %d answers failed, the first ones:", total.Failures, total.Requests)
		for _, err := range total.Errors {
			t.Error(err)
		}
	}
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
