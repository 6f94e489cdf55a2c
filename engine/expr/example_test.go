package expr_test

import (
	"errors"
	"fmt"
	"strings"

	"transdb/engine/expr"
)

// request is a minimal expr.Env: a few variables, %CTX and the notes.
type request struct {
	vars  map[expr.Var]expr.Value
	ctx   map[string]expr.Value
	notes map[string][]expr.Value
	work  int64
}

// Spend bounds the work of all the evaluations of one request.
func (r *request) Spend(n int64) error {
	if r.work += n; r.work > 64<<20 {
		return errors.New("more work than one request may do")
	}
	return nil
}

func (r *request) Get(v expr.Var) expr.Value            { return r.vars[v] }
func (r *request) Set(v expr.Var, x expr.Value) error   { r.vars[v] = x; return nil }
func (r *request) HasMain() bool                        { return false }
func (r *request) CTX(k string) expr.Value              { return r.ctx[k] }
func (r *request) SetCTX(k string, x expr.Value) error  { r.ctx[k] = x; return nil }
func (r *request) SetNote(k string, x expr.Value) error { r.notes[k] = []expr.Value{x}; return nil }
func (r *request) AddNote(k string, x expr.Value) error {
	r.notes[k] = append(r.notes[k], x)
	return nil
}
func (r *request) Header(name string) expr.Value { return expr.Undef() }
func (r *request) Arg(i int) expr.Value          { return expr.Undef() }
func (r *request) Note(k string) expr.Value {
	if v := r.notes[k]; len(v) > 0 {
		return v[0]
	}
	return expr.Undef()
}

func newRequest() *request {
	return &request{
		vars: map[expr.Var]expr.Value{
			expr.DocRoot:         expr.Str("/var/www"),
			expr.Hostname:        expr.Str("www.xyz.de"),
			expr.MatchedPathInfo: expr.Str("/img.png"),
		},
		ctx:   map[string]expr.Value{},
		notes: map[string][]expr.Value{},
	}
}

// A Cond action: compile once, evaluate per request in scalar context.
func ExampleProgram_Scalar() {
	cond, err := expr.Compile(`$HOSTNAME =~ /\.de$/ and $CTX{lang} = 'de'`)
	if err != nil {
		panic(err)
	}
	file, err := expr.Compile(`$DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`)
	if err != nil {
		panic(err)
	}
	r := newRequest()
	ok, _ := cond.Scalar(r)
	path, _ := file.Scalar(r)
	fmt.Println(ok.Truth(), path)
	// Output: true /var/www/de/img.png
}

// A Config action evaluates in list context; array references carry a
// location.
func ExampleProgram_List() {
	p, err := expr.Compile(`'AuthType Basic', ['AuthName "secret"', '/private']`)
	if err != nil {
		panic(err)
	}
	entries, _ := p.List(newRequest())
	for _, e := range entries {
		if elems, ok := e.Elems(); ok {
			fmt.Printf("%s at %s\n", elems[0], elems[1])
		} else {
			fmt.Println(e)
		}
	}
	// Output:
	// AuthType Basic
	// AuthName "secret" at /private
}

// Perl the language does not offer is reported as unsupported, so that a
// table check can list such rows.
func ExampleCompile_unsupported() {
	_, err := expr.Compile(`sub { my $r = shift; $r->print("x"); 0 }`)
	e := err.(*expr.Error)
	fmt.Println(e.Unsupported, strings.TrimPrefix(e.Msg, "code references "))
	// Output: true (sub {...}) cannot be evaluated
}
