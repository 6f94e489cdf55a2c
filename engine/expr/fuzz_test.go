package expr

import (
	"errors"
	"strings"
	"testing"
)

// testSources returns every expression the tests use.
func testSources() []string {
	var srcs []string
	for _, table := range [][]struct{ src, want string }{
		perlCases, interpolationCases, variableCases, assignmentSteps, listCases,
		documentedCases, captureCases, regexCases, statementCases, functionCases,
	} {
		for _, c := range table {
			srcs = append(srcs, c.src)
		}
	}
	for _, c := range assignmentStates {
		srcs = append(srcs, c.src)
	}
	for _, list := range [][]string{unsupportedSources, syntaxErrorSources, re2RejectedSources} {
		srcs = append(srcs, list...)
	}
	return srcs
}

// FuzzCompileEval compiles arbitrary input and evaluates what compiles in
// both contexts: no panic, errors of the documented kinds, and bounded
// results.
func FuzzCompileEval(f *testing.F) {
	for _, src := range testSources() {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Runtime || e.Pos < -1 || e.Pos > len(src) || e.Msg == "" {
				t.Fatalf("Compile(%q): bad error %#v", src, err)
			}
			return
		}
		check := func(v Value) {
			if len(v.String()) > MaxString {
				t.Fatalf("%q: result of %d bytes", src, len(v.String()))
			}
		}
		checkErr := func(err error) {
			var e *Error
			if err != nil && (!errors.As(err, &e) || !e.Runtime) {
				t.Fatalf("%q: evaluation error %#v is not a runtime *Error", src, err)
			}
		}
		env := newTestEnv()
		env.args = []Value{Str("a"), Int(1)}
		v, err := p.Scalar(env)
		checkErr(err)
		check(v)
		for _, x := range env.ctx {
			check(x)
		}
		l, err := p.List(newTestEnv())
		checkErr(err)
		// A term of the source gives an element, a list repetition
		// up to MaxString bytes of them.
		most := len(src) + 1
		if strings.Contains(src, "x") {
			most *= MaxString / valueSize
		}
		if len(l) > most {
			t.Fatalf("%q: list of %d elements", src, len(l))
		}
		for _, x := range l {
			check(x)
		}
	})
}
