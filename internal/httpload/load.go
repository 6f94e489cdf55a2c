package httpload

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A Round is one measurement: Conns connections to Addr, each sending
// GET requests for Targets one after the other, until Duration has
// passed or Requests requests have been sent, whichever comes first.
// Without Rate, a connection sends its next request as soon as it has
// read the answer to the last (a closed loop: the server's pace sets
// the rate). With Rate, the requests are due on a fixed schedule, and a
// request's latency counts from the moment it was due, so that a server
// that falls behind shows the wait of the requests queued behind a slow
// one (no coordinated omission).
type Round struct {
	Addr  string // host:port
	Conns int    // number of keep-alive connections, at least 1
	// Duration bounds the round in time; 0 means no bound.
	Duration time.Duration
	// Requests bounds the round in requests, all connections together;
	// 0 means no bound. At least one of Duration and Requests is set.
	Requests int64
	// Rate is the requests per second of all connections together, each
	// connection sending Rate/Conns per second on its own schedule; 0
	// means a closed loop.
	Rate float64
	// Targets are the request targets ("/v1/fetch?key=..."). Connection
	// c starts at Targets[c*len(Targets)/Conns] and walks the list in
	// order, round and round, so that the connections spread over it.
	Targets []string
	// Check checks the response to Targets[i] (its status included);
	// nil accepts any 2xx response. It is called from the connections'
	// goroutines at once, and must not keep the response.
	Check func(i int, r Response) error
}

// A Result is what a round measured.
type Result struct {
	Requests int64         // responses read, failures included
	Failures int64         // transport errors, responses Check refused
	Errors   []error       // the first few failures, for the report
	Elapsed  time.Duration // from the start of the round to its last response
	// Latencies are the times from sending each request to reading its
	// whole response, sorted; failures included.
	Latencies []time.Duration
	// Generations counts, per X-Transdb-Generation value seen, the
	// connections that saw it; responses without the header count
	// nowhere.
	Generations map[uint64]int
}

// maxErrors is how many failures a Result keeps.
const maxErrors = 10

// Rate returns the requests per second of the round.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the latency below which the fraction p (0..1) of the
// requests completed: the nearest-rank percentile of the samples.
func (r *Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(p*float64(n)+0.999999) - 1
	return r.Latencies[min(max(i, 0), n-1)]
}

// Merge adds the requests, failures and latencies of o to r, as if they
// had been one round: the elapsed times add up.
func (r *Result) Merge(o *Result) {
	r.Requests += o.Requests
	r.Failures += o.Failures
	for _, err := range o.Errors {
		if len(r.Errors) < maxErrors {
			r.Errors = append(r.Errors, err)
		}
	}
	r.Elapsed += o.Elapsed
	r.Latencies = mergeSorted(r.Latencies, o.Latencies)
	if r.Generations == nil {
		r.Generations = map[uint64]int{}
	}
	for g, n := range o.Generations {
		r.Generations[g] += n
	}
}

func mergeSorted(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] <= b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// connResult is what one connection of a round measured.
type connResult struct {
	requests, failures int64
	errors             []error
	latencies          []time.Duration
	generations        map[uint64]struct{}
}

// Run runs the round and returns what it measured. The connections are
// opened before the round starts, and a connection that fails is opened
// again for its next request; the failure counts in Result.Failures. On
// every connection, X-Transdb-Generation must never decrease from one
// response to the next (a server that switched to a new version does not
// go back): a response whose generation does so is a failure. Run fails
// only when it cannot open the connections, or ctx ends first.
func Run(ctx context.Context, r Round) (Result, error) {
	if r.Conns < 1 || len(r.Targets) == 0 || (r.Duration <= 0 && r.Requests <= 0) {
		return Result{}, fmt.Errorf("httpload: round of %d connections, %d targets, duration %v, %d requests",
			r.Conns, len(r.Targets), r.Duration, r.Requests)
	}
	conns := make([]*Conn, r.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := Dial(r.Addr)
		if err != nil {
			return Result{}, err
		}
		conns[i] = c
	}

	var tickets atomic.Int64 // requests started, when r.Requests bounds the round
	start := time.Now()
	var deadline time.Time
	if r.Duration > 0 {
		deadline = start.Add(r.Duration)
	}
	results := make([]connResult, len(conns))
	var interval time.Duration // between the requests of one connection, with Rate
	if r.Rate > 0 {
		interval = time.Duration(float64(len(conns)) / r.Rate * float64(time.Second))
	}
	var wg sync.WaitGroup
	for ci, c := range conns {
		wg.Go(func() {
			res := &results[ci]
			res.generations = map[uint64]struct{}{}
			res.latencies = make([]time.Duration, 0, 1<<14)
			var last uint64
			i := ci * len(r.Targets) / len(conns)
			// With Rate, the connections' schedules are spread over
			// one interval.
			due := start.Add(interval * time.Duration(ci) / time.Duration(len(conns)))
			for now := time.Now(); ; {
				if interval > 0 {
					if wait := due.Sub(now); wait > 0 {
						time.Sleep(wait)
						now = time.Now()
					}
				}
				if (!deadline.IsZero() && !now.Before(deadline)) || ctx.Err() != nil {
					return
				}
				if r.Requests > 0 && tickets.Add(1) > r.Requests {
					return
				}
				sent := now
				if interval > 0 {
					sent = due
					due = due.Add(interval)
				}
				resp, err := c.Get(r.Targets[i])
				end := time.Now()
				res.latencies = append(res.latencies, end.Sub(sent))
				res.requests++
				if err == nil && resp.Generation != nil {
					g, ok := parseUint(resp.Generation)
					switch {
					case !ok:
						err = fmt.Errorf("X-Transdb-Generation %q", resp.Generation)
					case g < last:
						err = fmt.Errorf("generation %d after %d on one connection", g, last)
					case g != last || len(res.generations) == 0:
						res.generations[g] = struct{}{}
						last = g
					}
				}
				if err == nil {
					if r.Check != nil {
						err = r.Check(i, resp)
					} else if resp.Status/100 != 2 {
						err = fmt.Errorf("status %d", resp.Status)
					}
				}
				if err != nil {
					res.failures++
					if len(res.errors) < maxErrors {
						res.errors = append(res.errors, fmt.Errorf("GET %s: %w", r.Targets[i], err))
					}
				}
				if i++; i == len(r.Targets) {
					i = 0
				}
				now = end
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}

	total := Result{Elapsed: elapsed, Generations: map[uint64]int{}}
	for i := range results {
		res := &results[i]
		total.Requests += res.requests
		total.Failures += res.failures
		for _, err := range res.errors {
			if len(total.Errors) < maxErrors {
				total.Errors = append(total.Errors, err)
			}
		}
		total.Latencies = append(total.Latencies, res.latencies...)
		for g := range res.generations {
			total.Generations[g]++
		}
	}
	slices.Sort(total.Latencies)
	return total, nil
}

// GenerationRange returns the lowest and highest generation the result
// saw, and how many distinct ones; all 0 when it saw none.
func (r *Result) GenerationRange() (lo, hi uint64, n int) {
	gens := slices.Sorted(maps.Keys(r.Generations))
	if len(gens) == 0 {
		return 0, 0, 0
	}
	return gens[0], gens[len(gens)-1], len(gens)
}

// parseUint parses a decimal uint64 without allocating.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
