package main

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// printComparisonHead prints the head of the throughput table.
func printComparisonHead() {
	fmt.Println("| records | endpoint | load | server | req/s | req/s of each round | p50 | p99 | server CPU/req | load CPU/req | answers | failed |")
	fmt.Println("|---|---|---|---|--:|---|--:|--:|--:|--:|--:|--:|")
}

// printComparison prints the rows of one endpoint: one per contender,
// then the ratio of the first's rate to the second's.
func printComparison(label, endpoint, load string, cs []contender, res []comparison) {
	for k, c := range cs {
		r := &res[k].total
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n",
			label, endpoint, load, c.name, count(int64(r.Rate())), rates(res[k].rates),
			ms(r.Percentile(0.50)), ms(r.Percentile(0.99)),
			perRequest(res[k].serverCPU, r.Requests), perRequest(res[k].clientCPU, r.Requests),
			count(r.Requests), r.Failures)
	}
	if len(cs) == 2 {
		fmt.Printf("| %s | %s | %s | **%s / %s** | **%.2fx** | | | | | | | |\n",
			label, endpoint, load, cs[0].name, cs[1].name, res[0].total.Rate()/res[1].total.Rate())
	}
}

// rates formats the rates of the rounds, lowest to highest.
func rates(rs []float64) string {
	rs = slices.Sorted(slices.Values(rs))
	s := ""
	for i, r := range rs {
		if i > 0 {
			s += ", "
		}
		s += count(int64(r))
	}
	return s
}

// count formats n with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ms formats a latency in milliseconds with three significant digits at
// most.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// mib formats a size in bytes as MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// kib formats a size in KiB, as smaps gives it, with the sign of a
// difference when signed.
func kib(n int64, signed bool) string {
	if signed && n > 0 {
		return "+" + count(n) + " KiB"
	}
	return count(n) + " KiB"
}

// perRequest formats a CPU time per request in microseconds.
func perRequest(cpu time.Duration, requests int64) string {
	if requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f µs", float64(cpu)/float64(requests)/float64(time.Microsecond))
}
