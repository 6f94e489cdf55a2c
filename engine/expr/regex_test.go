package expr

import (
	"errors"
	"regexp/syntax"
	"runtime"
	"strings"
	"testing"
)

// TestPatternSizeIsAtLeastCompiled: the size estimated from a pattern's
// tree is never below the instructions it compiles to, and not far above.
func TestPatternSizeIsAtLeastCompiled(t *testing.T) {
	for _, p := range []string{
		`a`, `abc`, `^/static/`, `^/(foo|bar|baz)/(\d+)$`, `(?i)www\.xyz\.de`,
		`(ab){1000}`, `[a-z]{1,1000}`, `x{2,}`, `(a|b)*c+d?`, `(?:\n?\z)`,
		`((a{10}){10}){10}`, `(a{0})b`, `\w+@\w+\.\w{2,4}`, `.*`, `(?s).`,
	} {
		tree, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		prog, err := syntax.Compile(tree.Simplify())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got, compiled := 2+patternSize(tree, MaxPatterns), len(prog.Inst)
		if got < compiled || got > 2*compiled+4 {
			t.Errorf("%s: estimated %d instructions, compiled to %d", p, got, compiled)
		}
	}
	tree, err := syntax.Parse(`(abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz){1000}`, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	if got := patternSize(tree, MaxPatterns); got <= MaxPatterns || got > 2*MaxPatterns {
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
		{strings.Repeat(unit, 6) + "1", true},
		{strings.Repeat(unit, 7) + "1", false},
		{strings.Repeat(unit, (MaxSource-1)/len(unit)) + "1", false},
		{`$URI =~ /(abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz){1000}/`, false},
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
