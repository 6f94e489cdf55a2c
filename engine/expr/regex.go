package expr

import (
	"errors"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// MaxPatterns is the most instructions the patterns of one source
// compile to together, a character class counting one more for each of
// its ranges. An instruction takes about 250 bytes to compile and 50 to
// keep; counted repeats multiply a pattern's size (/(ab){1000}/ counts
// about 6,000 in 10 bytes), and a Unicode class such as \pL has hundreds
// of ranges. Real patterns take a few to a few hundred; a source whose
// patterns take more is an unsupported construct.
const MaxPatterns = 1 << 15

// MaxMatchWork bounds the work of one match of a pattern that is not
// plain text: the subject's length plus one, times the pattern's
// instructions (as MaxPatterns counts them, a class as one), times one
// more for every 8 groups when the match records them; a subject that
// does not start with the literal text an anchored pattern starts with
// costs that text's length. Go's regexp matches in time linear in the subject,
// but in proportion to the pattern's size too, so a large pattern on a
// long string would take seconds. Past the bound the match is a runtime
// error. It allows any pattern of 250 instructions on a 64 KiB subject,
// and takes about 0.1 s at worst.
const MaxMatchWork = 1 << 24

// maxClassRanges is the most ranges one Unicode class (\p{...}, \P{...},
// case folded or not) has: \p{C} has 712.
const maxClassRanges = 720

// maxCaptures is the number of capture groups $1..$9 exposes.
const maxCaptures = 9

// litMode says how a pattern that is a plain literal is tested without
// running the regexp engine.
type litMode uint8

const (
	litNone     litMode = iota
	litExact            // ^lit$
	litPrefix           // ^lit
	litSuffix           // lit$
	litContains         // lit
)

// regex is a pattern compiled once, at Compile time. Patterns that are a
// plain literal, optionally anchored (/de$/, /^www\./), are answered with
// string comparisons; everything else runs Go's RE2 engine, whose matching
// time is linear in the subject.
type regex struct {
	re     *regexp.Regexp // nil in a literal mode
	insts  int            // of re, as MaxPatterns counts them, a class as one
	prefix string         // every match of re starts the subject with it
	lit    string
	mode   litMode
}

// captures holds $1..$9 of the last successful match of one evaluation.
type captures struct {
	subject string
	loc     [2 * (maxCaptures + 1)]int
	n       int // valid pairs in loc, the whole match included; 0 before any match
}

// get returns $n: undef before a successful match, for a group the last
// match did not have, and for a group that did not participate.
func (c *captures) get(n int) Value {
	if n >= c.n || c.loc[2*n] < 0 {
		return Undef()
	}
	return Str(c.subject[c.loc[2*n]:c.loc[2*n+1]])
}

// compileRegex translates a Perl pattern with its flags to RE2 and
// compiles it, adding its size to *spent. A pattern RE2 cannot express
// (backreferences, lookaround, possessive quantifiers, \G, \K), one
// that interpolates variables and one past the source's MaxPatterns are
// unsupported.
func compileRegex(pattern, flags string, pos int, spent *int) (*regex, error) {
	var fi, fm, fs, fx bool
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case 'i':
			fi = true
		case 'm':
			fm = true
		case 's':
			fs = true
		case 'x':
			fx = true
		case 'o':
		case 'g':
			return nil, unsupported(pos, "the pattern flag /g is not available")
		default:
			return nil, unsupported(pos, "the pattern flag /%c is not available", flags[i])
		}
	}
	if pattern == "" {
		return nil, unsupported(pos, "the empty pattern (reusing the last pattern) is not available")
	}
	if what := perlOnlyPattern(pattern); what != "" {
		return nil, unsupported(pos, "pattern: %s not available (patterns use RE2 syntax)", what)
	}
	if !fi && !fm && !fx {
		if lit, mode, ok := literalPattern(pattern); ok {
			return &regex{lit: lit, mode: mode}, nil
		}
	}
	body, err := translatePattern(pattern, fm, fx, pos)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if fi || fm || fs {
		prefix = "(?"
		if fi {
			prefix += "i"
		}
		if fm {
			prefix += "m"
		}
		if fs {
			prefix += "s"
		}
		prefix += ")"
	}
	// Parsing makes the ranges of each class: a pattern of many Unicode
	// classes is refused before that.
	folding := foldingSize(body, fi)
	if *spent+parseSize(body)+folding > MaxPatterns {
		return nil, tooLarge(pos)
	}
	tree, err := syntax.Parse(prefix+body, syntax.Perl)
	if err != nil {
		var serr *syntax.Error
		if errors.As(err, &serr) {
			switch serr.Code {
			case syntax.ErrInvalidPerlOp, syntax.ErrInvalidEscape, syntax.ErrInvalidRepeatOp:
				return nil, unsupported(pos, "pattern: %s %q (RE2 has no backreferences, lookaround or possessive quantifiers)", serr.Code, serr.Expr)
			}
			return nil, syntaxErr(pos, "pattern: %s %q", serr.Code, serr.Expr)
		}
		return nil, syntaxErr(pos, "pattern: %v", err)
	}
	// Sized from its tree, before anything is expanded; a program
	// also has an instruction to fail and one to match.
	if *spent += 2 + patternSize(tree, MaxPatterns, true) + folding; *spent > MaxPatterns {
		return nil, tooLarge(pos)
	}
	re, err := regexp.Compile(prefix + body)
	if err != nil {
		return nil, syntaxErr(pos, "pattern: %v", err)
	}
	return &regex{re: re, insts: 2 + patternSize(tree, MaxPatterns, false), prefix: anchoredPrefix(tree)}, nil
}

// anchoredPrefix returns the text every match of the pattern re starts
// the subject with when re is anchored at its start (^ without /m, \A):
// the literal text after the anchor, case sensitive, up to a U+FFFD
// (which also matches an invalid byte); "" when there is none.
func anchoredPrefix(re *syntax.Regexp) string {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	var b strings.Builder
	for _, s := range re.Sub[1:] {
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 {
			break
		}
		for _, c := range s.Rune {
			if c == utf8.RuneError {
				return b.String()
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

func tooLarge(pos int) error {
	return unsupported(pos, "pattern: the patterns of this source take more than %d instructions (counted repeats multiply a pattern's size, each range of a class counts, and more when case folding makes it wide)", MaxPatterns)
}

// parseSize bounds from its text what parsing pattern p makes, as
// MaxPatterns counts it, before the repeats that compiling expands: a
// character or range at most 4 ranges once case folded, a Unicode class
// at most maxClassRanges.
func parseSize(p string) int {
	return 4*len(p) + maxClassRanges*(strings.Count(p, `\p`)+strings.Count(p, `\P`))
}

// foldingSize is what MaxPatterns counts for the time parsing takes to
// fold the ranges of a case-insensitive pattern p (fold, or an inline
// flag) that reach beyond ASCII: about 2 ms for the widest, so each
// range of a class counts foldedRange when p may have such ranges.
func foldingSize(p string, fold bool) int {
	if !fold && !inlineFold(p) || isASCII(p) && !strings.Contains(p, `\x{`) {
		return 0
	}
	return foldedRange * classRanges(p)
}

// inlineFold reports whether p turns case folding on with an inline flag
// group such as (?i) or (?si:...).
func inlineFold(p string) bool {
	for i := 0; i+1 < len(p); i++ {
		switch {
		case p[i] == '\\':
			i++
		case p[i] == '(' && p[i+1] == '?':
			for j, off := i+2, false; j < len(p) && strings.IndexByte("imsU-", p[j]) >= 0; j++ {
				off = off || p[j] == '-'
				if p[j] == 'i' && !off {
					return true
				}
			}
		}
	}
	return false
}

// classRanges counts the '-' inside the character classes of p: its
// ranges, and a literal '-' at a class's end or start at most.
func classRanges(p string) int {
	n, in := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\\':
			i++
		case !in && c == '[':
			in = true
			if i+1 < len(p) && p[i+1] == '^' {
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++ // a leading ']' is a literal
			}
		case in && c == '[' && i+1 < len(p) && p[i+1] == ':':
			if end := strings.Index(p[i+2:], ":]"); end >= 0 {
				i += end + 3
			}
		case in && c == ']':
			in = false
		case in && c == '-':
			n++
		}
	}
	return n
}

// foldedRange is what foldingSize counts for a range that case folding
// may make wide: 15 of them in a source at most.
const foldedRange = MaxPatterns / 16

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// patternSize estimates from its tree how many instructions re compiles
// to, at least as many as it does, and with ranges adds the ranges of
// its classes; past limit it returns more than limit and stops counting.
func patternSize(re *syntax.Regexp, limit int, ranges bool) int {
	switch re.Op {
	case syntax.OpLiteral:
		return max(1, len(re.Rune))
	case syntax.OpCharClass:
		if ranges {
			return 1 + len(re.Rune)/2
		}
		return 1
	case syntax.OpCapture:
		return 2 + patternSize(re.Sub[0], limit, ranges)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		// A star whose operand can match empty compiles as (x+)?.
		return 2 + patternSize(re.Sub[0], limit, ranges)
	case syntax.OpConcat, syntax.OpAlternate:
		n := max(1, len(re.Sub))
		for _, sub := range re.Sub {
			if n += patternSize(sub, limit, ranges); n > limit {
				break
			}
		}
		return n
	case syntax.OpRepeat:
		// x{n,m} expands to m copies of x, each with an instruction to
		// take or skip it; x{n,} to n copies (or one, for x*), the last
		// repeated; x{0} to an empty match.
		copies := max(re.Min, re.Max, 1)
		one := 2 + patternSize(re.Sub[0], limit, ranges)
		if one > limit/copies {
			return limit + 1
		}
		return copies*one + 1
	}
	return 1
}

// affordable reports a runtime error when matching s would take more
// than MaxMatchWork, and spends the work in env: a plain-text pattern
// scans s once.
func (r *regex) affordable(env Env, s string, groups bool, pos int) error {
	if r.re == nil {
		return spend(env, pos, int64(len(s)))
	}
	if !strings.HasPrefix(s, r.prefix) {
		// match does not run the pattern.
		return spend(env, pos, int64(len(r.prefix)))
	}
	work := int64(len(s)+1) * int64(r.insts)
	if groups {
		work *= 1 + int64(r.re.NumSubexp()/8)
	}
	if work > MaxMatchWork {
		return limitErr(pos, "pattern match too costly: a subject of %d bytes against a pattern of %d instructions (at most %d for both, multiplied)", len(s), r.insts, MaxMatchWork)
	}
	return spend(env, pos, work)
}

// perlOnlyPattern names the Perl regex features RE2 lacks that appear in
// p, or returns "".
func perlOnlyPattern(p string) string {
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			if c := p[i]; '1' <= c && c <= '9' || c == 'g' || c == 'k' {
				return "backreferences are"
			}
		case strings.HasPrefix(p[i:], "(?="), strings.HasPrefix(p[i:], "(?!"),
			strings.HasPrefix(p[i:], "(?<="), strings.HasPrefix(p[i:], "(?<!"):
			return "lookaround assertions are"
		case strings.HasPrefix(p[i:], "(?>"):
			return "atomic groups are"
		case strings.HasPrefix(p[i:], "(?#"):
			return "(?#...) comments are"
		}
	}
	return ""
}

// perlDollar is what $ means in Perl without /m: the end of the subject
// or just before a final newline.
const perlDollar = `(?:\n?\z)`

// translatePattern rewrites the parts of a Perl pattern whose meaning
// differs in RE2: $ and \Z (end, or before a final newline), /x white space
// and comments. It rejects interpolated variables.
// perlSpaceClass returns Perl's \s, or \S when negated, in RE2: its
// POSIX class of white space, which has the vertical tab too, as a class
// of its own or as an item of one (an item, not characters, so that a
// "-" after it is no range: [\s-z] is a blank, "-" or "z").
func perlSpaceClass(negated, inClass bool) string {
	c := "[:space:]"
	if negated {
		c = "[:^space:]"
	}
	if inClass {
		return c
	}
	return "[" + c + "]"
}

func translatePattern(p string, multiline, extended bool, pos int) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				b.WriteByte(c)
				continue
			}
			i++
			d := p[i]
			switch {
			case d == 'Z' && !inClass:
				b.WriteString(perlDollar)
				continue
			case d == 'G' || d == 'K':
				return "", unsupported(pos, "pattern: \\%c is not available", d)
			case d == 's' || d == 'S':
				// Perl's \s matches a vertical tab too, RE2's not.
				b.WriteString(perlSpaceClass(d == 'S', inClass))
				continue
			}
			b.WriteByte(c)
			b.WriteByte(d)
		case inClass:
			if c == '[' && i+1 < len(p) && p[i+1] == ':' {
				if end := strings.Index(p[i+2:], ":]"); end >= 0 {
					b.WriteString(p[i : i+2+end+2])
					i += 2 + end + 1
					continue
				}
			}
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
				b.WriteByte(']')
			}
		case c == '$':
			if i+1 < len(p) && (isIdentChar(p[i+1]) || strings.IndexByte("{$:", p[i+1]) >= 0) {
				return "", unsupported(pos, "variables in patterns are not available (patterns are compiled once)")
			}
			if multiline {
				b.WriteByte('$')
			} else {
				b.WriteString(perlDollar)
			}
		case c == '@' && i+1 < len(p) && (isIdentStart(p[i+1]) || p[i+1] == '{' || p[i+1] == '$'):
			return "", unsupported(pos, "arrays in patterns are not available (write \\@ for a literal @)")
		case extended && isSpace(c):
		case extended && c == '#':
			for i+1 < len(p) && p[i+1] != '\n' {
				i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// literalPattern recognises a pattern that is plain text, optionally
// anchored with ^ and $: metacharacters other than the anchors, and
// escapes other than escaped punctuation, make it a real regex.
func literalPattern(p string) (lit string, mode litMode, ok bool) {
	start, end := 0, len(p)
	anchoredStart := strings.HasPrefix(p, "^")
	if anchoredStart {
		start = 1
	}
	anchoredEnd := false
	if end > start && p[end-1] == '$' && !escapedAt(p, end-1) {
		anchoredEnd = true
		end--
	}
	b := make([]byte, 0, end-start)
	for i := start; i < end; i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= end || isIdentChar(p[i+1]) || p[i+1] >= utf8.RuneSelf || p[i+1] == '\n' {
				return "", litNone, false
			}
			i++
			b = append(b, p[i])
		case strings.IndexByte(`^$.|?*+()[]{}@`, c) >= 0:
			return "", litNone, false
		default:
			b = append(b, c)
		}
	}
	if !utf8.Valid(b) {
		return "", litNone, false
	}
	switch {
	case anchoredStart && anchoredEnd:
		mode = litExact
	case anchoredStart:
		mode = litPrefix
	case anchoredEnd:
		mode = litSuffix
	default:
		mode = litContains
	}
	return string(b), mode, true
}

// escapedAt reports whether p[i] is preceded by an odd number of
// backslashes.
func escapedAt(p string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && p[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// matchLiteral tests a literal-mode pattern; $ also matches before a
// final newline, as in Perl.
func (r *regex) matchLiteral(s string) bool {
	lit := r.lit
	switch r.mode {
	case litExact:
		return s == lit || len(s) == len(lit)+1 && s[len(lit)] == '\n' && s[:len(lit)] == lit
	case litPrefix:
		return strings.HasPrefix(s, lit)
	case litSuffix:
		return strings.HasSuffix(s, lit) || strings.HasSuffix(s, "\n") && strings.HasSuffix(s[:len(s)-1], lit)
	}
	return strings.Contains(s, lit)
}

// match tests s and, when caps is not nil, records the groups of a
// successful match there. It allocates only to record groups.
func (r *regex) match(s string, caps *captures) bool {
	if r.re == nil {
		ok := r.matchLiteral(s)
		if ok && caps != nil {
			caps.subject, caps.n = s, 1
		}
		return ok
	}
	if !strings.HasPrefix(s, r.prefix) {
		return false
	}
	if caps == nil {
		return r.re.MatchString(s)
	}
	loc := r.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return false
	}
	caps.subject = s
	caps.n = copy(caps.loc[:], loc) / 2
	return true
}

// groups appends the values of the groups of a successful match to out,
// or 1 when the pattern has none, as a match in list context does; ok is
// false when s does not match.
func (r *regex) groups(s string, caps *captures, out []Value) ([]Value, bool) {
	if r.re == nil || r.re.NumSubexp() == 0 {
		if !r.match(s, caps) {
			return out, false
		}
		return append(out, yes), true
	}
	if !strings.HasPrefix(s, r.prefix) {
		return out, false
	}
	loc := r.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return out, false
	}
	if caps != nil {
		caps.subject = s
		caps.n = copy(caps.loc[:], loc) / 2
	}
	for g := 1; 2*g < len(loc); g++ {
		if loc[2*g] < 0 {
			out = append(out, Undef())
		} else {
			out = append(out, Str(s[loc[2*g]:loc[2*g+1]]))
		}
	}
	return out, true
}
