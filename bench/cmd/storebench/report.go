package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"transdb/bench"
)

// printReport writes the machine, the results table and the check of the
// design's performance targets, in markdown.
func printReport(w io.Writer, results []result, o options, loadStart, loadEnd string) {
	fmt.Fprintf(w, "Machine: %s. %s %s/%s, GOMAXPROCS %d. Load average (1 min) %s at the start, %s at the end.\n",
		machine(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), loadStart, loadEnd)
	fmt.Fprintf(w, "Seed %d; %d hit and %d miss probes; lookups: median of %d rounds (stores alternating), each the median of %d runs of %s; medians of %d opens and of %d commits; memory growth over %d hit lookups.\n\n",
		o.seed, o.probes, o.probes, o.rounds, o.count, o.benchtime, o.reps, o.reps, o.lookups)

	fmt.Fprintln(w, "| store | records | build | file | open warm | open cold | 1st hit cold | hit ns/op | hit allocs | miss ns/op | miss allocs | anon growth | private dirty growth | commit 1 record |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.0f | %d | %.0f | %d | %d KiB | %d KiB | %s |\n",
			r.Store, bench.SizeLabel(r.Records), dur(r.Build), bytes(r.FileBytes),
			dur(r.OpenWarm), dur(r.OpenCold), dur(r.ColdFirstHit),
			r.HitNs, r.HitAllocs, r.MissNs, r.MissAllocs,
			r.AnonKiB, r.DirtyKiB, dur(r.Commit))
	}
	fmt.Fprintln(w, "\nHit lookups, ns/op of each round:")
	fmt.Fprintln(w)
	for _, r := range results {
		fmt.Fprintf(w, "* %s %s: %s\n", r.Store, bench.SizeLabel(r.Records), roundList(r.HitRounds, "%.0f"))
	}
	for _, r := range results {
		if r.ColdResident > 0 {
			fmt.Fprintf(w, "\nNote: %s at %s kept %d pages resident after eviction; its cold figures are partly warm.\n",
				r.Store, bench.SizeLabel(r.Records), r.ColdResident)
		}
	}
	printTargets(w, results)
}

// printTargets checks transdb's figures against the targets of DESIGN
// section 9, where the run measured what a target needs.
func printTargets(w io.Writer, results []result) {
	find := func(store string, records int) *result {
		for i := range results {
			if results[i].Store == store && results[i].Records == records {
				return &results[i]
			}
		}
		return nil
	}
	type check struct {
		target, measured string
		met, known       bool
	}
	var checks []check
	add := func(target string, known bool, measured func() (string, bool)) {
		c := check{target: target, known: known}
		if known {
			c.measured, c.met = measured()
		}
		checks = append(checks, c)
	}

	t1, b1, m1 := find("transdb", 1_000_000), find("bbolt", 1_000_000), find("map", 1_000_000)
	add("hit lookup at 1M at least 4x faster than bbolt", t1 != nil && b1 != nil, func() (string, bool) {
		var ratios []float64
		for i := range min(len(t1.HitRounds), len(b1.HitRounds)) {
			ratios = append(ratios, b1.HitRounds[i]/t1.HitRounds[i])
		}
		return fmt.Sprintf("%.1fx (%.0f ns vs %.0f ns); rounds: %s", b1.HitNs/t1.HitNs, t1.HitNs, b1.HitNs, roundList(ratios, "%.1fx")),
			b1.HitNs >= 4*t1.HitNs
	})
	add("hit lookup at 1M within 2x of the Go map", t1 != nil && m1 != nil, func() (string, bool) {
		return fmt.Sprintf("%.2fx the map's time (%.0f ns vs %.0f ns)", t1.HitNs/m1.HitNs, t1.HitNs, m1.HitNs), t1.HitNs <= 2*m1.HitNs
	})
	var transdb []*result
	for i := range results {
		if results[i].Store == "transdb" {
			transdb = append(transdb, &results[i])
		}
	}
	add("zero allocations per hit and miss lookup, every size", len(transdb) > 0, func() (string, bool) {
		var parts []string
		ok := true
		for _, r := range transdb {
			parts = append(parts, fmt.Sprintf("%s: %d/%d", bench.SizeLabel(r.Records), r.HitAllocs, r.MissAllocs))
			ok = ok && r.HitAllocs == 0 && r.MissAllocs == 0
		}
		return strings.Join(parts, ", "), ok
	})
	add("open at 1M under 50 µs warm", t1 != nil, func() (string, bool) {
		return dur(t1.OpenWarm), t1.OpenWarm < 50*time.Microsecond
	})
	add("open at 1M under 1 ms cold", t1 != nil, func() (string, bool) {
		return dur(t1.OpenCold), t1.OpenCold < time.Millisecond
	})
	add("build of 1M records in at most 1 s", t1 != nil, func() (string, bool) {
		return dur(t1.Build), t1.Build <= time.Second
	})
	t100k := find("transdb", 100_000)
	add("single-record commit on 100k records under 20 ms", t100k != nil, func() (string, bool) {
		return dur(t100k.Commit), t100k.Commit < 20*time.Millisecond
	})
	add("anonymous memory growth after the lookups under 1 MiB, every size", len(transdb) > 0, func() (string, bool) {
		var parts []string
		ok := true
		for _, r := range transdb {
			parts = append(parts, fmt.Sprintf("%s: %d KiB", bench.SizeLabel(r.Records), r.AnonKiB))
			ok = ok && r.AnonKiB < 1024
		}
		return strings.Join(parts, ", "), ok
	})

	fmt.Fprintln(w, "\nTargets of DESIGN section 9 for transdb:")
	fmt.Fprintln(w, "\n| target | measured | result |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, c := range checks {
		verdict := "not measured in this run"
		switch {
		case c.known && c.met:
			verdict = "met"
		case c.known:
			verdict = "NOT met"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", c.target, c.measured, verdict)
	}
}

// machine describes the CPU and memory from /proc.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kib); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kib)/(1<<20))
		}
	}
	return fmt.Sprintf("%s, %d CPUs%s", model, runtime.NumCPU(), mem)
}

// dur formats a duration with three significant digits.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	}
	return sig3(d.Seconds()) + " s"
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// bytes formats a file size.
func bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return sig3(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return sig3(float64(n)/(1<<10)) + " KiB"
	}
	return fmt.Sprintf("%d B", n)
}

// roundList formats the figures of the rounds, comma-separated.
func roundList(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}
