package engine

import (
	"context"
	"errors"
	"fmt"

	"transdb/engine/expr"
	"transdb/translation"
)

// Defaults of Options.
const (
	// DefaultTranslationKey is the key a translation starts with when
	// neither the Request nor Options name one, as upstream.
	DefaultTranslationKey = "default"
	// DefaultMaxCallDepth bounds nested Calls.
	DefaultMaxCallDepth = 64
	// DefaultMaxSteps bounds the state transitions of one translation, and
	// its block-list fetches.
	DefaultMaxSteps = 1000
	// DefaultMaxRows bounds the rows one translation walks.
	DefaultMaxRows = 100_000
	// MaxKept bounds what one translation keeps in %CTX, in notes, in
	// its decision's configuration and in the errors it reports, in
	// bytes, so that no table can make a translation hold the daemon's
	// memory: an action that would keep more ends the translation with a
	// 500 saying so, as any bound on resources does (see MaxWork); past
	// it, errors are left out, and the first one left out says so.
	// Each error's message and action are cut at 4 KiB. A trace has a budget of its
	// own, as large: past it the steps are left out, and a step says so.
	MaxKept = 16 << 20
	// MaxWork bounds the work of one translation's actions that grows
	// with their data (expr.Env.Spend): a byte of a string built,
	// compared or scanned is one, a pattern's match more, and a row run
	// rowCost per byte of its action's text, what compiling it takes
	// (running it takes less, even a chain of arithmetic). The action
	// that would pass it ends the translation with a 500 saying so, as
	// an action past any bound on resources does (expr.Error.Limit): so
	// that no table can make a translation take seconds or hold much
	// memory with strings of a megabyte each, and no request whose data
	// is large can make a Cond false and skip what it guards.
	MaxWork = 64 << 20
	// rowCost is the work a row run costs per byte of its action's text:
	// MaxWork allows 1 MiB of action text run per translation, 10,000
	// rows of 100 bytes, compiled in about half a second at worst.
	rowCost = 64
	// DefaultCacheSize bounds the compiled actions kept.
	DefaultCacheSize = 100000
	// DefaultCacheBytes bounds the memory of the compiled actions kept,
	// as expr.Program.Footprint estimates it from above: a row of a few
	// dozen bytes counts some kilobytes, one of 64 KiB up to 7 MB.
	DefaultCacheBytes = 512 << 20
	// DefaultDecisionCacheBytes bounds the memory of the decisions kept
	// (see Options.DecisionCacheBytes), as estimated from above.
	DefaultDecisionCacheBytes = 128 << 20
)

// Options configure an Engine.
type Options struct {
	// TranslationKey is the key a translation starts with, and the key a
	// Restart without one goes back to. Empty means
	// DefaultTranslationKey.
	TranslationKey string
	// DocumentRoot is $DOCROOT and $r->document_root.
	DocumentRoot string
	// MaxCallDepth bounds nested Calls; 0 means DefaultMaxCallDepth.
	// Past it the decision is 500 and Errors says why.
	MaxCallDepth int
	// MaxSteps bounds the state transitions of one translation, and
	// apart from them its block-list fetches, so that tables that loop
	// forever upstream (a PROC walk that cannot shorten its uri, :PRE:
	// lists switching keys back and forth) end; 0 means DefaultMaxSteps.
	// A walk over a uri of n segments makes n of each, so a translation
	// may make MaxSteps more than the segments of the request's uri.
	// Past it the decision is 500.
	MaxSteps int
	// MaxRows bounds the rows of block lists one translation walks,
	// skipped ones included, so that its time is bounded whatever the
	// length of the lists (MaxSteps bounds how many lists, not how long
	// each is); 0 means DefaultMaxRows. Past it the decision is 500.
	MaxRows int
	// CacheSize bounds the number of compiled actions kept; 0 means
	// DefaultCacheSize.
	CacheSize int
	// CacheBytes bounds their memory, as estimated; 0 means
	// DefaultCacheBytes.
	CacheBytes int
	// DecisionCacheBytes bounds the memory of the decision cache, as
	// estimated; 0 means DefaultDecisionCacheBytes, and a negative
	// number turns the cache off. The cache keeps the decisions of
	// requests seen more than once, each with what its translation read
	// of its request, and answers a later request that agrees on all of
	// that with the same decision, as its translation would: a
	// translation depends on nothing else (see the README).
	DecisionCacheBytes int64
}

// An Engine evaluates the translation table of one provider for
// requests, as Apache2::Translation does: its state machine over the
// block lists, and the actions in a safe subset of Perl (package
// engine/expr). An Engine is safe for concurrent use; each Translate
// works on one snapshot of the table.
type Engine struct {
	p     *translation.Provider
	opts  Options
	cache *cache
	memo  *memo // nil when off
}

// New returns an engine for the table of p.
func New(p *translation.Provider, opts Options) *Engine {
	if opts.TranslationKey == "" {
		opts.TranslationKey = DefaultTranslationKey
	}
	if opts.MaxCallDepth <= 0 {
		opts.MaxCallDepth = DefaultMaxCallDepth
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	e := &Engine{p: p, opts: opts, cache: newCache(opts.CacheSize, opts.CacheBytes)}
	switch {
	case opts.DecisionCacheBytes == 0:
		e.memo = newMemo(DefaultDecisionCacheBytes)
	case opts.DecisionCacheBytes > 0:
		e.memo = newMemo(opts.DecisionCacheBytes)
	}
	return e
}

// DecisionCacheStats returns how many translations the decision cache
// answered (hits) and how many it did not (misses), traced ones
// aside, since the engine was made; both are 0 when the cache is off.
func (e *Engine) DecisionCacheStats() (hits, misses uint64) {
	if e.memo == nil {
		return 0, 0
	}
	return e.memo.stats()
}

// Provider returns the provider whose table the engine evaluates.
func (e *Engine) Provider() *translation.Provider { return e.p }

// TranslationKey returns the key translations start with by default.
func (e *Engine) TranslationKey() string { return e.opts.TranslationKey }

// Translate evaluates the table for req on the newest version and
// returns the decision. An error means no decision could be made: the
// database could not be read (an error wrapping fs.ErrNotExist for a
// read-only provider whose file does not exist yet), or ctx ended. What
// the table says about a bad request is a decision: a uri that neither
// starts with '/' nor is '*' gives Status 400.
func (e *Engine) Translate(ctx context.Context, req Request) (*Decision, error) {
	var d *Decision
	err := e.p.View(func(s *translation.Snapshot) (err error) {
		d, err = e.TranslateIn(ctx, s, req)
		return err
	})
	return d, err
}

// TranslateIn is Translate on a snapshot the caller holds, of the
// engine's provider.
func (e *Engine) TranslateIn(ctx context.Context, s *translation.Snapshot, req Request) (*Decision, error) {
	var d *Decision
	err := e.decide(ctx, s, &req, func(rd *Decision) error {
		d = new(Decision)
		*d = *rd
		// A pooled run's lists are empty, not nil: the decision has nil
		// for an empty list, whatever run made it.
		d.Config, d.FixupConfig, d.Notes = orNil(d.Config), orNil(d.FixupConfig), orNil(d.Notes)
		d.CTX, d.Errors, d.Trace = orNil(d.CTX), orNil(d.Errors), orNil(d.Trace)
		return nil
	}, true)
	return d, err
}

// DecideIn is TranslateIn for a caller that is done with the decision
// when f returns, as a server writing its answer is: f gets the
// decision, which it must neither keep nor change, nor anything it
// holds, and DecideIn returns what f returns. The engine reuses the
// decision's memory for later translations, or hands f a decision of
// its decision cache, shared with other requests, so that DecideIn
// allocates little.
func (e *Engine) DecideIn(ctx context.Context, s *translation.Snapshot, req Request, f func(*Decision) error) error {
	return e.decide(ctx, s, &req, f, false)
}

// decide evaluates the table for req on s, or takes its decision from
// the decision cache, and calls f with the decision; escaped says
// whether f keeps the decision's lists.
func (e *Engine) decide(ctx context.Context, s *translation.Snapshot, req *Request, f func(*Decision) error, escaped bool) error {
	if req.URI == "" {
		return errors.New("engine: the request has no uri")
	}
	m := e.memo
	if req.Trace {
		m = nil
	}
	var h uint64
	if m != nil {
		key := e.startKey(req)
		h = m.key(key, req.URI)
		if d := m.get(h, s.Serial(), key, req); d != nil {
			// As a translation does, a request whose context has ended
			// gets no decision.
			if err := ctx.Err(); err != nil {
				return err
			}
			if escaped {
				var c copier
				dc := c.decision(d)
				d = &dc
			}
			return f(d)
		}
	}
	r := newRun(ctx, e, s, req)
	err := r.translate()
	if err == nil {
		if m != nil {
			m.put(h, r)
		}
		err = f(&r.d)
	}
	r.release(escaped)
	return err
}

// startKey is the key a translation of req starts with: the request's,
// else Options.TranslationKey.
func (e *Engine) startKey(req *Request) string {
	if req.Key != "" {
		return req.Key
	}
	return e.opts.TranslationKey
}

func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// compiled returns the compiled action of a row, compiling it when the
// cache does not hold it; text was read from the mapping of serial, or
// from none when serial is 0.
func (e *Engine) compiled(id uint64, text []byte, serial uint64) *action {
	if a := e.cache.get(id, text, serial); a != nil {
		return a
	}
	a := parseAction(string(text))
	e.cache.put(id, a, text, serial)
	return a
}

// A Finding is a row whose action the engine cannot evaluate: it is not
// supported or does not parse.
type Finding struct {
	ID          uint64
	Key, URI    string
	Block       uint32
	Order       uint32
	Action      string
	Reason      string
	Unsupported bool // a Perl construct the engine does not offer, rather than a syntax error
}

// Check compiles every action of the table's newest version and returns
// the rows that cannot be evaluated, in table order.
func (e *Engine) Check() ([]Finding, error) {
	var out []Finding
	err := e.p.View(func(s *translation.Snapshot) (err error) {
		out, err = e.CheckIn(s, "", "")
		return err
	})
	return out, err
}

// CheckIn is Check on a snapshot the caller holds, of the engine's
// provider, restricted to the block lists of key (all keys when key is
// empty) and uri (all uris of key when uri is empty). Its cost grows
// with the rows it checks; compiled actions are cached, so checking the
// same rows again costs little. It returns a non-nil slice.
func (e *Engine) CheckIn(s *translation.Snapshot, key, uri string) ([]Finding, error) {
	out := []Finding{}
	check := func(rec translation.Record) {
		a := e.compiled(rec.ID, []byte(rec.Action), 0)
		if a.err == nil {
			return
		}
		f := Finding{ID: rec.ID, Key: rec.Key, URI: rec.URI, Block: rec.Block, Order: rec.Order,
			Action: rec.Action, Reason: a.err.Error()}
		var xe *expr.Error
		if errors.As(a.err, &xe) {
			f.Unsupported = xe.Unsupported
		}
		out = append(out, f)
	}
	fail := func(err error) ([]Finding, error) { return nil, fmt.Errorf("engine: check: %w", err) }
	switch {
	case key == "" && uri != "":
		return nil, errors.New("engine: check: a uri needs its key")
	case key == "":
		for rec, err := range s.Iterator() {
			if err != nil {
				return fail(err)
			}
			check(rec)
		}
		return out, nil
	}
	pairs := [][2]string{{key, uri}}
	if uri == "" {
		var err error
		if pairs, err = s.ListKeysAndURIs(key); err != nil {
			return fail(err)
		}
	}
	for _, p := range pairs {
		list, err := s.Fetch(p[0], p[1], false)
		if err != nil {
			return fail(err)
		}
		for _, rec := range list {
			check(rec)
		}
	}
	return out, nil
}
