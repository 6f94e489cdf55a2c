package main

import (
	"fmt"
	"strings"

	"transdb/httpprovider"
)

// The commands that print what the HTTP API answers: the same JSON, from
// the same encoder, for one database file.

func runFetch(e *env, args []string) int {
	c := newCLI(e, "fetch", "-db FILE|-config FILE [-basekey ...] [-notes] KEY URI", `
Prints the block list of KEY and URI as GET /v1/fetch answers it: a JSON
object with key, uri, generation and blocks, each block with its block,
order, action and id and, with -notes, its note. Nothing found is an empty
list and exit status 0; a base key under which FILE has no table is an
error. KEY and URI must be non-empty and free of white space.`)
	f := c.tableFlags()
	notes := c.fs.Bool("notes", false, "include the notes")
	pos, code, ok := c.parse(args, 2, 2)
	if !ok {
		return code
	}
	if err := checkKeyURI(pos[0], pos[1]); err != nil {
		return c.usageError(err)
	}
	p, _, err := f.openTable(false)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	s, err := p.Snapshot()
	if err != nil {
		return c.fail(err)
	}
	defer s.Release()
	blocks, err := s.Fetch(pos[0], pos[1], *notes)
	if err != nil {
		return c.fail(err)
	}
	if err := httpprovider.WriteFetch(e.stdout, pos[0], pos[1], s.Generation(), blocks); err != nil {
		return c.fail(err)
	}
	return exitOK
}

func runResolve(e *env, args []string) int {
	c := newCLI(e, "resolve", "-db FILE|-config FILE [-basekey ...] KEY URI", `
Prints what a request of URI under KEY resolves to, as GET /v1/resolve
answers it: a JSON object with key, uri, generation, the :PRE: blocks (pre)
and, longest first, every prefix of URI that has blocks (matches, each
with its uri, path_info and blocks). URI must start with / or be *.`)
	f := c.tableFlags()
	pos, code, ok := c.parse(args, 2, 2)
	if !ok {
		return code
	}
	if err := checkKeyURI(pos[0], pos[1]); err != nil {
		return c.usageError(err)
	}
	if uri := pos[1]; uri != "*" && !strings.HasPrefix(uri, "/") {
		return c.usageError(fmt.Errorf("uri %q must start with / or be *", uri))
	}
	p, _, err := f.openTable(false)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	res, err := p.Resolve(pos[0], pos[1])
	if err != nil {
		return c.fail(err)
	}
	if err := httpprovider.WriteResolution(e.stdout, res); err != nil {
		return c.fail(err)
	}
	return exitOK
}

func runStats(e *env, args []string) int {
	c := newCLI(e, "stats", "-db FILE|-config FILE [-basekey ...]", `
Prints the numbers of the table as GET /v1/stats answers them: generation,
records (the actions of the table), stored_records (the records of the
file, every base key's actions and notes), file_bytes, and the counters reads,
writes, creates, deletes and reloads, which count what this command did
(nothing) as the daemon's count what it served since it started.`)
	f := c.tableFlags()
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	p, _, err := f.openTable(false)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	st, err := p.Stats()
	if err != nil {
		return c.fail(err)
	}
	if err := httpprovider.WriteStats(e.stdout, st); err != nil {
		return c.fail(err)
	}
	return exitOK
}
