package main

import (
	"encoding/json"
	"os"
	"slices"
	"time"

	"transdb/internal/httpload"
	"transdb/translation"
)

// commitReport is what the committer child reports on stdout, as JSON.
type commitReport struct {
	Commits         int           // commits made
	FirstGeneration uint64        // generation of the first commit
	LastGeneration  uint64        // generation of the last commit
	Elapsed         time.Duration // from the first commit's start to the last one's end
	Median, P99     time.Duration // of the commit times
	Max             time.Duration
	Late            int // commits that started after their slot, the one before having taken too long
}

// runCommitter commits a one-record change (httpload.Switcher) to the
// database file db every interval, for duration, and prints a
// commitReport. It is a process of its own, as a writer beside a
// serving transdbd is.
func runCommitter(db, interval, duration string) error {
	every, err := time.ParseDuration(interval)
	if err != nil {
		return err
	}
	total, err := time.ParseDuration(duration)
	if err != nil {
		return err
	}
	p, err := translation.New(translation.Options{FileName: db, BaseKey: baseKey})
	if err != nil {
		return err
	}
	defer p.Stop()
	sw, err := httpload.NewSwitcher(p)
	if err != nil {
		return err
	}
	var rep commitReport
	var times []time.Duration
	start := time.Now()
	for i := 0; ; i++ {
		slot := start.Add(time.Duration(i) * every)
		if slot.Sub(start) >= total {
			break
		}
		if d := time.Until(slot); d > 0 {
			time.Sleep(d)
		} else if i > 0 && d < -every/10 {
			rep.Late++
		}
		t0 := time.Now()
		gen, err := sw.Commit()
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		if rep.Commits == 0 {
			rep.FirstGeneration = gen
		}
		rep.Commits++
		rep.LastGeneration = gen
	}
	rep.Elapsed = time.Since(start)
	slices.Sort(times)
	if n := len(times); n > 0 {
		rep.Median, rep.P99, rep.Max = times[n/2], times[min(n-1, n*99/100)], times[n-1]
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}
