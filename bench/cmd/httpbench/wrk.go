package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// wrk, when asked for (-wrk), repeats the closed-loop comparison of
// /v1/fetch with wrk (the Debian package), a load generator in C that
// spends less CPU per request than this program: a cross-check that the
// ratio does not come from the Go load generator. wrk checks no answer
// beyond its status; its latencies are its own (HdrHistogram).

// wrkScript is the Lua script that makes wrk request the targets in
// order, round and round, each thread from its own start.
const wrkScript = `local paths = {}
for line in io.lines(%q) do paths[#paths + 1] = line end
local threads = 0
function setup(thread)
  thread:set("first", threads)
  threads = threads + 1
end
local i = 0
function init(args)
  i = (first or 0) * math.floor(#paths / 2)
end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
`

// A wrkResult is what wrk reported for one round.
type wrkResult struct {
	rate     float64
	p50, p99 time.Duration
	requests int64
	errors   int64 // non-2xx answers and socket errors
}

// writeWrkScript writes the targets and the script for them into dir
// and returns the script's path.
func writeWrkScript(dir, name string, targets []string) (string, error) {
	paths := filepath.Join(dir, name+".paths")
	if err := os.WriteFile(paths, []byte(strings.Join(targets, "\n")+"\n"), 0o644); err != nil {
		return "", err
	}
	script := filepath.Join(dir, name+".lua")
	return script, os.WriteFile(script, []byte(fmt.Sprintf(wrkScript, paths)), 0o644)
}

// runWrk runs one round of wrk against the server at addr: 2 threads,
// e.o.conns connections, for d.
func (e *env) runWrk(addr, script string, d time.Duration) (wrkResult, error) {
	secs := strconv.Itoa(int(d.Round(time.Second) / time.Second))
	out, err := exec.Command("wrk", "-t2", "-c"+strconv.Itoa(e.o.conns), "-d"+secs+"s", "--latency", "-s", script, "http://"+addr).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads the figures of wrk's report.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var err error
	found := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rate, err = strconv.ParseFloat(f[1], 64)
			found++
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			var d time.Duration
			if d, err = time.ParseDuration(strings.Replace(f[1], "us", "µs", 1)); err == nil {
				if f[0] == "50%" {
					r.p50 = d
				} else {
					r.p99 = d
				}
				found++
			}
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			r.requests, err = strconv.ParseInt(f[0], 10, 64)
		case len(f) == 5 && f[0] == "Non-2xx":
			var n int64
			n, err = strconv.ParseInt(f[4], 10, 64)
			r.errors += n
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			// "Socket errors: connect 0, read 0, write 0, timeout 0"
			for i := 3; i < len(f); i += 2 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i], ","), 10, 64)
				r.errors += n
			}
		}
		if err != nil {
			return r, fmt.Errorf("wrk output %q: %w", sc.Text(), err)
		}
	}
	if found != 3 {
		return r, fmt.Errorf("wrk output without rate and percentiles:\n%s", out)
	}
	return r, nil
}

// compareWrk runs a warm-up round of wrk for each server, then e.o.rounds
// rounds each in ABBA order, and prints their rows: the rate over all
// rounds, and the medians of the rounds' p50 and p99.
func (e *env) compareWrk(label, endpoint string, cs []contender, script string) error {
	for _, c := range cs {
		if _, err := e.runWrk(c.srv.Addr, script, max(e.o.warmup, time.Second)); err != nil {
			return err
		}
	}
	type total struct {
		requests int64
		elapsed  time.Duration
		errors   int64
		rates    []float64
		p50, p99 []time.Duration
	}
	res := make([]total, len(cs))
	for r := range e.o.rounds {
		for k := range cs {
			if r%2 == 1 {
				k = len(cs) - 1 - k
			}
			got, err := e.runWrk(cs[k].srv.Addr, script, e.o.round)
			if err != nil {
				return err
			}
			t := &res[k]
			t.requests += got.requests
			t.elapsed += time.Duration(float64(got.requests) / got.rate * float64(time.Second))
			t.errors += got.errors
			t.rates = append(t.rates, got.rate)
			t.p50, t.p99 = append(t.p50, got.p50), append(t.p99, got.p99)
		}
	}
	rate := func(t total) float64 { return float64(t.requests) / t.elapsed.Seconds() }
	for k, c := range cs {
		t := res[k]
		fmt.Printf("| %s | %s | closed loop, wrk | %s | %s | %s | %s | %s | - | - | %s | %d |\n",
			label, endpoint, c.name, count(int64(rate(t))), rates(t.rates),
			ms(median(t.p50)), ms(median(t.p99)), count(t.requests), t.errors)
		if t.errors != 0 {
			e.ok = false
		}
	}
	fmt.Printf("| %s | %s | closed loop, wrk | **%s / %s** | **%.2fx** | | | | | | | |\n",
		label, endpoint, cs[0].name, cs[1].name, rate(res[0])/rate(res[1]))
	return nil
}

// median returns the median of ds.
func median(ds []time.Duration) time.Duration {
	return slices.Sorted(slices.Values(ds))[len(ds)/2]
}
