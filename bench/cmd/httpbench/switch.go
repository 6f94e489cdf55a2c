package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"

	"transdb/internal/httpload"
)

// markerEvery is how often the switch load requests the marker: every
// markerEvery-th target is a fetch or (alternately) a resolve of it.
const markerEvery = 16

// A switchPhase is one phase of the switch part: rounds with or without
// commits.
type switchPhase struct {
	name    string
	commits bool
	res     comparison
	commit  *commitReport
}

// switching runs the fetch load, with the marker, on the -switch-size
// table: rounds without commits, rounds while the committer process
// commits every -switch-every, rounds without commits again. Every answer
// is checked; the marker's show that each comes from one version.
func (e *env) switching() error {
	d, err := e.dataset(e.o.switchSize)
	if err != nil {
		return err
	}
	t, err := e.checkedTransdbd(d, "transdbd-switch-"+d.label, false)
	if err != nil {
		return err
	}
	defer t.Stop()
	targets, check := httpload.WithMarker(d.fetch, d.fetchExp, markerEvery)
	stats0, err := daemonStats(t.Addr)
	if err != nil {
		return err
	}

	e.waitQuiet("switch " + d.label)
	switchRounds := int((e.o.switchFor + e.o.round - 1) / e.o.round)
	phases := []*switchPhase{
		{name: "before: no commits"},
		{name: fmt.Sprintf("a commit every %s", e.o.switchEvery), commits: true},
		{name: "after: no commits"},
	}
	for _, ph := range phases {
		rounds := e.o.rounds
		var committer *commitProcess
		if ph.commits {
			rounds = switchRounds
			// The committer runs a little longer than the rounds, so
			// that it commits throughout every one of them.
			total := time.Duration(rounds)*e.o.round + time.Second
			progress("switch %s: %d rounds of %s while a process commits every %s", d.label, rounds, e.o.round, e.o.switchEvery)
			if committer, err = startCommitter(e.self, d.path, e.o.switchEvery, total); err != nil {
				return err
			}
		} else {
			progress("switch %s: %d rounds of %s without commits", d.label, rounds, e.o.round)
		}
		c := contender{name: "transdbd", srv: t, check: check}
		for range rounds {
			got, server, client, err := e.measuredRound(c, targets, e.o.round, 0)
			if err != nil {
				return err
			}
			ph.res.total.Merge(&got)
			ph.res.rates = append(ph.res.rates, got.Rate())
			ph.res.serverCPU += server
			ph.res.clientCPU += client
		}
		if committer != nil {
			if ph.commit, err = committer.wait(); err != nil {
				return err
			}
		}
	}
	stats1, err := daemonStats(t.Addr)
	if err != nil {
		return err
	}

	fmt.Printf("### Version switches under load, %s records\n\n", d.label)
	fmt.Printf("The fetch load of the throughput table (%d connections), with a fetch or a resolve of the switch marker as every %dth request; every answer checked.\n\n", e.o.conns, markerEvery)
	fmt.Println("| phase | rounds | req/s | req/s of each round | p50 | p99 | server CPU/req | answers | failed | generations seen |")
	fmt.Println("|---|--:|--:|---|--:|--:|--:|--:|--:|---|")
	for _, ph := range phases {
		r := &ph.res.total
		lo, hi, n := r.GenerationRange()
		fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %s | %d | %d (%d..%d) |\n",
			ph.name, len(ph.res.rates), count(int64(r.Rate())), rates(ph.res.rates),
			ms(r.Percentile(0.50)), ms(r.Percentile(0.99)), perRequest(ph.res.serverCPU, r.Requests),
			count(r.Requests), r.Failures, n, lo, hi)
	}
	fmt.Println()
	cr := phases[1].commit
	fmt.Printf("Committer: %d commits in %s (generations %d..%d), %d of them late (the one before took longer than the interval); commit time median %s, p99 %s, max %s.\n",
		cr.Commits, cr.Elapsed.Round(time.Millisecond), cr.FirstGeneration, cr.LastGeneration, cr.Late,
		ms(cr.Median), ms(cr.P99), ms(cr.Max))
	fmt.Printf("transdbd switched versions %d times (reloads in /v1/stats) and served generation %d at the end.\n\n",
		stats1.Reloads-stats0.Reloads, stats1.Generation)
	for _, ph := range phases {
		e.report(&ph.res.total)
	}
	if stats1.Generation != cr.LastGeneration {
		e.ok = false
		fmt.Printf("transdbd serves generation %d, the last commit made %d.\n\n", stats1.Generation, cr.LastGeneration)
	}
	if _, hi, _ := phases[1].res.total.GenerationRange(); hi < cr.FirstGeneration {
		e.ok = false
		fmt.Printf("The load never saw a committed generation.\n\n")
	}
	return t.Stop()
}

// A commitProcess is the running committer child.
type commitProcess struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
}

// startCommitter starts this program as the committer of db.
func startCommitter(self, db string, every, total time.Duration) (*commitProcess, error) {
	c := &commitProcess{}
	cmd := childCommand(self, "commit", db, every.String(), total.String())
	cmd.Stdout = &c.stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c.cmd = cmd
	return c, nil
}

// wait waits for the committer to finish and returns its report.
func (c *commitProcess) wait() (*commitReport, error) {
	if err := c.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("committer: %w", err)
	}
	var rep commitReport
	if err := json.Unmarshal(c.stdout.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("committer output %q: %w", c.stdout.String(), err)
	}
	return &rep, nil
}

// stats are the figures of /v1/stats this program uses.
type stats struct {
	Generation uint64 `json:"generation"`
	Reloads    uint64 `json:"reloads"`
	Reads      uint64 `json:"reads"`
}

// daemonStats gets /v1/stats from the transdbd at addr.
func daemonStats(addr string) (stats, error) {
	c, err := httpload.Dial(addr)
	if err != nil {
		return stats{}, err
	}
	defer c.Close()
	r, err := c.Get("/v1/stats")
	if err != nil {
		return stats{}, err
	}
	var st stats
	if r.Status != 200 {
		return st, fmt.Errorf("/v1/stats: status %d: %s", r.Status, r.Body)
	}
	err = json.Unmarshal(r.Body, &st)
	return st, err
}
