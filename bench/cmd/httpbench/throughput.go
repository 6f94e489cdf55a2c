package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"transdb/internal/httpload"
)

// A contender is one server of a side-by-side comparison, with the check
// of its answers.
type contender struct {
	name  string
	srv   *server
	check func(i int, r httpload.Response) error
}

// throughput compares transdbd with the bare handler on the table of n
// records, for /v1/fetch and /v1/resolve.
func (e *env) throughput(n int) error {
	d, err := e.dataset(n)
	if err != nil {
		return err
	}
	t, err := startTransdbd(e.transdbd, e.dir, "transdbd-"+d.label, d.path, e.o.profiles)
	if err != nil {
		return err
	}
	defer t.stop()
	if err := d.checkAnswers(t.addr); err != nil {
		return err
	}
	b, err := startBare(e.self, e.dir, d.fetchBody, d.resolveBody, d.checkedGen)
	if err != nil {
		return err
	}
	defer b.stop()

	e.waitQuiet("throughput " + d.label)
	fmt.Printf("### %s records (file %s, built in %s)\n\n", d.label, mib(d.size), d.build.Round(1e6))
	fmt.Printf("Bare handler bodies: /v1/fetch %d bytes, /v1/resolve %d bytes (the median transdbd answers).\n\n", len(d.fetchBody), len(d.resolveBody))
	printComparisonHead()
	var failed []comparison
	for _, ep := range []struct {
		name    string
		targets []string
		exp     []httpload.Expected
		body    []byte
	}{
		{"/v1/fetch", d.fetch, d.fetchExp, d.fetchBody},
		{"/v1/resolve", d.resolve, d.resolveExp, d.resolveBody},
	} {
		progress("%s: %s: %d rounds of %s per server", d.label, ep.name, e.o.rounds, e.o.round)
		cs := []contender{
			{"transdbd", t, func(i int, r httpload.Response) error { return ep.exp[i].Check(r) }},
			{"bare net/http", b, constantCheck(ep.body)},
		}
		res, err := e.compare(cs, ep.targets)
		if err != nil {
			return err
		}
		printComparison(d.label, ep.name, cs, res)
		failed = append(failed, res...)
	}
	fmt.Println()
	for _, c := range failed {
		e.report(&c.total)
	}
	if err := t.stop(); err != nil {
		return err
	}
	return b.stop()
}

// constantCheck accepts a 200 answer with the body.
func constantCheck(body []byte) func(int, httpload.Response) error {
	return func(_ int, r httpload.Response) error {
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, body) {
			return fmt.Errorf("status %d, body %.200q", r.Status, r.Body)
		}
		return nil
	}
}

// A comparison is what the rounds of one contender measured: all rounds
// merged, each round's rate, and the CPU time that the server and the
// load generator used in the rounds.
type comparison struct {
	total                httpload.Result
	rates                []float64
	serverCPU, clientCPU time.Duration
}

// compare runs a warm-up round for each contender, then e.o.rounds rounds
// each, alternating in ABBA order, so that a drift of the machine touches
// both alike.
func (e *env) compare(cs []contender, targets []string) ([]comparison, error) {
	res := make([]comparison, len(cs))
	for _, c := range cs {
		if _, err := e.round(c, targets, e.o.warmup); err != nil {
			return nil, err
		}
	}
	for r := range e.o.rounds {
		for k := range cs {
			if r%2 == 1 {
				k = len(cs) - 1 - k
			}
			got, server, client, err := e.measuredRound(cs[k], targets, e.o.round)
			if err != nil {
				return nil, err
			}
			res[k].total.Merge(&got)
			res[k].rates = append(res[k].rates, got.Rate())
			res[k].serverCPU += server
			res[k].clientCPU += client
		}
	}
	return res, nil
}

// round runs one round of the load against c.
func (e *env) round(c contender, targets []string, d time.Duration) (httpload.Result, error) {
	return httpload.Run(context.Background(), httpload.Round{
		Addr:     c.srv.addr,
		Conns:    e.o.conns,
		Duration: d,
		Targets:  targets,
		Check:    c.check,
	})
}

// measuredRound is round, and the CPU time the server and this process
// used meanwhile.
func (e *env) measuredRound(c contender, targets []string, d time.Duration) (res httpload.Result, server, client time.Duration, err error) {
	s0, err1 := processCPU(c.srv.pid())
	c0, err2 := processCPU(0)
	if res, err = e.round(c, targets, d); err != nil {
		return res, 0, 0, err
	}
	s1, err3 := processCPU(c.srv.pid())
	c1, err4 := processCPU(0)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return res, 0, 0, err
	}
	return res, s1 - s0, c1 - c0, nil
}

// report prints the failures of a result and remembers that there were
// some.
func (e *env) report(r *httpload.Result) {
	if r.Failures == 0 {
		return
	}
	e.ok = false
	fmt.Printf("%d of %d answers failed; the first ones:\n\n", r.Failures, r.Requests)
	for _, err := range r.Errors {
		fmt.Printf("    %v\n", err)
	}
	fmt.Println()
}
