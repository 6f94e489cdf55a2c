package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"transdb/bench"
	"transdb/internal/httpload"
	"transdb/translation"
	"transdb/translation/transgen"
)

// baseKey is the base key the databases are built under: that of the
// default configuration.
var baseKey = []string{"trans", "db"}

// A dataset is a generated table, its database file, and the request
// targets of the load: the same random existing (key, uri) pairs for
// fetch and resolve.
type dataset struct {
	n     int
	label string // 100k, 1M
	path  string // the database file
	rows  []transgen.Row
	table httpload.Table
	build time.Duration // time to build the file
	size  int64         // of the file

	pairs   [][2]string // the probes: existing (key, uri) pairs, random
	fetch   []string    // FetchTarget of each pair
	resolve []string    // ResolveTarget of each pair, a file below its uri
	// resolveURI are the uris of resolve.
	resolveURI []string

	// The answers of transdbd to fetch and resolve, checked against the
	// table, with the generation cut out (they hold at any generation:
	// commits change the switch marker only); and the answers of median
	// size. Set by checkAnswers.
	fetchExp, resolveExp   []httpload.Expected
	fetchBody, resolveBody []byte
	fetchMean, resolveMean int    // the mean size of the answers
	checkedGen             uint64 // the generation they were checked at
}

// newDataset generates n rows with the seed, builds the database file in
// dir through package translation (one transaction, then a second commit
// that adds the switch marker), and draws the probes.
func newDataset(dir string, n int, seed int64, probes int) (*dataset, error) {
	d := &dataset{n: n, label: bench.SizeLabel(n)}
	d.path = filepath.Join(dir, "trans-"+d.label+".mmdb")
	d.rows = transgen.Generate(n, seed)
	d.table = httpload.NewTable(d.rows)

	p, err := translation.New(translation.Options{FileName: d.path, BaseKey: baseKey})
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	start := time.Now()
	if err := httpload.InsertRows(p, d.rows); err != nil {
		return nil, err
	}
	d.build = time.Since(start)
	sw, err := httpload.NewSwitcher(p)
	if err != nil {
		return nil, err
	}
	if _, err := sw.Commit(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(d.path)
	if err != nil {
		return nil, err
	}
	d.size = fi.Size()

	d.pairs, _ = transgen.Probes(d.rows, probes, seed)
	for _, pr := range d.pairs {
		d.fetch = append(d.fetch, httpload.FetchTarget(pr[0], pr[1]))
		// A request of a file below the uri: the walk tries the file
		// (absent), the uri and each of its prefixes up to "/".
		uri := pr[1]
		switch uri {
		case translation.PreURI, "/":
			uri = "/index.html"
		default:
			uri += "/index.html"
		}
		d.resolveURI = append(d.resolveURI, uri)
		d.resolve = append(d.resolve, httpload.ResolveTarget(pr[0], uri))
	}
	return d, nil
}

// expectations fetches every target once from the server at addr, checks
// each answer with check (given the generation of its header), and
// returns the Expected of each, the answer of median size (the body of
// the bare handler), the mean size and the generation of the answers.
func (d *dataset) expectations(addr string, targets []string, check func(i int, body []byte, gen uint64) error) (exp []httpload.Expected, median []byte, mean int, gen uint64, err error) {
	c, err := httpload.Dial(addr)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	defer c.Close()
	exp = make([]httpload.Expected, len(targets))
	bodies := make([][]byte, 0, len(targets))
	total := 0
	for i, t := range targets {
		r, err := c.Get(t)
		if err != nil {
			return nil, nil, 0, 0, err
		}
		if r.Status != 200 {
			return nil, nil, 0, 0, fmt.Errorf("GET %s: status %d: %s", t, r.Status, r.Body)
		}
		if gen, err = strconv.ParseUint(string(r.Generation), 10, 64); err != nil {
			return nil, nil, 0, 0, fmt.Errorf("GET %s: X-Transdb-Generation %q", t, r.Generation)
		}
		if err := check(i, r.Body, gen); err != nil {
			return nil, nil, 0, 0, fmt.Errorf("GET %s: %w", t, err)
		}
		if exp[i], err = httpload.CutGeneration(r.Body); err != nil {
			return nil, nil, 0, 0, err
		}
		bodies = append(bodies, slices.Clone(r.Body))
		total += len(r.Body)
	}
	slices.SortFunc(bodies, func(a, b []byte) int { return len(a) - len(b) })
	return exp, bodies[len(bodies)/2], total / len(bodies), gen, nil
}

// checkAnswers fetches and resolves every target once from the
// transdbd at addr, checks the answers against the table and keeps their
// Expected. It does so once per dataset.
func (d *dataset) checkAnswers(addr string) error {
	if d.fetchExp != nil {
		return nil
	}
	progress("%s: checking every answer of transdbd against the generated table", d.label)
	var err error
	d.fetchExp, d.fetchBody, d.fetchMean, d.checkedGen, err = d.expectations(addr, d.fetch, func(i int, body []byte, gen uint64) error {
		return d.table.CheckFetch(body, d.pairs[i][0], d.pairs[i][1], gen)
	})
	if err != nil {
		return err
	}
	d.resolveExp, d.resolveBody, d.resolveMean, _, err = d.expectations(addr, d.resolve, func(i int, body []byte, gen uint64) error {
		return d.table.CheckResolve(body, d.pairs[i][0], d.resolveURI[i], gen)
	})
	return err
}
