package main

import (
	"context"
	"fmt"
	"time"

	"transdb/bench"
	"transdb/internal/httpload"
)

// memory measures the private memory of a transdbd serving the
// -memory-size table before and after -memory-lookups HTTP lookups, and
// the memory of -procs transdbd processes serving the same file.
func (e *env) memory() error {
	d, err := e.dataset(e.o.memorySize)
	if err != nil {
		return err
	}
	t, err := e.checkedTransdbd(d, "transdbd-memory-"+d.label, true)
	if err != nil {
		return err
	}
	defer t.Stop()
	check := func(i int, r httpload.Response) error { return d.fetchExp[i].Check(r) }
	e.waitQuiet("memory " + d.label)

	progress("memory %s: %d lookups of warm-up", d.label, e.o.memoryWarmup)
	warm, err := e.lookups(t, d.fetch, check, e.o.memoryWarmup)
	if err != nil {
		return err
	}
	before, mapBefore, err := readMemory(t.PID(), d.path)
	if err != nil {
		return err
	}
	progress("memory %s: %d lookups", d.label, e.o.memoryLookups)
	run, err := e.lookups(t, d.fetch, check, e.o.memoryLookups)
	if err != nil {
		return err
	}
	after, mapAfter, err := readMemory(t.PID(), d.path)
	if err != nil {
		return err
	}
	fmt.Printf("### Memory of one transdbd, %s records (file %s)\n\n", d.label, mib(d.size))
	fmt.Printf("/proc/PID/smaps_rollup of the transdbd process, after a warm-up of %s HTTP lookups and after %s more (/v1/fetch, %d connections, %s req/s); \"mapping\" sums the entries of the database file in /proc/PID/smaps (the whole file, and its header page mapped once more).\n\n",
		count(e.o.memoryWarmup), count(e.o.memoryLookups), e.o.conns, count(int64(run.Rate())))
	fmt.Println("| reading | Rss | Pss | Anonymous | Private_Dirty | mapping Rss | mapping Pss |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|")
	row := func(name string, m, mm memory, signed bool) {
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", name, kib(m.Rss, signed), kib(m.Pss, signed),
			kib(m.Anonymous, signed), kib(m.PrivateDirty, signed), kib(mm.Rss, signed), kib(mm.Pss, signed))
	}
	row("after the warm-up", before, mapBefore, false)
	row("after "+count(e.o.memoryLookups)+" more lookups", after, mapAfter, false)
	row("**growth**", after.minus(before), mapAfter.minus(mapBefore), true)
	fmt.Println()
	e.report(&warm)
	e.report(&run)
	if err := t.Stop(); err != nil {
		return err
	}
	return e.shared(d, check)
}

// shared starts e.o.procs transdbd processes on the file of d, makes
// e.o.procLookups lookups through each, and prints the memory of each
// and of its mapping of the file.
func (e *env) shared(d *dataset, check func(int, httpload.Response) error) error {
	var procs []*bench.Server
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	for i := range e.o.procs {
		p, err := startTransdbd(e.transdbd, e.dir, fmt.Sprintf("transdbd-shared-%d", i+1), d.path, "", e.o.noCache)
		if err != nil {
			return err
		}
		procs = append(procs, p)
	}
	progress("memory %s: %d lookups through each of %d processes", d.label, e.o.procLookups, len(procs))
	for _, p := range procs {
		res, err := e.lookups(p, d.fetch, check, e.o.procLookups)
		if err != nil {
			return err
		}
		e.report(&res)
	}
	fmt.Printf("### %d transdbd processes serving one file, %s records (file %s)\n\n", len(procs), d.label, mib(d.size))
	fmt.Printf("Each process served the same %s lookups (/v1/fetch); then /proc/PID/smaps_rollup (the process) and the entries of the database file in /proc/PID/smaps (mapping: the whole file and its header page) of each.\n\n", count(e.o.procLookups))
	fmt.Println("| process | Rss | Pss | Anonymous | mapping Rss | mapping Pss | mapping Shared_Clean | mapping Private_Clean |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|--:|")
	var sum, mapSum memory
	for i, p := range procs {
		m, mm, err := readMemory(p.PID(), d.path)
		if err != nil {
			return err
		}
		sum, mapSum = sum.plus(m), mapSum.plus(mm)
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %s | %s |\n", i+1, kib(m.Rss, false), kib(m.Pss, false), kib(m.Anonymous, false),
			kib(mm.Rss, false), kib(mm.Pss, false), kib(mm.SharedClean, false), kib(mm.PrivateClean, false))
	}
	fmt.Printf("| **all %d** | %s | %s | %s | %s | %s | %s | %s |\n\n", len(procs), kib(sum.Rss, false), kib(sum.Pss, false), kib(sum.Anonymous, false),
		kib(mapSum.Rss, false), kib(mapSum.Pss, false), kib(mapSum.SharedClean, false), kib(mapSum.PrivateClean, false))
	fmt.Printf("The %d mappings hold %s of resident file pages between them, but account for %s of proportional memory: each page is in memory once, in the page cache, and shared.\n\n",
		len(procs), kib(mapSum.Rss, false), kib(mapSum.Pss, false))
	for _, p := range procs {
		if err := p.Stop(); err != nil {
			return err
		}
	}
	procs = nil
	return nil
}

// lookups makes n lookups of the targets through s, with e.o.conns
// connections.
func (e *env) lookups(s *bench.Server, targets []string, check func(int, httpload.Response) error, n int64) (httpload.Result, error) {
	return httpload.Run(context.Background(), httpload.Round{
		Addr: s.Addr, Conns: e.o.conns, Requests: n, Targets: targets, Check: check,
	})
}

// readMemory reads the memory of process pid and of its mapping of the
// file path. It waits a moment first, so that the connections' last
// answers are written.
func readMemory(pid int, path string) (all, mapping memory, err error) {
	time.Sleep(100 * time.Millisecond)
	if all, err = readRollup(pid); err != nil {
		return all, mapping, err
	}
	mapping, err = readMapping(pid, path)
	return all, mapping, err
}

func (m memory) minus(o memory) memory {
	return memory{m.Rss - o.Rss, m.Pss - o.Pss, m.Anonymous - o.Anonymous, m.PrivateDirty - o.PrivateDirty,
		m.SharedClean - o.SharedClean, m.PrivateClean - o.PrivateClean}
}

func (m memory) plus(o memory) memory {
	return memory{m.Rss + o.Rss, m.Pss + o.Pss, m.Anonymous + o.Anonymous, m.PrivateDirty + o.PrivateDirty,
		m.SharedClean + o.SharedClean, m.PrivateClean + o.PrivateClean}
}
