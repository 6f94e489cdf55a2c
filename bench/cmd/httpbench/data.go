package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"transdb/bench"
	"transdb/engine"
	"transdb/internal/httpload"
	"transdb/translation"
	"transdb/translation/transgen"
)

// baseKey is the base key the databases are built under: that of the
// default configuration.
var baseKey = []string{"trans", "db"}

// The engine settings of every transdbd (TranslationKey, DocumentRoot)
// and of the engine that computes the expected /v1/translate answers in
// this process: those under which the example table gives what DESIGN
// section 10 says.
const (
	translationKey = "front"
	documentRoot   = "/var/www"
)

// exampleTableFile is the example table of DESIGN section 10 in the
// parent module, in the text dump format; every database holds it
// beside the generated rows.
const exampleTableFile = "testdata/example.txt"

// A dataset is a generated table, its database file, and the request
// targets of the load: the same random existing (key, uri) pairs for
// fetch, resolve and translate.
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
	// translate are the /v1/translate targets: the uri of resolve on
	// the host www.KEY for each pair, and every exampleEvery-th the
	// exampleRequest; translateReq are their requests.
	translate    []string
	translateReq []engine.Request
	// auth are the /v1/auth targets of the requests of translate, with
	// the header lines of the original request; authReq are the
	// requests transdbd reads from them.
	auth    []string
	authReq []engine.Request

	// The answers of transdbd to fetch and resolve, checked against the
	// table, with the generation cut out (they hold at any generation:
	// commits change the switch marker only); and the answers of median
	// size. Set by checkAnswers.
	fetchExp, resolveExp   []httpload.Expected
	fetchBody, resolveBody []byte
	fetchMean, resolveMean int    // the mean size of the answers
	checkedGen             uint64 // the generation they were checked at
	// The answers to translate, whole, of generation checkedGen: the
	// decisions of the engine in this process, which transdbd's matched
	// byte for byte; the one of median size, the mean size, and what the
	// decisions were. Set by checkAnswers.
	translateExp  [][]byte
	translateBody []byte
	translateMean int
	decisions     decisionCounts
	// The answers to auth, but for the generation header, which is
	// checkedGen: the decisions of the engine in this process; the
	// header lines of the 200 answer whose are of median size, and their
	// mean size; what the decisions were. Set by checkAnswers.
	authExp       []authAnswer
	authHeaders   []byte
	authMean      int
	authDecisions decisionCounts
}

// newDataset generates n rows with the seed, builds the database file in
// dir through package translation (one transaction; a second one that
// adds the example table; a third commit that adds the switch marker),
// and draws the probes.
func newDataset(dir string, n int, seed int64, probes int, example []translation.Record) (*dataset, error) {
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
	if _, err := p.Update(func(tx *translation.Txn) error {
		for _, rec := range example {
			if _, err := tx.Insert(rec); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
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
		if len(d.translate)%exampleEvery == exampleEvery-1 {
			d.addTranslate(exampleRequest)
		}
		// On the host www.KEY, so that the generated Conds on the
		// host name hold.
		d.addTranslate(engine.Request{URI: uri, Host: "www." + pr[0], Key: pr[0]})
	}
	return d, nil
}

// readExampleTable reads the example table from the module in the
// directory mod.
func readExampleTable(mod string) ([]translation.Record, error) {
	name := filepath.Join(mod, exampleTableFile)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := translation.NewReader(f, translation.FormatText)
	if err != nil {
		return nil, err
	}
	var recs []translation.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		recs = append(recs, rec)
	}
}

// expectations fetches every target once from the server at addr,
// checks each answer with check (given the generation of its header),
// and returns the answers and the generation of the last.
func (d *dataset) expectations(addr string, targets []string, check func(i int, body []byte, gen uint64) error) (bodies [][]byte, gen uint64, err error) {
	c, err := httpload.Dial(addr)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	bodies = make([][]byte, len(targets))
	for i, t := range targets {
		r, err := c.Get(t)
		if err != nil {
			return nil, 0, err
		}
		if r.Status != 200 {
			return nil, 0, fmt.Errorf("GET %s: status %d: %s", t, r.Status, r.Body)
		}
		if gen, err = strconv.ParseUint(string(r.Generation), 10, 64); err != nil {
			return nil, 0, fmt.Errorf("GET %s: X-Transdb-Generation %q", t, r.Generation)
		}
		if err := check(i, r.Body, gen); err != nil {
			return nil, 0, fmt.Errorf("GET %s: %w", t, err)
		}
		bodies[i] = slices.Clone(r.Body)
	}
	return bodies, gen, nil
}

// cutGenerations returns the Expected of each lookup body.
func cutGenerations(bodies [][]byte) ([]httpload.Expected, error) {
	exp := make([]httpload.Expected, len(bodies))
	for i, b := range bodies {
		var err error
		if exp[i], err = httpload.CutGeneration(b); err != nil {
			return nil, err
		}
	}
	return exp, nil
}

// medianBody returns the body of median size, the body of the bare
// handler, and the mean size.
func medianBody(bodies [][]byte) (median []byte, mean int) {
	sorted := slices.Clone(bodies)
	slices.SortFunc(sorted, func(a, b []byte) int { return len(a) - len(b) })
	total := 0
	for _, b := range bodies {
		total += len(b)
	}
	return sorted[len(sorted)/2], total / len(sorted)
}

// checkAnswers fetches, resolves and translates every target once from
// the transdbd at addr, checks the answers (fetch and resolve against
// the table, translate against the engine in this process) and keeps
// them. It does so once per dataset.
func (d *dataset) checkAnswers(addr string) error {
	if d.fetchExp != nil {
		return nil
	}
	progress("%s: checking every answer of transdbd against the generated table and the engine", d.label)
	bodies, gen, err := d.expectations(addr, d.fetch, func(i int, body []byte, gen uint64) error {
		return d.table.CheckFetch(body, d.pairs[i][0], d.pairs[i][1], gen)
	})
	if err != nil {
		return err
	}
	d.fetchBody, d.fetchMean = medianBody(bodies)
	if d.fetchExp, err = cutGenerations(bodies); err != nil {
		return err
	}
	d.checkedGen = gen
	bodies, _, err = d.expectations(addr, d.resolve, func(i int, body []byte, gen uint64) error {
		return d.table.CheckResolve(body, d.pairs[i][0], d.resolveURI[i], gen)
	})
	if err != nil {
		return err
	}
	d.resolveBody, d.resolveMean = medianBody(bodies)
	if d.resolveExp, err = cutGenerations(bodies); err != nil {
		return err
	}

	want, gen, err := d.translateAnswers()
	if err != nil {
		return err
	}
	if gen != d.checkedGen {
		return fmt.Errorf("%s: the engine in this process read generation %d, transdbd answered %d", d.label, gen, d.checkedGen)
	}
	bodies, _, err = d.expectations(addr, d.translate, func(i int, body []byte, g uint64) error {
		if g != gen || !bytes.Equal(body, want[i]) {
			return fmt.Errorf("generation %d, body %.300q; want generation %d, body %.300q", g, body, gen, want[i])
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.translateExp = want
	d.translateBody, d.translateMean = medianBody(bodies)
	return d.checkAuth(addr)
}
