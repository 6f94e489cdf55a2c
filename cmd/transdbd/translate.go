package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"transdb/engine"
	"transdb/httpprovider"
)

// The commands of the translation engine: the decision for one request,
// and the rows the engine cannot evaluate.

func runTranslate(e *env, args []string) int {
	c := newCLI(e, "translate", "-db FILE|-config FILE [-basekey ...] [-key K] [-docroot DIR] [-method M] [-host H] [-port P] [-scheme S] [-client-ip IP] [-args Q] [-header 'N: v']... [-trace] URI", `
Evaluates the table for a request of URI, as Apache2::Translation would,
and prints the decision as GET /v1/translate answers it: a JSON object
with the status to answer with (0: let the request proceed), the
redirect location, proxy URL, file, handler, config lines, notes, %CTX
and the rows that could not be evaluated; with -trace, every row looked
at. A bad URI is a decision too (status 400). With -config, the key and
the document root default to the configuration's TranslationKey and
DocumentRoot, and its MaxCallDepth, MaxSteps and MaxRows apply.`)
	f := c.tableFlags()
	// -key and -port given are checked as the parameters key and port
	// are: -key '' and -port 0 are no key and no port, not the defaults.
	var key string
	c.fs.Func("key", "the `KEY` to start with (default: TranslationKey of -config, else default)", func(s string) error {
		key = s
		return engine.CheckKey(s)
	})
	docroot := c.fs.String("docroot", "", "the document root `DIR`, $DOCROOT (default: DocumentRoot of -config)")
	method := c.fs.String("method", "GET", "the request `METHOD`")
	host := c.fs.String("host", "", "the `HOST` header")
	var port int
	c.fs.Func("port", "the server `PORT` (default 80, 443 with -scheme https)", func(s string) (err error) {
		port, err = engine.ParsePort(s)
		return err
	})
	scheme := c.fs.String("scheme", "http", "the `SCHEME`: http or https")
	clientIP := c.fs.String("client-ip", "", "the client's `ADDRESS`")
	query := c.fs.String("args", "", "the query `STRING`, without ?")
	trace := c.fs.Bool("trace", false, "list every row the evaluation looked at")
	var headers []engine.Header
	c.fs.Func("header", "a request header `'NAME: VALUE'`; repeat it for more", func(s string) error {
		h, err := engine.ParseHeader(s)
		headers = append(headers, h)
		return err
	})
	pos, code, ok := c.parse(args, 1, 1)
	if !ok {
		return code
	}
	// What GET /v1/translate refuses is a usage error here.
	req := engine.Request{URI: pos[0], Args: *query, Method: *method, Host: *host, Port: port, Scheme: *scheme,
		ClientIP: *clientIP, Header: headers, Key: key, Trace: *trace}
	if err := req.Validate(); err != nil {
		return c.usageError(err)
	}
	p, t, err := f.openTable(false)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	opts := engine.Options{DocumentRoot: *docroot}
	if t.cfg != nil {
		opts.TranslationKey = t.cfg.TranslationKey
		if opts.DocumentRoot == "" {
			opts.DocumentRoot = t.cfg.DocumentRoot
		}
		opts.MaxCallDepth, opts.MaxSteps, opts.MaxRows = t.cfg.MaxCallDepth, t.cfg.MaxSteps, t.cfg.MaxRows
	}
	d, err := engine.New(p, opts).Translate(context.Background(), req)
	if err != nil {
		return c.fail(err)
	}
	if err := httpprovider.WriteDecision(e.stdout, d); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// errFindings ends check with exit status 1 after its report.
var errFindings = errors.New("rows the engine cannot evaluate")

func runCheck(e *env, args []string) int {
	c := newCLI(e, "check", "-db FILE|-config FILE [-basekey ...]", `
Compiles every action of the table and prints each row the engine cannot
evaluate, one JSON object a line: its id, key, uri, block, order, action,
the reason and whether the action uses Perl that the engine does not
offer ("unsupported") rather than being malformed. Such rows evaluate to
undef, as a Perl compile error does upstream. Exits 0 when there is none,
1 when there are some (after listing them).`)
	f := c.tableFlags()
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	p, _, err := f.openTable(false)
	if err != nil {
		return c.fail(err)
	}
	defer p.Stop()
	findings, err := engine.New(p, engine.Options{}).Check()
	if err != nil {
		return c.fail(err)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	for _, f := range findings {
		if err := enc.Encode(findingJSON{ID: f.ID, Key: f.Key, URI: f.URI, Block: f.Block, Order: f.Order,
			Action: f.Action, Error: f.Reason, Unsupported: f.Unsupported}); err != nil {
			return c.fail(err)
		}
	}
	if len(findings) > 0 {
		return c.fail(fmt.Errorf("%d %w", len(findings), errFindings))
	}
	return exitOK
}

// findingJSON is a line of check's report.
type findingJSON struct {
	ID          uint64 `json:"id"`
	Key         string `json:"key"`
	URI         string `json:"uri"`
	Block       uint32 `json:"block"`
	Order       uint32 `json:"order"`
	Action      string `json:"action"`
	Error       string `json:"error"`
	Unsupported bool   `json:"unsupported"`
}
