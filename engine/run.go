package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"transdb/engine/expr"
	"transdb/translation"
)

// state is a state of the translation's main loop (EVALUATION.md 1.5).
type state int

const (
	stStart state = iota
	stPreproc
	stProc
	stDone
	stLookupFile
)

var stateNames = [...]string{"START", "PREPROC", "PROC", "DONE", "LOOKUPFILE"}

func (s state) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state %d", int(s))
}

// defaultShift is where a list in which no action ran leaves the state;
// nextState is where Done leaves it. Upstream has no entry for DONE, and
// the undef it reads is 0, START (quirk Q3).
var (
	defaultShift = [...]state{stStart: stPreproc, stPreproc: stProc, stProc: stProc, stDone: stStart, stLookupFile: stProc}
	nextState    = [...]state{stStart: stPreproc, stPreproc: stProc, stProc: stDone, stDone: stStart, stLookupFile: stProc}
)

// The uris of the lists of PREPROC and LOOKUPFILE.
const (
	uriPre        = ":PRE:"
	uriLookupFile = ":LOOKUPFILE:"
)

// An abort ends a translation early with a status: Error, Redirect, a bad
// uri or a limit.
type abort struct {
	status   int
	location string
	message  string
}

func (a *abort) Error() string { return fmt.Sprintf("abort %d", a.status) }

// errStop ends the walk of a block list: Done, Last or Restart ran.
var errStop = errors.New("stop")

// A run is one translation: all the state of Apache2::Translation's
// evaluation of one request, which lives nowhere else, so that
// translations run concurrently and re-entrantly.
type run struct {
	ctx context.Context
	e   *Engine
	s   *translation.Snapshot
	req Request
	d   Decision

	startKey string // the configured key, as far as this request goes
	state    state
	key      string
	uri      string // $URI, $r->uri
	mu, mpi  string // $MATCHED_URI, $MATCHED_PATH_INFO
	filename string
	handler  string
	pathInfo string
	// pathInfoSet: an action assigned $PATH_INFO, which is then no
	// longer undefined for the shortcut of MapToStorage.
	pathInfoSet bool
	// shortcutMPI is $MATCHED_PATH_INFO when the first PerlHandler or
	// Doc ran: MapToStorage's path_info.
	shortcutMPI string
	debug       expr.Value
	rc          expr.Value
	ctxVars     []ctxVar
	ctxNames    names // of ctxVars
	noteNames   names // of notes
	notes       []Note
	argv        [][]expr.Value // @ARGV of the nested Calls, innermost last
	vals        []expr.Value   // the memory of list, reused by each
	skipCut     bool           // a Restart happened in this pass of the main loop
	steps       int            // state transitions, against maxSteps
	fetches     int            // block-list fetches, against maxSteps
	maxSteps    int            // MaxSteps, and a step for each segment of the request's uri
	noState     string         // the value $STATE was given when it names no state
	rows        int            // rows walked, against MaxRows
	kept        int            // bytes kept in %CTX, notes, configuration and errors (keep)
	errorsCut   bool           // errors were left out past MaxKept
	traced      int            // bytes of the trace, against MaxKept of its own
	traceCut    bool           // trace steps were left out past it
	work        int64          // spent by the actions, against MaxWork
	over        *abort         // a bound on resources was passed: the translation ends with it
	serial      uint64         // of the snapshot's mapping, which the rows' texts alias
	read        reads          // what the translation read of its request, for the decision cache
	host        string         // the request's host name, once read (hostname)

	matched          bool // MatchedURI and PathInfo of the decision are set
	proxySet         bool
	perlHandler, doc row // the first of each that ran
	fixups           []row
	errored          map[rowErr]bool // the errors reported, each once
}

// rowErr identifies a reported error: a row may fail in more than one
// way, and one that runs again (in a loop, a Call) is reported once. A
// row is its ID and text (the compiled action may be a copy: the cache
// replaces entries).
type rowErr struct {
	id        uint64
	text, msg string
}

// A row is an action with its record ID, kept for deferred evaluation.
type row struct {
	a  *action
	id uint64
}

type ctxVar struct {
	name string
	val  expr.Value
}

// runs keeps runs between translations, with the memory of their lists.
var runs = sync.Pool{New: func() any { return new(run) }}

// newRun returns a run of req on s, from the pool.
func newRun(ctx context.Context, e *Engine, s *translation.Snapshot, req *Request) *run {
	r := runs.Get().(*run)
	r.ctx, r.e, r.s, r.req = ctx, e, s, *req
	r.d.Generation = s.Generation()
	r.serial = s.Serial()
	r.startKey = e.startKey(req)
	r.uri = req.URI
	// A walk over a uri of n segments takes n steps and n fetches: a
	// long uri is no loop of the table's, and a client's request must
	// not get a 500 for it.
	r.maxSteps = e.opts.MaxSteps + strings.Count(req.URI, "/")
	return r
}

// maxKept bounds the length of a list a run keeps for the next one, so
// that one translation with an unusually long trace does not hold its
// memory in the pool.
const maxKept = 64

// kept returns s emptied, for reuse, or nil when it is long.
func kept[T any](s []T) []T {
	if cap(s) > maxKept {
		return nil
	}
	clear(s[:cap(s)])
	return s[:0]
}

// release empties r and returns it to the pool. The lists of its
// decision are kept for the next run unless the decision outlives r
// (escaped): then the caller holds them.
func (r *run) release(escaped bool) {
	d := &r.d
	var keep Decision
	if !escaped {
		keep = Decision{Config: kept(d.Config), FixupConfig: kept(d.FixupConfig),
			CTX: kept(d.CTX), Errors: kept(d.Errors), Trace: kept(d.Trace)}
	}
	notes := r.notes
	if escaped {
		notes = nil // the decision's Notes
	}
	errored := r.errored
	if len(errored) > maxKept {
		errored = nil
	}
	clear(errored)
	*r = run{d: keep, notes: kept(notes), ctxVars: kept(r.ctxVars), argv: kept(r.argv),
		vals: kept(r.vals), fixups: kept(r.fixups), errored: errored, read: reads{headers: kept(r.read.headers)}}
	runs.Put(r)
}

// translate runs the main loop and the deferred work, and fills r.d.
func (r *run) translate() error {
	r.state = stStart
	for r.state != stDone {
		r.skipCut = false
		if err := r.step(); err != nil {
			var ab *abort
			if !errors.As(err, &ab) {
				return err
			}
			r.d.Status = ab.status
			r.d.Location = ab.location
			r.d.Message = ab.message
			r.finish()
			return nil
		}
	}
	r.finish()
	if err := r.deferred(); err != nil {
		var ab *abort
		if !errors.As(err, &ab) {
			return err
		}
		r.d.Status, r.d.Location, r.d.Message = ab.status, "", ab.message
	}
	return nil
}

// tick counts one of what n counts (state transitions or block-list
// fetches, named by what) against MaxSteps and the segments of the
// request's uri, and checks the context.
func (r *run) tick(n *int, what string) error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if *n++; *n > r.maxSteps {
		return r.limit(fmt.Sprintf("more than %d %s: the table loops", r.maxSteps, what))
	}
	return nil
}

// walked counts a row against the limit and, now and then, checks the
// context, so that a long list ends with the request.
func (r *run) walked() error {
	r.rows++
	if r.rows > r.e.opts.MaxRows {
		return r.limit(fmt.Sprintf("more than %d rows walked: the block lists are too long", r.e.opts.MaxRows))
	}
	if r.rows%1024 == 0 {
		return r.ctx.Err()
	}
	return nil
}

// limit aborts with 500 and says why in Errors and the trace.
func (r *run) limit(why string) error { return r.over500(RowError{Error: why}, why) }

// step runs the function of the current state once.
func (r *run) step() error {
	if err := r.tick(&r.steps, "state transitions"); err != nil {
		return err
	}
	switch r.state {
	case stStart:
		r.key = r.startKey
		r.mu, r.mpi = translation.CollapseSlashes(r.uri), ""
		r.state = stPreproc
		if !validURI(r.mu) {
			return r.badRequest(r.mu)
		}
	case stPreproc, stLookupFile:
		st, list := r.state, uriPre
		if st == stLookupFile {
			list = uriLookupFile
		}
		k := r.key
		if err := r.process(k, list, 0, false); err != nil {
			return err
		}
		if k == r.key && r.state == st {
			r.state = stProc
		}
	case stProc:
		uri := r.mu
		if uri == "" {
			r.state = stDone
			return nil
		}
		if err := r.process(r.key, uri, 0, false); err != nil {
			return err
		}
		if r.state != stProc || r.skipCut {
			return nil
		}
		switch {
		case isRoot(uri) && r.mu == uri:
			r.state = stDone
		case strings.Contains(r.mu, "/"):
			i := strings.LastIndexByte(r.mu, '/')
			if err := r.charge(int64(len(r.mu) - i + len(r.mpi))); err != nil {
				return err
			}
			r.mpi = r.mu[i:] + r.mpi
			r.mu = r.mu[:i]
			if r.mu == "" {
				r.mu = "/"
			}
		default:
			// No '/' to cut: upstream fetches the same uri forever
			// (quirk Q1); the step limit ends it.
		}
	default:
		// A state number assigned through $STATE that no state has:
		// upstream dies ("Trying to cycle"), a 500.
		return r.limit(fmt.Sprintf("no state %.64q", r.noState))
	}
	return nil
}

// perlSpace is what Perl's \s matches.
const perlSpace = " \t\n\r\f\v"

// isRoot reports whether the walk ends at uri: upstream's m!^[/*]$!,
// whose $ also matches before a final newline.
func isRoot(uri string) bool {
	uri = strings.TrimSuffix(uri, "\n")
	return uri == "/" || uri == "*"
}

// validURI reports whether the walk can start at uri.
func validURI(uri string) bool { return strings.HasPrefix(uri, "/") || uri == "*" }

func (r *run) badRequest(uri string) error {
	return &abort{status: 400, message: "BAD REQUEST: " + uri}
}

// process runs the block list of key and uri (EVALUATION.md 1.4). With
// star, an empty list of key is replaced by the list of key "*" (Call's
// fallback). A list that ran no action moves the state by defaultShift;
// one that ended through Done, Last or Restart does not.
func (r *run) process(key, uri string, depth int, star bool) error {
	if err := r.tick(&r.fetches, "block-list fetches"); err != nil {
		return err
	}
	rows, executed, err := r.walk(key, uri, depth)
	if err == nil && rows == 0 && star {
		if err = r.tick(&r.fetches, "block-list fetches"); err == nil {
			_, executed, err = r.walk("*", uri, depth)
		}
	}
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil {
		return err
	}
	if !executed {
		r.state = defaultShift[r.validState()]
	}
	return nil
}

// validState returns the state as an index of the shift tables.
func (r *run) validState() state {
	if r.state < 0 || int(r.state) >= len(defaultShift) {
		return stStart
	}
	return r.state
}

// walk runs the rows of one block list: a false Cond skips the rest of
// its block; the Conds of a block AND together. It returns the number of
// rows, whether an action other than Cond ran, and errStop when one of
// them ended the list.
func (r *run) walk(key, uri string, depth int) (rows int, executed bool, err error) {
	cond, prev, first := true, uint32(0), true
	// The key and uri are hashed and compared on the way: a Key or Call
	// of a megabyte costs as much.
	if err := r.charge(int64(len(key) + len(uri))); err != nil {
		return 0, false, err
	}
	err = r.s.FetchBlocks(key, uri, false, func(b translation.Block) error {
		rows++
		if err := r.walked(); err != nil {
			return err
		}
		if first || b.Block != prev {
			first, prev, cond = false, b.Block, true
		}
		if !cond {
			// The rest of a block after a false Cond is skipped, Conds
			// included: no need to compile it.
			r.trace(key, uri, depth, b, false, false, "")
			return nil
		}
		a := r.e.compiled(b.ID, b.Action, r.serial)
		// A row run costs what compiling its text does, whether or not
		// the cache held it: so that no table can make a translation
		// compile or evaluate for seconds (operations on numbers build
		// no bytes), and its decision does not depend on the cache.
		if err := r.Spend(rowCost * int64(len(a.text))); err != nil {
			r.failed(a, b.ID, err)
			return r.ended(nil)
		}
		if a.kind == kindCond {
			cond = r.scalar(a, b.ID).Truth()
			r.trace(key, uri, depth, b, true, !cond, "")
			return r.ended(nil)
		}
		r.trace(key, uri, depth, b, true, false, "")
		executed = true
		return r.ended(r.do(a, b.ID, depth))
	})
	return rows, executed, err
}

// trace records a row when the request asked for a trace.
func (r *run) trace(key, uri string, depth int, b translation.Block, ran, condFalse bool, note string) {
	if !r.req.Trace || r.traceCut {
		return
	}
	// The trace has a budget of its own, so that tracing does not change
	// the decision: past it the steps are left out, and one says so. A
	// key or uri may be a string of its own (a Call's name, a Key's
	// value), kept alive by the step, and so may the action's text.
	if r.traced += stepCost + len(key) + len(uri) + len(note) + len(b.Action); r.traced > MaxKept {
		r.traceCut = true
		r.d.Trace = append(r.d.Trace, Step{State: r.state.String(), Depth: depth,
			Note: fmt.Sprintf("trace cut: more than %d bytes; the later steps are left out", MaxKept)})
		return
	}
	// The action's text is the compiled action's, one string however
	// often the row is walked, not a copy per step; a row skipped is not
	// compiled for its text.
	var text string
	if a := r.e.cache.get(b.ID, b.Action, r.serial); a != nil {
		text = a.text
	} else {
		text = string(b.Action)
	}
	r.d.Trace = append(r.d.Trace, Step{State: r.state.String(), Key: key, URI: uri, ID: b.ID,
		Block: b.Block, Order: b.Order, Action: text, Ran: ran,
		CondFalse: condFalse, Depth: depth, Note: note})
}

// markMatched takes MatchedURI and PathInfo of the decision from the
// first File, Proxy, PerlHandler, Doc, CgiScript or PerlScript.
func (r *run) markMatched() {
	if !r.matched {
		r.matched = true
		r.d.MatchedURI, r.d.PathInfo = r.mu, r.mpi
	}
}

// do runs one action other than Cond (EVALUATION.md 1.6); it returns
// errStop for Done, Last and Restart, an *abort for Error, Redirect and
// the limits.
func (r *run) do(a *action, id uint64, depth int) error {
	switch a.kind {
	case kindUnknown:
		// Skipped, with a warning; it counts as executed (quirk Q8).
		r.rowError(a, id, a.err)
	case kindDo:
		r.scalar(a, id)
	case kindFixup:
		r.fixups = append(r.fixups, row{a, id})
	case kindDone:
		r.state = nextState[r.validState()]
		return errStop
	case kindLast:
		return errStop
	case kindState:
		name := r.scalar(a, id).String()
		lower := strings.ToLower(name) // Perl's lc: U+017F is no 's'
		for st, n := range stateNames {
			if strings.ToLower(n) == lower {
				r.state = state(st)
				return nil
			}
		}
		if len(name) > 64 {
			name = name[:64] + "..."
		}
		r.rowError(a, id, fmt.Errorf("invalid state %q", name))
	case kindKey:
		r.key = r.scalar(a, id).String()
	case kindURI:
		r.uri = r.scalar(a, id).String()
	case kindFile:
		r.filename = r.scalar(a, id).String()
		r.markMatched()
	case kindRestart:
		return r.restart(a, id)
	case kindCall:
		return r.call(a, id, depth)
	case kindRedirect:
		return r.redirect(a, id)
	case kindError:
		vals := r.list(a, id)
		code, err := statusCode(at(vals, 0), 500)
		if err != nil {
			r.rowError(a, id, fmt.Errorf("Action ERROR: %w", err))
		}
		msg := "unspecified error" // for any false message: $msg||'...'
		if len(vals) > 1 && vals[1].Truth() {
			msg = strings.TrimRight(vals[1].String(), perlSpace)
		}
		return &abort{status: code, message: msg}
	case kindProxy:
		url := r.realURI() // without an argument: a forward proxy
		if a.present && (a.compiled || a.err != nil) {
			url = r.scalar(a, id).String()
		}
		if !r.proxySet {
			r.proxySet = true
			r.d.Proxy = url
		}
		r.markMatched()
	case kindPerlHandler:
		if r.perlHandler.a == nil && r.doc.a == nil {
			r.shortcutMPI = r.mpi
		}
		if r.perlHandler.a == nil {
			r.perlHandler = row{a, id}
		}
		if r.handler != "perl-script" {
			r.handler = "modperl"
		}
		r.rc = expr.Int(0)
		r.markMatched()
	case kindDoc:
		if r.perlHandler.a == nil && r.doc.a == nil {
			r.shortcutMPI = r.mpi
		}
		if r.doc.a == nil {
			r.doc = row{a, id}
		}
		r.handler = "modperl"
		r.rc = expr.Int(0)
		r.markMatched()
	case kindCgiScript, kindPerlScript:
		if a.present && (a.compiled || a.err != nil) {
			r.filename = r.scalar(a, id).String()
		}
		if a.kind == kindCgiScript {
			r.handler = "cgi-script"
			r.d.FixupConfig = append(r.d.FixupConfig, [2]string{"", "Options +ExecCGI"})
		} else {
			r.handler = "perl-script"
			r.d.FixupConfig = append(r.d.FixupConfig, [2]string{"", "Options ExecCGI"}, [2]string{"", "PerlOptions +ParseHeaders"})
		}
		r.markMatched()
	case kindConfig:
		r.d.Config = r.configEntries(a, id, r.d.Config, r.list(a, id))
	case kindFixupConfig:
		r.d.FixupConfig = r.configEntries(a, id, r.d.FixupConfig, r.list(a, id))
	}
	return nil
}

// statusCode is the HTTP status an Error or Redirect names: dflt when v
// is undef or 0, else v as an integer. A number that is no status of an
// answer (outside 200-999: a 1xx is interim) gives 500 and an error
// saying so: a decision never carries a status a proxy cannot send.
func statusCode(v expr.Value, dflt int) (int, error) {
	n := v.Number()
	if n == 0 || v.IsUndef() {
		return dflt, nil
	}
	if !answerStatus(n) {
		return 500, fmt.Errorf("status %s is not an HTTP status of an answer (200-999)", v.String())
	}
	return int(n), nil
}

// answerStatus reports whether n is the HTTP status of an answer, NaN
// excluded.
func answerStatus(n float64) bool { return n >= 200 && n < 1000 }

// at returns vals[i], or undef.
func at(vals []expr.Value, i int) expr.Value {
	if i < len(vals) {
		return vals[i]
	}
	return expr.Undef()
}

// restart runs a Restart (EVALUATION.md 1.6).
func (r *run) restart(a *action, id uint64) error {
	if a.present && (a.compiled || a.err != nil) {
		vals := r.list(a, id)
		newURI := at(vals, 0).String()
		if newURI != "" {
			r.uri = newURI
		} else {
			newURI = r.uri
		}
		newKey := r.startKey // quirk Q6: the configured key, for undef only
		if k := at(vals, 1); !k.IsUndef() {
			newKey = k.String()
		}
		r.mu, r.key, r.mpi = translation.CollapseSlashes(newURI), newKey, at(vals, 2).String()
		if !validURI(r.mu) {
			return r.badRequest(r.mu)
		}
	}
	r.state = stPreproc
	r.skipCut = true
	return errStop
}

// call runs a Call: the list of name under the current key, or of key
// "*" when that is empty, with @ARGV set to the parameters. Its end does
// not end the caller's list (quirk Q5).
func (r *run) call(a *action, id uint64, depth int) error {
	vals := r.list(a, id)
	if r.over != nil {
		return r.over
	}
	if depth+1 > r.e.opts.MaxCallDepth {
		return r.limit(fmt.Sprintf("more than %d nested Calls", r.e.opts.MaxCallDepth))
	}
	name := at(vals, 0).String()
	var params []expr.Value
	if len(vals) > 1 {
		params = slices.Clone(vals[1:]) // vals is reused by the next list
	}
	r.argv = append(r.argv, params)
	err := r.process(r.key, name, depth+1, true)
	r.argv = r.argv[:len(r.argv)-1]
	return err
}

// redirect aborts with a Redirect's status and Location (EVALUATION.md
// 1.8).
func (r *run) redirect(a *action, id uint64) error {
	vals := r.list(a, id)
	url := at(vals, 0)
	if url.IsUndef() || url.String() == "" {
		r.rowError(a, id, errors.New("Action REDIRECT: location not set"))
		return &abort{status: 500, message: "Action REDIRECT: location not set"}
	}
	ab := &abort{}
	code, err := statusCode(at(vals, 1), 302)
	if err != nil {
		err = fmt.Errorf("Action REDIRECT: %w", err)
		r.rowError(a, id, err)
		ab.message = err.Error()
	}
	ab.status = code
	if code >= 300 && code <= 399 {
		ab.location = r.location(url.String())
	}
	return ab
}

// configEntries appends the [location, directive] pairs of a Config or
// FixupConfig list: a string at $MATCHED_URI (or "/"), ['directive'] at
// "/", ['directive', path] at path (or "/"). A pair past what the
// translation may keep (MaxKept) ends the translation: a configuration
// with a directive left out would not be the table's.
func (r *run) configEntries(a *action, id uint64, to [][2]string, vals []expr.Value) [][2]string {
	for _, v := range vals {
		var e [2]string
		if elems, ok := v.Elems(); ok {
			e = [2]string{"/", at(elems, 0).String()}
			if len(elems) > 1 && elems[1].String() != "" {
				e[0] = elems[1].String()
			}
		} else {
			e = [2]string{r.mu, v.String()}
			if e[0] == "" {
				e[0] = "/"
			}
		}
		if i := strings.IndexByte(e[0], '\t'); i >= 0 {
			// Upstream keeps "location TAB directive" and splits it at
			// its first TAB.
			e = [2]string{e[0][:i], e[0][i+1:] + "\t" + e[1]}
		}
		if err := r.keep(entryCost+len(e[0])+len(e[1]), 0); err != nil {
			name := "CONFIG"
			if a.kind == kindFixupConfig {
				name = "FIXUPCONFIG"
			}
			r.failed(a, id, fmt.Errorf("Action %s: %w", name, err))
			break
		}
		to = append(to, e)
	}
	return to
}

// scalar evaluates an action's argument in scalar context; an argument
// that does not compile or dies gives undef, with the row's error
// reported.
func (r *run) scalar(a *action, id uint64) expr.Value {
	if !a.compiled {
		if a.err != nil {
			r.rowError(a, id, a.err)
		}
		return expr.Undef()
	}
	v, err := a.prog.Scalar(r)
	if err != nil {
		r.failed(a, id, err)
		return expr.Undef()
	}
	return v
}

// list evaluates an action's argument in list context; an argument that
// does not compile or dies gives the empty list. The list is valid until
// the next list: its memory is reused.
func (r *run) list(a *action, id uint64) []expr.Value {
	if !a.compiled {
		if a.err != nil {
			r.rowError(a, id, a.err)
		}
		return nil
	}
	vals, err := a.prog.AppendList(r, r.vals[:0])
	r.vals = vals
	if err != nil {
		r.failed(a, id, err)
		return nil
	}
	return vals
}

// failed reports an action's runtime error. An error of a bound on
// resources (expr.Error.Limit) also ends the translation with a 500:
// its value is not what the table says, and going on could skip a
// refusal that a Cond guards, whenever the request's data is large
// enough to pass the bound.
func (r *run) failed(a *action, id uint64, err error) {
	var e *expr.Error
	if !errors.Is(err, expr.ErrLimit) && (!errors.As(err, &e) || !e.Limit) {
		r.rowError(a, id, err)
		return
	}
	r.over500(rowErrorOf(id, a.text, err.Error()), fmt.Sprintf("row %d: %s", id, cutText(err.Error())))
}

// exceeded ends the translation with a 500 for err, a bound on
// resources passed by work of the translation's own (reading a
// variable, fetching a list), unless an action has ended it already.
func (r *run) exceeded(err error) error {
	return r.over500(RowError{Error: err.Error()}, err.Error())
}

// over500 ends the translation with a 500 that says why, reporting e,
// unless a bound has ended it already; it returns the abort.
func (r *run) over500(e RowError, why string) error {
	if r.over == nil {
		r.d.Errors = append(r.d.Errors, e)
		if r.req.Trace {
			r.d.Trace = append(r.d.Trace, Step{State: r.state.String(), Note: "the translation ends: " + why})
		}
		r.over = &abort{status: 500, message: why}
	}
	return r.over
}

// ended returns err, or the abort of a bound on resources an action hit.
func (r *run) ended(err error) error {
	if r.over != nil {
		return r.over
	}
	return err
}

// rowErrorOf returns the error of a row, its action's text and the
// message cut at maxErrorLen: a die message may be as long as any string
// (MaxString), an action that does not compile as long as the database
// holds, and each decision would repeat them.
func rowErrorOf(id uint64, text, msg string) RowError {
	return RowError{ID: id, Action: cutText(text), Error: cutText(msg)}
}

// cutText returns s, or its first maxErrorLen bytes and "..." when it is
// longer.
func cutText(s string) string {
	if len(s) > maxErrorLen {
		return strings.ToValidUTF8(s[:maxErrorLen], "") + "..."
	}
	return s
}

// rowError reports a row's error in the decision, once per row.
func (r *run) rowError(a *action, id uint64, err error) {
	e := rowErrorOf(id, a.text, err.Error())
	msg := e.Error
	k := rowErr{id, a.text, msg}
	if r.errored[k] {
		return
	}
	// The errors count against what the translation keeps; past it the
	// first one refused is reported in their place, and no more.
	if r.keep(entryCost+len(e.Action)+len(msg), 0) != nil {
		if !r.errorsCut {
			r.errorsCut = true
			e.Error = errKept.Error() + ": the errors of later rows are left out"
			r.d.Errors = append(r.d.Errors, e)
		}
		return
	}
	if r.errored == nil {
		r.errored = map[rowErr]bool{}
	}
	r.errored[k] = true
	r.d.Errors = append(r.d.Errors, e)
}

// stepCost is what a trace step costs against its budget beside its
// strings: the Step, in the trace's slice (the action's text is the
// compiled action's).
const stepCost = int(unsafe.Sizeof(Step{}))

// maxErrorLen bounds the message of a reported error.
const maxErrorLen = 4 << 10

// finish fills the decision from the state at the end of the
// translation.
func (r *run) finish() {
	d := &r.d
	d.Key, d.StartKey, d.Rows = r.key, r.startKey, r.rows
	r.request()
	if !r.matched {
		d.MatchedURI, d.PathInfo = r.mu, r.mpi
	}
	for _, v := range r.ctxVars {
		d.CTX = append(d.CTX, Var{Name: v.name, Value: v.val.String()})
	}
	d.Notes = r.notes
}

// request fills the fields of the decision that hold the request as the
// translation, and then the Fixup codes, left it.
func (r *run) request() {
	r.d.URI, r.d.File, r.d.Handler = r.uri, r.filename, ""
	switch r.handler {
	case "cgi-script", "perl-script":
		r.d.Handler = r.handler
	}
}

// deferred runs the work upstream does after the translation: the Fixup
// codes in order, then the PerlHandler and Doc expressions of the
// response phase. Then %CTX is empty and @ARGV gone, as upstream; the
// notes they set are in the decision.
func (r *run) deferred() error {
	r.ctxVars, r.ctxNames, r.argv = r.ctxVars[:0], names{}, r.argv[:0]
	// The handler has returned: $RC set later is no status of it (the
	// later phases see a $RC of their own).
	rc := r.rc
	if (r.perlHandler.a != nil || r.doc.a != nil) && !r.pathInfoSet {
		// MapToStorage ran before the Fixup phase and gave path_info
		// the MPI of the first PerlHandler or Doc.
		r.pathInfo, r.pathInfoSet = r.shortcutMPI, true
	}
	for _, f := range r.fixups {
		if r.scalar(f.a, f.id); r.over != nil {
			return r.over
		}
	}
	r.request()
	if h := r.perlHandler; h.a != nil {
		if r.d.Handler = r.scalar(h.a, h.id).String(); r.over != nil {
			return r.over
		}
	}
	if doc := r.doc; doc.a != nil {
		vals := r.list(doc.a, doc.id)
		if r.over != nil {
			return r.over
		}
		r.d.Doc = &Doc{ContentType: "text/plain"}
		switch {
		case len(vals) == 1:
			r.d.Doc.Body = vals[0].String()
		case len(vals) > 1:
			r.d.Doc.ContentType, r.d.Doc.Body = vals[0].String(), vals[1].String()
		}
	}
	if !rc.IsUndef() {
		switch n := rc.Number(); {
		case answerStatus(n):
			r.d.Status = int(n)
		case n >= 100 && n < 200:
			// An interim status is no answer: not one to proceed on.
			r.d.Status, r.d.Message = 500, fmt.Sprintf("status %s in $RC is not an HTTP status of an answer (200-999)", rc.String())
		}
	}
	if h := r.perlHandler; h.a != nil && h.a.err == nil && r.doc.a == nil && r.d.Handler == "" && r.d.Status == 0 &&
		r.handler == "modperl" && !r.proxySet {
		// The response phase finds no handler of an empty name: upstream
		// logs "Cannot find handler" and answers 500. (An argument that
		// does not compile here, such as sub {...}, may well be one.)
		r.rowError(h.a, h.id, errors.New("Cannot find handler: the PerlHandler's value is empty"))
		r.d.Status, r.d.Message = 500, "Cannot find handler"
	}
	r.d.Notes = r.notes
	return nil
}
