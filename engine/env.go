package engine

import (
	"fmt"
	"strconv"
	"strings"

	"transdb/engine/expr"
)

// A run is the expr.Env of the actions it evaluates: the convenience
// variables, %CTX, the notes, the headers and @ARGV of one request.
var _ expr.Env = (*run)(nil)

// Get returns a convenience variable.
func (r *run) Get(v expr.Var) expr.Value {
	switch v {
	case expr.URI:
		return expr.Str(r.uri)
	case expr.RealURI:
		return r.built(r.realURI())
	case expr.Method:
		return expr.Str(r.method())
	case expr.QueryString:
		if args := r.args(); args != "" {
			return expr.Str(args)
		}
		return expr.Undef()
	case expr.Filename:
		return expr.Str(r.filename)
	case expr.DocRoot:
		return expr.Str(r.e.opts.DocumentRoot)
	case expr.Hostname, expr.ServerName:
		return expr.Str(r.hostname())
	case expr.PathInfo:
		return expr.Str(r.pathInfo)
	case expr.Request:
		return r.built(r.method() + " " + r.realURI() + " HTTP/1.1")
	case expr.ClientIP:
		return expr.Str(r.clientIP())
	case expr.KeepAlive:
		return expr.Int(1)
	case expr.MatchedURI:
		return expr.Str(r.mu)
	case expr.MatchedPathInfo:
		return expr.Str(r.mpi)
	case expr.Key:
		return expr.Str(r.key)
	case expr.Debug:
		return r.debug
	case expr.State:
		return expr.Int(int64(r.state))
	case expr.RC:
		return r.rc
	case expr.ServerPort:
		return expr.Int(int64(r.port()))
	case expr.Handler:
		if r.handler == "" {
			return expr.Undef()
		}
		return expr.Str(r.handler)
	}
	return expr.Undef() // MainArgs: a request of its own has no main request
}

// Set assigns a convenience variable; the request's own properties are
// read-only.
func (r *run) Set(v expr.Var, x expr.Value) error {
	switch v {
	case expr.URI:
		r.uri = x.String()
	case expr.Filename:
		r.filename = x.String()
	case expr.PathInfo:
		r.pathInfo, r.pathInfoSet = x.String(), true
	case expr.MatchedURI:
		r.mu = x.String()
	case expr.MatchedPathInfo:
		r.mpi = x.String()
	case expr.Key:
		r.key = x.String()
	case expr.Debug:
		return r.keepValue(&r.debug, x)
	case expr.State:
		// As Perl indexes its array of states: the number's integer part.
		if n := x.Number(); n > -1 && n < float64(len(stateNames)) {
			r.state = state(n)
		} else {
			r.state, r.noState = -1, x.String()
		}
	case expr.RC:
		return r.keepValue(&r.rc, x)
	case expr.Handler:
		r.handler = x.String()
	default:
		return fmt.Errorf("%s is read-only", varNames[v])
	}
	return nil
}

// varNames name the variables that cannot be assigned, for the error.
var varNames = map[expr.Var]string{
	expr.RealURI: "$REAL_URI", expr.Method: "$METHOD", expr.QueryString: "$QUERY_STRING",
	expr.DocRoot: "$DOCROOT", expr.Hostname: "$HOSTNAME", expr.Request: "$REQUEST",
	expr.ClientIP: "$CLIENTIP", expr.KeepAlive: "$KEEPALIVE", expr.ServerName: "the server name",
	expr.ServerPort: "the server port", expr.MainArgs: "$r->main->args",
}

// HasMain reports that the request is not a subrequest.
func (r *run) HasMain() bool { return false }

// names finds the entries of a list by name: by scanning while the list
// is short, as it nearly always is, and through a map once it is long,
// so that a table that makes thousands of %CTX entries or notes does
// not make its translation quadratic.
type names struct{ m map[string]int }

// indexFrom is the length of a list from which names keeps a map.
const indexFrom = 16

// find returns the index of the entry named name among the n entries
// whose names at returns, or -1.
func (x *names) find(name string, n int, at func(int) string) int {
	if x.m != nil {
		if i, ok := x.m[name]; ok {
			return i
		}
		return -1
	}
	for i := range n {
		if at(i) == name {
			return i
		}
	}
	return -1
}

// added records the entry i, the last of the list, named name.
func (x *names) added(name string, i int, at func(int) string) {
	switch {
	case x.m != nil:
		x.m[name] = i
	case i+1 >= indexFrom:
		x.m = make(map[string]int, 2*(i+1))
		for j := 0; j <= i; j++ {
			x.m[at(j)] = j
		}
	}
}

func (r *run) ctxName(i int) string { return r.ctxVars[i].name }

// CTX returns %CTX's entry.
func (r *run) CTX(key string) expr.Value {
	if i := r.ctxNames.find(key, len(r.ctxVars), r.ctxName); i >= 0 {
		return r.ctxVars[i].val
	}
	return expr.Undef()
}

// SetCTX sets %CTX's entry. The size of what it keeps counts as work
// too: measuring an array shared many times over walks its elements.
func (r *run) SetCTX(key string, x expr.Value) error {
	if i := r.ctxNames.find(key, len(r.ctxVars), r.ctxName); i >= 0 {
		return r.keepValue(&r.ctxVars[i].val, x)
	}
	size := x.Size(MaxKept)
	if err := r.Spend(int64(size)); err != nil {
		return err
	}
	if err := r.keep(entryCost+len(key)+size, 0); err != nil {
		return err
	}
	r.ctxVars = append(r.ctxVars, ctxVar{key, x})
	r.ctxNames.added(key, len(r.ctxVars)-1, r.ctxName)
	return nil
}

func (r *run) noteName(i int) string { return r.notes[i].Name }

// note returns the note named key, nil when there is none.
func (r *run) note(key string) *Note {
	if i := r.noteNames.find(key, len(r.notes), r.noteName); i >= 0 {
		return &r.notes[i]
	}
	return nil
}

// addNote appends a new note.
func (r *run) addNote(key, v string) {
	r.notes = append(r.notes, Note{Name: key, Values: []string{v}})
	r.noteNames.added(key, len(r.notes)-1, r.noteName)
}

// Note returns the first value of a note.
func (r *run) Note(key string) expr.Value {
	if n := r.note(key); n != nil && len(n.Values) > 0 {
		return expr.Str(n.Values[0])
	}
	return expr.Undef()
}

// SetNote replaces the values of a note.
func (r *run) SetNote(key string, x expr.Value) error {
	v := x.String()
	if n := r.note(key); n != nil {
		dropped := 0
		for _, old := range n.Values {
			dropped += len(old)
		}
		if err := r.keep(entryCost+len(v), dropped+entryCost*len(n.Values)); err != nil {
			return err
		}
		n.Values = append(n.Values[:0:0], v)
		return nil
	}
	if err := r.keep(2*entryCost+len(key)+len(v), 0); err != nil {
		return err
	}
	r.addNote(key, v)
	return nil
}

// AddNote adds a value to a note.
func (r *run) AddNote(key string, x expr.Value) error {
	v := x.String()
	n := r.note(key)
	size := entryCost + len(v)
	if n == nil {
		size += entryCost + len(key)
	}
	if err := r.keep(size, 0); err != nil {
		return err
	}
	if n != nil {
		n.Values = append(n.Values, v)
		return nil
	}
	r.addNote(key, v)
	return nil
}

// errKept is the error of an action that would make its translation
// keep more than MaxKept bytes.
var errKept = fmt.Errorf("%w: the translation would keep more than %d bytes in %%CTX, notes, configuration and errors", expr.ErrLimit, MaxKept)

// entryCost is what an entry kept (a %CTX entry, a note or one of its
// values, a configuration pair, a reported error) costs beside its
// strings, roughly: the empty ones cost memory too.
const entryCost = 48

// keep accounts for add bytes kept in place of drop bytes, or fails with
// errKept when the translation would keep more than MaxKept.
func (r *run) keep(add, drop int) error {
	if r.kept+add-drop > MaxKept {
		return errKept
	}
	r.kept += add - drop
	return nil
}

// keepValue stores x in *v, a value the translation keeps (a %CTX
// entry, $DEBUG, $RC): what x holds counts as work, and against MaxKept
// in place of what *v held, so that no table can keep growing one (an
// array holding the last, say).
func (r *run) keepValue(v *expr.Value, x expr.Value) error {
	size := x.Size(MaxKept)
	if err := r.Spend(int64(size)); err != nil {
		return err
	}
	if err := r.keep(size, v.Size(MaxKept)); err != nil {
		return err
	}
	*v = x
	return nil
}

// Header returns a request header, matched case-insensitively: each read
// scans the headers, and counts as work.
func (r *run) Header(name string) expr.Value {
	r.charge(int64(8 * len(r.req.Header))) // a read cannot fail: the translation ends
	r.read.header(name)
	if v, ok := r.req.header(name); ok {
		return expr.Str(v)
	}
	return expr.Undef()
}

// Arg returns $ARGV[i] of the innermost Call.
func (r *run) Arg(i int) expr.Value {
	if len(r.argv) == 0 {
		return expr.Undef()
	}
	args := r.argv[len(r.argv)-1]
	if i < 0 {
		i += len(args)
	}
	if i < 0 || i >= len(args) {
		return expr.Undef()
	}
	return args[i]
}

// The request's own properties, each read recorded for the decision
// cache (see reads).

func (r *run) method() string {
	r.read.mask |= readMethod
	return r.req.method()
}

func (r *run) args() string {
	r.read.mask |= readArgs
	return r.req.Args
}

func (r *run) clientIP() string {
	r.read.mask |= readClientIP
	return r.req.ClientIP
}

// hostname finds the host name once: it scans the headers when the
// request gives no Host, and a table may read it thousands of times.
func (r *run) hostname() string {
	if r.read.mask&readHostname == 0 {
		r.read.mask |= readHostname
		r.host = r.req.hostname()
	}
	return r.host
}

func (r *run) https() bool {
	r.read.mask |= readHTTPS
	return r.req.https()
}

func (r *run) port() int {
	r.read.mask |= readPort
	return r.req.port()
}

// realURI is $r->unparsed_uri: the request target as received.
func (r *run) realURI() string {
	if args := r.args(); args != "" {
		return r.req.URI + "?" + args
	}
	return r.req.URI
}

// location builds the Location of a redirect as upstream does: a url
// with a scheme as it is; else a path relative to $URI's directory unless
// it starts with '/', on the request's host (the Host header without its
// port), scheme and port (left out when it is the scheme's own).
func (r *run) location(url string) string {
	if hasScheme(url) {
		return url
	}
	if !strings.HasPrefix(url, "/") {
		base := r.uri
		if i := strings.LastIndexByte(base, '/'); i >= 0 {
			base = base[:i+1]
		} else {
			base = "" // as upstream's s![^/]*$!!: "*" gives a host and no path
		}
		url = base + url
	}
	host := stripPort(r.Header("Host").String())
	if host == "" {
		host = r.hostname()
	}
	scheme, port := "http", r.port()
	if r.https() {
		scheme = "https"
	}
	if scheme == "https" && port == 443 || scheme == "http" && port == 80 {
		return scheme + "://" + host + url
	}
	return scheme + "://" + host + ":" + strconv.Itoa(port) + url
}

// hasScheme reports whether url starts with a scheme: ^\w+:.
func hasScheme(url string) bool {
	i := 0
	for i < len(url) && isWordByte(url[i]) {
		i++
	}
	return i > 0 && i < len(url) && url[i] == ':'
}

// errWork is the error of an action whose work would take its
// translation past MaxWork.
var errWork = fmt.Errorf("%w: the translation's actions would build, compare or match more than %d bytes (a row run counting %d a byte of its action)", expr.ErrLimit, MaxWork, rowCost)

// Spend counts the work of an action against MaxWork, for all the
// actions of the translation together.
func (r *run) Spend(n int64) error {
	if r.work += n; r.work > MaxWork {
		return errWork
	}
	return nil
}

// charge counts work of the translation's own (reading a variable,
// fetching a list) against MaxWork; past it the translation ends, and
// charge returns the abort.
func (r *run) charge(n int64) error {
	if err := r.Spend(n); err != nil {
		return r.exceeded(err)
	}
	return nil
}

// built returns a string a variable's read made, counting it as work;
// past MaxWork the translation ends (the read itself cannot fail).
func (r *run) built(s string) expr.Value {
	r.charge(int64(len(s)))
	return expr.Str(s)
}
