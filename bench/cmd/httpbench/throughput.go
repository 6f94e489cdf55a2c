package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"transdb/bench"
	"transdb/internal/httpload"
)

// A contender is one server of a side-by-side comparison, with the check
// of its answers.
type contender struct {
	name  string
	srv   *bench.Server
	check func(i int, r httpload.Response) error
}

// throughput compares transdbd with the bare handler on the table of n
// records, for /v1/fetch, /v1/resolve, /v1/translate and /v1/auth.
func (e *env) throughput(n int) error {
	d, err := e.dataset(n)
	if err != nil {
		return err
	}
	t, err := e.checkedTransdbd(d, "transdbd-"+d.label, false)
	if err != nil {
		return err
	}
	defer t.Stop()
	var profile string
	if e.o.profiles != "" {
		profile = filepath.Join(e.o.profiles, "bare-"+d.label+".pprof")
	}
	b, err := startBare(e.self, e.dir, d.fetchBody, d.resolveBody, d.translateBody, d.authHeaders, d.checkedGen, profile)
	if err != nil {
		return err
	}
	defer b.Stop()

	e.waitQuiet("throughput " + d.label)
	fmt.Printf("### %s records (file %s, built in %s)\n\n", d.label, mib(d.size), d.build.Round(1e6))
	fmt.Printf("Bare handler bodies: /v1/fetch %d bytes, /v1/resolve %d bytes, /v1/translate %d bytes: the transdbd answers of median size (mean sizes %d, %d and %d bytes).\n\n",
		len(d.fetchBody), len(d.resolveBody), len(d.translateBody), d.fetchMean, d.resolveMean, d.translateMean)
	if e.o.endpoints["translate"] {
		fmt.Printf("Decisions of the %s /v1/translate targets: %s.\n\n", count(int64(len(d.translate))), d.decisions)
	}
	if e.o.endpoints["auth"] {
		fmt.Printf("/v1/auth: the same requests, the original request in X-Original-URI and X-Forwarded-Host; decisions: %s. "+
			"Bare handler: 200, no body, the %d bytes of X-Transdb-* header lines of the transdbd 200 answer of median size (mean %d bytes).\n\n",
			d.authDecisions, len(d.authHeaders), d.authMean)
	}
	printComparisonHead()
	var failed []comparison
	g := []byte(strconv.FormatUint(d.checkedGen, 10))
	bodyPrints := func(n int, body func(i int) []byte) []uint64 {
		prints := make([]uint64, n)
		for i := range prints {
			prints[i] = answerPrint(http.StatusOK, g, nil, body(i))
		}
		return prints
	}
	authPrints := make([]uint64, len(d.authExp))
	for i, a := range d.authExp {
		authPrints[i] = answerPrint(a.status, g, a.headers, a.body)
	}
	for _, ep := range []struct {
		name      string
		targets   []string
		prints    []uint64 // of transdbd's answers
		check     func(i int, r httpload.Response) error
		bare      uint64 // the fingerprint of the bare handler's answer
		bareCheck func(i int, r httpload.Response) error
	}{
		{"/v1/fetch", d.fetch, bodyPrints(len(d.fetchExp), func(i int) []byte { return d.fetchExp[i].Body(d.checkedGen) }),
			expectedCheck(d.fetchExp), answerPrint(http.StatusOK, g, nil, d.fetchBody), constantCheck(d.fetchBody)},
		{"/v1/resolve", d.resolve, bodyPrints(len(d.resolveExp), func(i int) []byte { return d.resolveExp[i].Body(d.checkedGen) }),
			expectedCheck(d.resolveExp), answerPrint(http.StatusOK, g, nil, d.resolveBody), constantCheck(d.resolveBody)},
		{"/v1/translate", d.translate, bodyPrints(len(d.translateExp), func(i int) []byte { return d.translateExp[i] }),
			exactCheck(d.translateExp, d.checkedGen), answerPrint(http.StatusOK, g, nil, d.translateBody), constantCheck(d.translateBody)},
		{"/v1/auth", d.auth, authPrints,
			authCheck(d.authExp, d.checkedGen), answerPrint(http.StatusOK, g, d.authHeaders, nil), bareAuthCheck(d.authHeaders)},
	} {
		if !e.o.endpoints[ep.name[len("/v1/"):]] {
			continue
		}
		progress("%s: %s: %d rounds of %s per server", d.label, ep.name, e.o.rounds, e.o.round)
		cs := []contender{
			{"transdbd", t, printCheck(ep.prints, ep.check)},
			{"bare net/http", b, printCheck([]uint64{ep.bare}, ep.bareCheck)},
		}
		res, err := e.compare(cs, ep.targets, 0, e.o.warmup)
		if err != nil {
			return err
		}
		printComparison(d.label, ep.name, "closed loop", cs, res)
		failed = append(failed, res...)
		if ep.name == "/v1/fetch" && e.o.wrk {
			progress("%s: %s: %d rounds of %s per server with wrk", d.label, ep.name, e.o.rounds, e.o.round)
			script, err := writeWrkScript(e.dir, "fetch-"+d.label, ep.targets)
			if err != nil {
				return err
			}
			if err := e.compareWrk(d.label, ep.name, cs, script); err != nil {
				return err
			}
		}
		if ep.name == "/v1/fetch" && e.o.rate > 0 {
			// The latency below saturation: the same load at a fixed
			// rate, the servers warm.
			progress("%s: %s: %d rounds of %s per server at %.0f req/s", d.label, ep.name, e.o.rounds, e.o.round, e.o.rate)
			res, err := e.compare(cs, ep.targets, e.o.rate, 0)
			if err != nil {
				return err
			}
			printComparison(d.label, ep.name, count(int64(e.o.rate))+" req/s", cs, res)
			failed = append(failed, res...)
		}
	}
	fmt.Println()
	for _, c := range failed {
		e.report(&c.total)
	}
	if err := t.Stop(); err != nil {
		return err
	}
	return b.Stop()
}

// checkedTransdbd starts a transdbd on the file of d, named name, once
// the answers of d are checked. The check runs on the same transdbd,
// unless fresh is set or transdbd is profiled: then on one of its own,
// so that the transdbd returned has served nothing yet and its profile
// shows the load only.
func (e *env) checkedTransdbd(d *dataset, name string, fresh bool) (*bench.Server, error) {
	if d.fetchExp == nil && (fresh || e.o.profiles != "") {
		t, err := startTransdbd(e.transdbd, e.dir, name+"-check", d.path, "", e.o.noCache)
		if err != nil {
			return nil, err
		}
		err = d.checkAnswers(t.Addr)
		if serr := t.Stop(); err == nil {
			err = serr
		}
		if err != nil {
			return nil, err
		}
	}
	t, err := startTransdbd(e.transdbd, e.dir, name, d.path, e.o.profiles, e.o.noCache)
	if err != nil {
		return nil, err
	}
	if err := d.checkAnswers(t.Addr); err != nil {
		t.Stop()
		return nil, err
	}
	return t, nil
}

// expectedCheck accepts the answer to target i that exp[i] expects, at
// any generation.
func expectedCheck(exp []httpload.Expected) func(int, httpload.Response) error {
	return func(i int, r httpload.Response) error { return exp[i].Check(r) }
}

// exactCheck accepts a 200 answer to target i with the body bodies[i]
// and the header of generation gen.
func exactCheck(bodies [][]byte, gen uint64) func(int, httpload.Response) error {
	g := []byte(strconv.FormatUint(gen, 10))
	return func(i int, r httpload.Response) error {
		if r.Status != http.StatusOK || !bytes.Equal(r.Generation, g) || !bytes.Equal(r.Body, bodies[i]) {
			return fmt.Errorf("status %d, generation %s, body %.300q; want generation %s, body %.300q", r.Status, r.Generation, r.Body, g, bodies[i])
		}
		return nil
	}
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

// compare runs a warm-up round for each contender (unless warmup is 0),
// then e.o.rounds rounds each, alternating in ABBA order, so that a drift
// of the machine touches both alike; at rate requests per second, or in
// a closed loop when rate is 0.
func (e *env) compare(cs []contender, targets []string, rate float64, warmup time.Duration) ([]comparison, error) {
	res := make([]comparison, len(cs))
	for _, c := range cs {
		if warmup <= 0 {
			break
		}
		if _, err := e.round(c, targets, warmup, rate); err != nil {
			return nil, err
		}
	}
	for r := range e.o.rounds {
		for k := range cs {
			if r%2 == 1 {
				k = len(cs) - 1 - k
			}
			got, server, client, err := e.measuredRound(cs[k], targets, e.o.round, rate)
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

// round runs one round of the load against c, at rate requests per
// second or in a closed loop.
func (e *env) round(c contender, targets []string, d time.Duration, rate float64) (httpload.Result, error) {
	return httpload.Run(context.Background(), httpload.Round{
		Addr:     c.srv.Addr,
		Conns:    e.o.conns,
		Duration: d,
		Rate:     rate,
		Targets:  targets,
		Check:    c.check,
	})
}

// measuredRound is round, and the CPU time the server and this process
// used meanwhile.
func (e *env) measuredRound(c contender, targets []string, d time.Duration, rate float64) (res httpload.Result, server, client time.Duration, err error) {
	s0, err1 := processCPU(c.srv.PID())
	c0, err2 := processCPU(0)
	if res, err = e.round(c, targets, d, rate); err != nil {
		return res, 0, 0, err
	}
	s1, err3 := processCPU(c.srv.PID())
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
