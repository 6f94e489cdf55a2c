package expr

import (
	"errors"
	"maps"
	"slices"
	"strings"
)

// testEnv is a request for tests: plain maps, ServerName and ServerPort
// read-only as in the engine.
type testEnv struct {
	vars    [NumVars]Value
	main    bool
	ctx     map[string]Value
	notes   map[string][]Value
	headers map[string]Value // lower-case names
	args    []Value
	work    int64 // spent (Spend)
	maxWork int64 // refused past it; 0: no bound
}

var errReadOnly = errors.New("read-only")

func newTestEnv() *testEnv {
	e := &testEnv{
		ctx:     map[string]Value{"lang": Str("de")},
		notes:   map[string][]Value{},
		headers: map[string]Value{"host": Str("www.xyz.de:8080"), "user-agent": Str("test")},
	}
	e.vars[URI] = Str("/uri/klaus")
	e.vars[RealURI] = Str("/uri/klaus?a=1")
	e.vars[Method] = Str("GET")
	e.vars[QueryString] = Str("a=1")
	e.vars[DocRoot] = Str("/var/www")
	e.vars[Hostname] = Str("www.xyz.de")
	e.vars[Request] = Str("GET /uri/klaus?a=1 HTTP/1.1")
	e.vars[ClientIP] = Str("192.0.2.7")
	e.vars[KeepAlive] = Int(1)
	e.vars[MatchedURI] = Str("/uri")
	e.vars[MatchedPathInfo] = Str("/klaus")
	e.vars[Key] = Str("default")
	e.vars[State] = Int(1)
	e.vars[ServerName] = Str("localhost")
	e.vars[ServerPort] = Int(8080)
	return e
}

func (e *testEnv) Get(v Var) Value { return e.vars[v] }

func (e *testEnv) Set(v Var, x Value) error {
	if v == ServerName || v == ServerPort || v == MainArgs {
		return errReadOnly
	}
	e.vars[v] = x
	return nil
}

// Spend counts the work, and refuses it past maxWork.
func (e *testEnv) Spend(n int64) error {
	if e.work += n; e.maxWork > 0 && e.work > e.maxWork {
		return errTooMuchWork
	}
	return nil
}

var errTooMuchWork = errors.New("too much work")

func (e *testEnv) HasMain() bool                   { return e.main }
func (e *testEnv) CTX(k string) Value              { return e.ctx[k] }
func (e *testEnv) SetCTX(k string, x Value) error  { e.ctx[k] = x; return nil }
func (e *testEnv) SetNote(k string, x Value) error { e.notes[k] = []Value{x}; return nil }
func (e *testEnv) AddNote(k string, x Value) error { e.notes[k] = append(e.notes[k], x); return nil }
func (e *testEnv) Header(name string) Value        { return e.headers[strings.ToLower(name)] }

func (e *testEnv) Note(k string) Value {
	if v := e.notes[k]; len(v) > 0 {
		return v[0]
	}
	return Undef()
}

func (e *testEnv) Arg(i int) Value {
	if i < 0 {
		i += len(e.args)
	}
	if i < 0 || i >= len(e.args) {
		return Undef()
	}
	return e.args[i]
}

// noteStrings returns the values of a note as strings.
func (e *testEnv) noteStrings(k string) []string {
	var out []string
	for _, v := range e.notes[k] {
		out = append(out, v.String())
	}
	return out
}

// state shows %CTX, sorted by key, and $KEY: "k=v ... $KEY=v".
func (e *testEnv) state() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(e.ctx)) {
		parts = append(parts, k+"="+show(e.ctx[k]))
	}
	return strings.Join(append(parts, "$KEY="+show(e.vars[Key])), " ")
}

// eval compiles and evaluates src in scalar context.
func eval(env Env, src string) (Value, error) {
	p, err := Compile(src)
	if err != nil {
		return Undef(), err
	}
	return p.Scalar(env)
}

// evalList compiles and evaluates src in list context.
func evalList(env Env, src string) ([]Value, error) {
	p, err := Compile(src)
	if err != nil {
		return nil, err
	}
	return p.List(env)
}

// show renders a value for comparisons in tests: undef as "<undef>",
// references as [elem, ...].
func show(v Value) string {
	if v.IsUndef() {
		return "<undef>"
	}
	if elems, ok := v.Elems(); ok {
		return "[" + showList(elems) + "]"
	}
	return v.String()
}

func showList(vs []Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = show(v)
	}
	return strings.Join(parts, ", ")
}
