package main

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"transdb/internal/httpload"
	"transdb/translation/transgen"
)

// The load of the tests whose daemons switch versions under it: fetch
// targets checked once against the generated table, with the switch
// marker mixed in, run in rounds in the background until the versions
// are all committed.

// checkedTargets fetches each of probes probe pairs of rows once over c,
// checks every answer against the table at generation gen, and returns
// the fetch targets, with the switch marker as every 8th, and their
// check.
func checkedTargets(t *testing.T, c *httpload.Conn, rows []transgen.Row, probes int, gen uint64) ([]string, func(int, httpload.Response) error) {
	t.Helper()
	table := httpload.NewTable(rows)
	pairs, _ := transgen.Probes(rows, probes, 1)
	var targets []string
	var exp []httpload.Expected
	for _, pr := range pairs {
		target := httpload.FetchTarget(pr[0], pr[1])
		r, err := c.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		if err := table.CheckFetch(r.Body, pr[0], pr[1], gen); err != nil {
			t.Fatal(err)
		}
		e, err := httpload.CutGeneration(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		targets, exp = append(targets, target), append(exp, e)
	}
	return httpload.WithMarker(targets, exp, 8)
}

// A backgroundLoad runs rounds of a load until finish, and one round
// more, begun after finish was called, so that it sees the last version
// served (a round that ends just as the last switch is confirmed may
// have answered all it counts before it).
type backgroundLoad struct {
	stop   chan struct{}
	done   sync.WaitGroup
	cancel context.CancelFunc
	total  httpload.Result
	err    error
}

// startLoad starts rounds of conns connections to addr over targets.
func startLoad(addr string, conns int, targets []string, check func(int, httpload.Response) error) *backgroundLoad {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	l := &backgroundLoad{stop: make(chan struct{}), cancel: cancel}
	l.done.Go(func() {
		for {
			final := false
			select {
			case <-l.stop:
				final = true
			default:
			}
			res, err := httpload.Run(ctx, httpload.Round{Addr: addr, Conns: conns, Duration: 200 * time.Millisecond, Targets: targets, Check: check})
			if err != nil {
				l.err = err
				return
			}
			l.total.Merge(&res)
			if final {
				return
			}
		}
	})
	return l
}

// finish runs the last round, waits for it and returns the load's
// result; a load that could not run, or an answer that failed, fails
// the test (name says whose load it was).
func (l *backgroundLoad) finish(t *testing.T, name string) *httpload.Result {
	t.Helper()
	close(l.stop)
	l.done.Wait()
	l.cancel()
	if l.err != nil {
		t.Fatalf("%s: %v", name, l.err)
	}
	if l.total.Failures != 0 {
		t.Errorf("%s: %d of %d answers failed, the first ones:", name, l.total.Failures, l.total.Requests)
		for _, err := range l.total.Errors {
			t.Error(err)
		}
	}
	return &l.total
}

// waitServes waits until the marker fetched over c comes from
// generation g, checking every answer; after 30 s it fails the test,
// saying what made g.
func waitServes(t *testing.T, c *httpload.Conn, g uint64, what string) {
	t.Helper()
	marker := httpload.FetchTarget(httpload.SwitchKey, httpload.SwitchURI)
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, err := c.Get(marker)
		if err != nil {
			t.Fatal(err)
		}
		if err := httpload.CheckSwitchFetch(r); err != nil {
			t.Fatal(err)
		}
		if string(r.Generation) == strconv.FormatUint(g, 10) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon still serves generation %s, 30 s after %s of %d", r.Generation, what, g)
		}
		time.Sleep(time.Millisecond)
	}
}
