package engine

import (
	"errors"
	"strings"
	"unsafe"

	"transdb/engine/expr"
)

// kind is what an action does: its keyword.
type kind uint8

const (
	kindUnknown kind = iota // not an action: skipped, but counts as executed
	kindCond
	kindDo
	kindFixup
	kindDone
	kindLast
	kindState
	kindKey
	kindURI
	kindFile
	kindRestart
	kindCall
	kindRedirect
	kindError
	kindProxy
	kindPerlHandler
	kindDoc
	kindCgiScript
	kindPerlScript
	kindConfig
	kindFixupConfig
)

// keywords maps the lower-cased keywords to their kinds (cond is found
// before the split, as upstream does).
var keywords = map[string]kind{
	"do":          kindDo,
	"fixup":       kindFixup,
	"done":        kindDone,
	"last":        kindLast,
	"state":       kindState,
	"key":         kindKey,
	"uri":         kindURI,
	"file":        kindFile,
	"restart":     kindRestart,
	"call":        kindCall,
	"redirect":    kindRedirect,
	"error":       kindError,
	"proxy":       kindProxy,
	"perlhandler": kindPerlHandler,
	"doc":         kindDoc,
	"cgiscript":   kindCgiScript,
	"perlscript":  kindPerlScript,
	"config":      kindConfig,
	"fixupconfig": kindFixupConfig,
}

// An action is the compiled form of one row's action text.
type action struct {
	kind kind
	// present is set when the action was written with an argument,
	// which may be empty or blank.
	present bool
	// compiled is set when the action has a compiled argument, prog;
	// it has none when there is no argument, when it is blank, or when
	// it does not compile (then err says why, and the argument evaluates
	// to undef, as a Perl compile error does upstream). The program is
	// kept in the action, not beside it, so that running a row reads one
	// object (an action is compiled once and read on every request whose
	// walk reaches its row); an action may be copied.
	compiled bool
	prog     expr.Program
	err      error
	// text is the row's action text, to tell a cached action from the
	// row of a reused ID.
	text string
}

// footprint estimates from above the memory a cached action keeps: its
// entry, its text, its program or its error.
func (a *action) footprint() int {
	n := int(unsafe.Sizeof(cacheEntry{})) + len(a.text)
	if a.compiled {
		n += a.prog.Footprint()
	}
	if a.err != nil {
		n += len(a.err.Error())
	}
	return n
}

// context returns the context the argument of an action of kind k is
// evaluated in.
func (k kind) context() expr.Context {
	switch k {
	case kindError, kindRedirect, kindRestart, kindCall, kindDoc, kindConfig, kindFixupConfig:
		return expr.ListContext
	}
	return expr.ScalarContext
}

// errUnknown is the error of a row whose text is no action: upstream
// skips it with a warning, and it counts as executed.
var errUnknown = errors.New("unknown action: skipped")

// parseAction classifies an action's text as Apache2::Translation does
// (EVALUATION.md section 1.2) and compiles its argument.
func parseAction(text string) *action {
	a := &action{text: text}
	kw, arg, present := splitAction(text)
	a.kind, a.present = kw, present
	switch {
	case kw == kindUnknown:
		a.err = errUnknown
	case present && strings.TrimSpace(arg) != "":
		var p *expr.Program
		if p, a.err = expr.CompileFor(arg, kw.context()); p != nil {
			a.prog, a.compiled = *p, true
		}
	}
	return a
}

// splitAction returns the kind and argument of an action text, and
// whether it has an argument (which may be blank: upstream evaluates a
// blank argument, to undef).
func splitAction(text string) (k kind, arg string, present bool) {
	// Cond: at the very start, case-insensitive, then optional white
	// space and at least one character.
	if len(text) > 5 && strings.EqualFold(text[:5], "cond:") {
		return kindCond, strings.TrimLeft(text[5:], " \t\r\n\f\v"), true
	}
	if text == "" {
		return kindUnknown, "", false
	}
	if !isWordByte(text[0]) {
		// Bare code: the whole text is a Do.
		return kindDo, text, true
	}
	i := 0
	for i < len(text) && isWordByte(text[i]) {
		i++
	}
	k, known := keywords[strings.ToLower(text[:i])]
	if !known {
		return kindUnknown, "", false
	}
	// An argument only when the keyword is followed at once by ':' and at
	// least one more character; the white space after the colon goes.
	if i+1 < len(text) && text[i] == ':' {
		return k, strings.TrimLeft(text[i+1:], " \t\r\n\f\v"), true
	}
	return k, "", false
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
