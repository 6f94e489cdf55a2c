package expr

import (
	"errors"
	"math/rand/v2"
	"regexp/syntax"
	"runtime"
	"strings"
	"testing"
)

// TestPatternSizeIsAtLeastCompiled: the size estimated from a pattern's
// tree is never below the instructions it compiles to (and the ranges of
// its classes), and not far above; nor is the bound from its text below
// what its tree counts before repeats.
func TestPatternSizeIsAtLeastCompiled(t *testing.T) {
	check := func(p string, tight bool) {
		t.Helper()
		tree, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			return
		}
		prog, err := syntax.Compile(tree.Simplify())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		ranges := 0
		for _, in := range prog.Inst {
			ranges += len(in.Rune) / 2
		}
		got, compiled := 2+patternSize(tree, MaxPatterns, true), len(prog.Inst)
		if got < compiled || tight && got > 4*(compiled+ranges)+4 {
			t.Errorf("%s: estimated %d, compiled to %d instructions with %d ranges", p, got, compiled, ranges)
		}
		if !strings.Contains(p, "{") && parseSize(p) < got-2 {
			t.Errorf("%s: %d from its text, %d from its tree", p, parseSize(p), got-2)
		}
	}
	for _, p := range []string{
		`a`, `abc`, `^/static/`, `^/(foo|bar|baz)/(\d+)$`, `(?i)www\.xyz\.de`,
		`(ab){1000}`, `[a-z]{1,1000}`, `x{2,}`, `(a|b)*c+d?`, `(?:\n?\z)`,
		`((a{10}){10}){10}`, `(a{0})b`, `\w+@\w+\.\w{2,4}`, `.*`, `(?s).`,
		`(a*)*`, `((((a*)*)*)*)*`, `a{0}`, `\pL`, `[\pL\pN\pM\pS]`, `(?i)[^\p{Lu}\pN]`,
		`(?:(((((()*)*)*)*)*)*){1000}`, `(?i)[a-z]+\.[k-s]`, `\b|^|$`,
	} {
		check(p, true)
	}
	// Random patterns from a small grammar, with the shapes whose
	// compiled form differs from their tree: empty operands, nested
	// repeats, classes.
	r := rand.New(rand.NewPCG(1, 2))
	atoms := []string{"a", "b", ".", `\d`, "[a-c]", `\pL`, "()", "(?:)", "^", "$", `\b`, "(?i)k", "[^x]"}
	suffixes := []string{"", "*", "+", "?", "*?", "{0}", "{2}", "{0,3}", "{2,}", "{1,}", "{3,5}"}
	var gen func(depth int) string
	gen = func(depth int) string {
		var b strings.Builder
		for range 1 + r.IntN(3) {
			if depth > 0 && r.IntN(3) == 0 {
				b.WriteString("(" + gen(depth-1))
				if r.IntN(2) == 0 {
					b.WriteString("|" + gen(depth-1))
				}
				b.WriteString(")")
			} else {
				b.WriteString(atoms[r.IntN(len(atoms))])
			}
			b.WriteString(suffixes[r.IntN(len(suffixes))])
		}
		return b.String()
	}
	for range 20000 {
		check(gen(4), false)
	}
	tree, err := syntax.Parse(`(abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz){1000}`, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	if got := patternSize(tree, MaxPatterns, true); got <= MaxPatterns || got > 2*MaxPatterns {
		t.Errorf("a pattern of 55,000 instructions: estimated %d, want just past the limit", got)
	}
}

// TestPatternsOfASourceAreBounded: counted repeats cannot make a short
// source compile to a large program. 64 KiB of /(ab){1000}/ once took 2
// GiB to compile and kept 619 MiB; now the source is refused when its
// patterns pass MaxPatterns, and refusing it costs little. (Go's parser
// bounds nested repeats to 1,000 copies, not the size of what is
// repeated.)
func TestPatternsOfASourceAreBounded(t *testing.T) {
	unit := `$1 =~ /(ab){1000}/;`
	for _, tt := range []struct {
		src string
		ok  bool
	}{
		{strings.Repeat(unit, 5) + "1", true},
		{strings.Repeat(unit, 6) + "1", false},
		{strings.Repeat(unit, (MaxSource-1)/len(unit)) + "1", false},
		{`$URI =~ /(abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz){1000}/`, false},
		// Unicode classes have hundreds of ranges each, made by parsing.
		{`$URI =~ /` + strings.Repeat(`\pL`, (MaxSource-20)/3) + `/`, false},
		{strings.Repeat(`$URI=~/\p{Lu}/i,`, (MaxSource-1)/16) + "1", false},
		{strings.Repeat(`$URI=~/\p{Lu}/i,`, 40) + "1", true},
		// Folding a range beyond ASCII takes milliseconds: at most 15.
		{strings.Repeat(`$URI=~/[B-\x{1E942}]/i,`, 15) + "1", true},
		{strings.Repeat(`$URI=~/[B-\x{1E942}]/i,`, 16) + "1", false},
		{`$URI =~ /(?i)` + strings.Repeat(`[B-\x{1E942}]`, 5000) + `/`, false},
		{strings.Repeat(`$URI=~/[a-z][0-9]-/i,`, 100) + "1", true},
		// Only ranges of classes count, and only in a folding pattern.
		{`$URI =~ m{^/(?:über-uns|daten-schutz|a-b|c-d|e-f|g-h|i-j|k-l|m-n|o-p|q-r|s-t|u-v|w-x|y-z|neu-hier)/}`, true},
		{`$URI =~ m{^/(?i:über-uns|[a-z]+-[0-9]+)/}`, true},
		{`$URI =~ m{(?-i)` + strings.Repeat(`[ä-ü]`, 20) + `}`, true},
		{`$URI =~ m{(?si)` + strings.Repeat(`[ä-ü]`, 20) + `}`, false},
		{`$URI =~ /^(abcdefghij){1000}/ ? "$CTX{$URI =~ /(abcdefghij){1000}/ ? 'a' : 'b'}" : 0`, true},
		{`$URI =~ /^(abcdefghij){1000}/ ? "$CTX{$URI =~ /(abcdefghij){1000}/ ? 'a' : 'b'}" : $URI =~ /^(abcdefghij){1000}/`, false},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := CompileFor(tt.src, ScalarContext|ListContext)
		runtime.ReadMemStats(&after)
		name := tt.src[:min(len(tt.src), 60)]
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || !e.Unsupported || !strings.Contains(e.Msg, "more than 32768 instructions") {
			t.Errorf("%s: %v, want the patterns refused", name, err)
		}
		// Each refused source compiles patterns worth MaxPatterns
		// instructions at most: about 8 MiB.
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
			t.Errorf("%s: %d MiB allocated to refuse it", name, got>>20)
		}
	}
}

// TestMatchWorkIsBounded: a match whose subject and pattern together
// would take seconds is a runtime error (a pattern of 30,000
// instructions on a 1 MiB subject took 2.5 minutes); groups recorded
// count; plain-text patterns and patterns of real size on long subjects
// match.
func TestMatchWorkIsBounded(t *testing.T) {
	env := newTestEnv()
	groups := "(a)" + strings.Repeat("|(a)", 999)
	for _, src := range []string{
		`('a' x 1000000) =~ /(?:a?){1000}(?:a?){1000}b/`,
		`('a' x 10000) =~ /(?:a?){1000}(?:a?){1000}b/ ? 1 : 0`,
		`('a' x 200) =~ /` + groups + `/ ? $1 : 0`,
		`join ',', ('a' x 200) =~ /` + groups + `/`,
	} {
		_, err := eval(env, src)
		var e *Error
		if !errors.As(err, &e) || !e.Runtime || !strings.Contains(e.Msg, "pattern match too costly") {
			t.Errorf("%.60s: err = %v, want the match refused", src, err)
		}
	}
	for _, tt := range []struct{ src, want string }{
		{`(('a' x 1000000) . 'b') =~ /ab$/`, "1"},
		{`(('a' x 65536) . 'b') =~ /^(a+)(?:[a-z]{1,8}\d*){5}b$/ ? length($1) : 0`, "65531"},
		{`('a' x 200) =~ /` + groups + `/`, "1"},
	} {
		v, err := eval(env, tt.src)
		if err != nil || v.String() != tt.want {
			t.Errorf("%.60s = %.60q, %v; want %q", tt.src, v.String(), err, tt.want)
		}
	}
}
