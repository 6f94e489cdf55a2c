package bench

import (
	"testing"

	exprlang "github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"transdb/engine/expr"
)

// exprEnv is the request of BenchmarkExprVsExprLang for transdb's
// evaluator: the few variables the expressions read, and %CTX.
type exprEnv struct {
	docRoot, hostname, matchedPathInfo expr.Value
	ctx                                map[string]expr.Value
	work                               int64
}

func (e *exprEnv) Get(v expr.Var) expr.Value {
	switch v {
	case expr.DocRoot:
		return e.docRoot
	case expr.Hostname:
		return e.hostname
	case expr.MatchedPathInfo:
		return e.matchedPathInfo
	}
	return expr.Undef()
}

func (e *exprEnv) Set(expr.Var, expr.Value) error      { return nil }
func (e *exprEnv) HasMain() bool                       { return false }
func (e *exprEnv) CTX(k string) expr.Value             { return e.ctx[k] }
func (e *exprEnv) SetCTX(k string, x expr.Value) error { e.ctx[k] = x; return nil }
func (e *exprEnv) Note(string) expr.Value              { return expr.Undef() }
func (e *exprEnv) SetNote(string, expr.Value) error    { return nil }
func (e *exprEnv) AddNote(string, expr.Value) error    { return nil }
func (e *exprEnv) Header(string) expr.Value            { return expr.Undef() }
func (e *exprEnv) Arg(int) expr.Value                  { return expr.Undef() }

// Spend counts the work as the engine does, without its bound: the
// benchmark evaluates millions of times in one environment.
func (e *exprEnv) Spend(n int64) error { e.work += n; return nil }

// BenchmarkExprVsExprLang evaluates the same expressions, each compiled
// once, with transdb's Perl-subset evaluator (engine/expr) and
// with github.com/expr-lang/expr: the per-request cost of an action.
func BenchmarkExprVsExprLang(b *testing.B) {
	ours := &exprEnv{
		docRoot:         expr.Str("/var/www"),
		hostname:        expr.Str("www.xyz.de"),
		matchedPathInfo: expr.Str("/img.png"),
		ctx:             map[string]expr.Value{"lang": expr.Str("de")},
	}
	// expr-lang is faster with a map env than with a struct env (field
	// access through reflection), so it gets the map.
	theirs := map[string]any{
		"DocRoot":         "/var/www",
		"Hostname":        "www.xyz.de",
		"MatchedPathInfo": "/img.png",
		"Ctx":             map[string]string{"lang": "de"},
	}
	cases := []struct {
		name, ours, theirs, want string
	}{
		{"concat", `$DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`, `DocRoot + "/" + Ctx.lang + MatchedPathInfo`, "/var/www/de/img.png"},
		{"compare", `$HOSTNAME eq 'www.xyz.de'`, `Hostname == "www.xyz.de"`, "true"},
		{"regex", `$HOSTNAME =~ /de$/`, `Hostname matches "de$"`, "true"},
		{"hash", `$CTX{lang}`, `Ctx.lang`, "de"},
		// /de$/ above is a literal suffix test for transdb; this pattern
		// runs the RE2 engine on both sides.
		{"regex-re2", `$HOSTNAME =~ /^(?:www\.)?xyz\.(?:com|de)$/`, `Hostname matches "^(?:www\\.)?xyz\\.(?:com|de)$"`, "true"},
	}
	for _, c := range cases {
		b.Run(c.name+"/transdb", func(b *testing.B) {
			p, err := expr.Compile(c.ours)
			if err != nil {
				b.Fatal(err)
			}
			v, err := p.Scalar(ours)
			if got := v.String(); err != nil || got != c.want && !(c.want == "true" && v.Truth()) {
				b.Fatalf("%s = %q, %v", c.ours, got, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Scalar(ours); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/expr-lang", func(b *testing.B) {
			p, err := exprlang.Compile(c.theirs, exprlang.Env(theirs))
			if err != nil {
				b.Fatal(err)
			}
			var m vm.VM
			v, err := m.Run(p, theirs)
			if err != nil || toString(v) != c.want {
				b.Fatalf("%s = %v, %v", c.theirs, v, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Run(p, theirs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return "?"
}
