package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tNum            // number literal, in val
	tStr            // string literal: its value in text, or its parts in lit
	tWords          // qw(...), in lit.words
	tRegex          // /.../ or m{...}: pattern in text, flags in lit.flags
	tScalar         // $name, ${name} or $1: name in text
	tArray          // @name: name in text
	tHash           // %name: name in text
	tIdent          // bareword, function or keyword name (may contain ::)
	tOp             // operator or punctuation, in text
)

// token is one lexical element. Positions are byte offsets in the whole
// source, also for tokens of an interpolated expression. A token is five
// words: what only some literals carry is in lit, so that the tokens of
// a long source, which the lexer holds all at once, stay small.
type token struct {
	kind tokKind
	pos  int
	text string   // see tokKind; a string without interpolation: its value
	lit  *literal // tNum, tWords, a tStr with interpolation, a tRegex with flags
}

// literal is what a token of a number, a qw list, an interpolating string
// or a pattern with flags carries besides its text.
type literal struct {
	val   Value     // tNum
	parts []strPart // tStr: literal text and interpolated expressions
	words []string  // tWords
	flags string    // tRegex
}

// strPart is one piece of a string literal: literal text, or the source
// range of an interpolated expression such as $URI or $CTX{lang}.
type strPart struct {
	lit        string
	code       bool
	start, end int
}

// lexer splits the source range [i, end) into tokens. Whether a "/"
// starts a regex or divides, whether "%" is a hash sigil or modulus and
// whether "x" repeats, depends on whether the previous token ended a term,
// as in Perl's own tokenizer.
type lexer struct {
	src  string
	i    int
	end  int
	toks []token
	// blocks says of each "{" not yet closed whether it opens the block
	// of an if, elsif, else or unless; closedBlock, whether the last
	// "}" closed one. After such a "}" a statement, and so a term, may
	// start: if (1) { 2 } .5 is 0.5.
	blocks      []bool
	closedBlock bool
}

func lex(src string, start, end int) ([]token, error) {
	// About a token every four bytes, as sources are written; a string
	// literal of thousands is one token, so the guess stops at 256.
	lx := &lexer{src: src, i: start, end: end, toks: make([]token, 0, min((end-start)/4+2, 256))}
	for {
		tok, err := lx.next()
		if err != nil {
			return nil, err
		}
		if len(lx.toks) == cap(lx.toks) {
			// Doubled, not grown by append's quarter for long slices: a
			// long source's tokens are then copied about twice in all,
			// not five times.
			lx.toks = append(make([]token, 0, 2*cap(lx.toks)+16), lx.toks...)
		}
		lx.toks = append(lx.toks, tok)
		if tok.kind == tEOF {
			return lx.toks, nil
		}
	}
}

// flags returns the flags of a tRegex token.
func (t token) flags() string {
	if t.lit == nil {
		return ""
	}
	return t.lit.flags
}

// numToken is the token of a number at pos.
func numToken(pos int, v Value) token { return token{kind: tNum, pos: pos, lit: &literal{val: v}} }

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// nameEnd returns the end of the identifier at j, which may continue with
// ::-separated parts (Apache2::Const::OK).
func nameEnd(src string, j, end int) int {
	for {
		for j < end && isIdentChar(src[j]) {
			j++
		}
		if j+2 < end && src[j] == ':' && src[j+1] == ':' && isIdentStart(src[j+2]) {
			j += 2
			continue
		}
		return j
	}
}

// constantWords are the barewords that are values, so that an operator
// follows them. undef is none: as in Perl, a term after it is what it
// undefines (undef .5 is undef(.5), undef / 2 starts a pattern), but for
// the operators // and ?, which follow it as they follow a value.
var constantWords = map[string]bool{
	"START": true, "PREPROC": true, "PROC": true, "DONE": true, "LOOKUPFILE": true,
}

// opExpected reports whether the previous token ended a term, so that the
// next one is an operator.
func (lx *lexer) opExpected() bool {
	n := len(lx.toks)
	if n == 0 {
		return false
	}
	t := lx.toks[n-1]
	switch t.kind {
	case tNum, tStr, tWords, tRegex, tScalar, tArray, tHash:
		return true
	case tOp:
		return t.text == ")" || t.text == "]" || t.text == "}" && !lx.closedBlock
	case tIdent:
		if n >= 2 && lx.toks[n-2].kind == tOp && lx.toks[n-2].text == "->" {
			return true // a method name
		}
		return constantWords[t.text] || strings.Contains(t.text, "::")
	}
	return false
}

func (lx *lexer) afterArrow() bool {
	n := len(lx.toks)
	return n > 0 && lx.toks[n-1].kind == tOp && lx.toks[n-1].text == "->"
}

// skipSpace skips white space and # comments.
func (lx *lexer) skipSpace() {
	for lx.i < lx.end {
		c := lx.src[lx.i]
		switch {
		case isSpace(c):
			lx.i++
		case c == '#':
			for lx.i < lx.end && lx.src[lx.i] != '\n' {
				lx.i++
			}
		default:
			return
		}
	}
}

func (lx *lexer) skipBlanks(j int) int {
	for j < lx.end && isSpace(lx.src[j]) {
		j++
	}
	return j
}

func (lx *lexer) next() (token, error) {
	lx.skipSpace()
	start := lx.i
	if start >= lx.end {
		return token{kind: tEOF, pos: lx.end}, nil
	}
	src := lx.src
	c := src[start]
	var peek byte
	if start+1 < lx.end {
		peek = src[start+1]
	}
	term := !lx.opExpected()
	if n := len(lx.toks); term && n > 0 && lx.toks[n-1].kind == tIdent && lx.toks[n-1].text == "undef" &&
		(c == '?' || c == '/' && peek == '/') {
		return lx.operator()
	}
	switch {
	case isIdentStart(c):
		return lx.ident()
	case isDigit(c), c == '.' && isDigit(peek) && term:
		return lx.number()
	case c == '\'':
		return lx.singleQuoted(start, start)
	case c == '"':
		return lx.doubleQuoted(start, start)
	case c == '`':
		return token{}, unsupported(start, "backticks (running commands) are not available")
	case c == '$':
		return lx.scalar()
	case c == '@':
		if !term {
			return token{}, syntaxErr(start, "unexpected @")
		}
		return lx.sigil(tArray, "array")
	case c == '%' && term:
		return lx.sigil(tHash, "hash")
	case c == '&' && term && peek != '&':
		return token{}, unsupported(start, "calling subs with & is not available")
	case c == '*' && term && (isIdentStart(peek) || peek == '{'):
		return token{}, unsupported(start, "typeglobs are not available")
	case c == '/' && term:
		if peek == '/' {
			return token{}, unsupported(start, "the empty pattern // (reusing the last pattern) is not available")
		}
		return lx.regex(start, start)
	case c == '<' && term:
		if peek == '<' {
			return token{}, unsupported(start, "here-documents are not available")
		}
		return token{}, unsupported(start, "reading files or globbing with <...> is not available")
	case c == '?' && term:
		return token{}, unsupported(start, "?PATTERN? matches are not available")
	case c == '-' && term && strings.IndexByte("rwxoRWXOezsfdlpSbcugktTBAMC", peek) >= 0 &&
		(start+2 >= lx.end || !isIdentChar(src[start+2])):
		if j := lx.skipBlanks(start + 2); j >= lx.end || (src[j] != '}' && !strings.HasPrefix(src[j:], "=>")) {
			return token{}, unsupported(start, "file test operators (-%c) are not available", peek)
		}
	}
	return lx.operator()
}

// operators, longest first within each length.
var (
	ops3 = []string{"<=>", "**=", "||=", "&&=", "//=", "...", "<<=", ">>="}
	ops2 = []string{"->", "=>", "==", "!=", "<=", ">=", "=~", "!~", "&&", "||", "//", "**",
		".=", "+=", "-=", "*=", "/=", "%=", "..", "++", "--", "<<", ">>", "|=", "&=", "^=", "~~", "::"}
)

// unsupportedOps are operators Perl has and this language does not.
var unsupportedOps = map[string]string{
	"..":  "the range operator .. is not available",
	"...": "the range operator ... is not available",
	"++":  "++ is not available (write $x = $x + 1)",
	"--":  "-- is not available (write $x = $x - 1)",
	"<<":  "bit shifts are not available",
	">>":  "bit shifts are not available",
	"<<=": "bit shifts are not available",
	">>=": "bit shifts are not available",
	"|":   "bitwise operators are not available",
	"&":   "bitwise operators are not available",
	"^":   "bitwise operators are not available",
	"~":   "bitwise operators are not available",
	"|=":  "bitwise operators are not available",
	"&=":  "bitwise operators are not available",
	"^=":  "bitwise operators are not available",
	"~~":  "smartmatch is not available",
	"\\":  "references (\\) are not available",
}

func (lx *lexer) operator() (token, error) {
	start := lx.i
	rest := lx.src[start:lx.end]
	op := ""
	for _, o := range ops3 {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		for _, o := range ops2 {
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
	}
	if op == "" {
		if strings.IndexByte("+-*/%.=<>!?:,;()[]{}&|^~\\", rest[0]) < 0 {
			r, _ := utf8.DecodeRuneInString(rest)
			return token{}, syntaxErr(start, "unexpected character %q", r)
		}
		op = rest[:1]
	}
	if msg, ok := unsupportedOps[op]; ok {
		return token{}, unsupported(start, "%s", msg)
	}
	switch op {
	case "{":
		lx.blocks = append(lx.blocks, lx.opensBlock())
	case "}":
		lx.closedBlock = false
		if n := len(lx.blocks); n > 0 {
			lx.closedBlock = lx.blocks[n-1]
			lx.blocks = lx.blocks[:n-1]
		}
	}
	lx.i += len(op)
	return token{kind: tOp, pos: start, text: op}, nil
}

// opensBlock reports whether a "{" opens the block of a statement: after
// the condition of if, elsif or unless, or after else. A do block is a
// term, and the other braces subscripts or anonymous hashes.
func (lx *lexer) opensBlock() bool {
	n := len(lx.toks)
	if n == 0 {
		return false
	}
	t := lx.toks[n-1]
	return t.kind == tOp && t.text == ")" || t.kind == tIdent && t.text == "else"
}

// isQuoteDelim reports whether c may delimit q, qq, qw, m and friends:
// as in Perl, any ASCII character but a word character or white space
// (q,a b, and qw;a b; too), except the closing brackets, which end a
// subscript or a list the word is in ({q}, (m)); "=>" quotes the word
// before this is asked.
func isQuoteDelim(c byte) bool {
	return c < utf8.RuneSelf && !isIdentChar(c) && !isSpace(c) &&
		strings.IndexByte(")}]>", c) < 0
}

func (lx *lexer) ident() (token, error) {
	src, start := lx.src, lx.i
	j := nameEnd(src, start, lx.end)
	word := src[start:j]
	k := lx.skipBlanks(j)
	// The fat comma quotes the bareword on its left.
	if strings.HasPrefix(src[k:lx.end], "=>") {
		lx.i = j
		return token{kind: tStr, pos: start, text: word}, nil
	}
	arrow := lx.afterArrow()
	if len(word) > 1 && word[0] == 'x' && digitsEnd(word, 1) == len(word) && !arrow && lx.opExpected() {
		// "a" x3 is "a" x 3, as Perl reads it.
		lx.i = start + 1
		return token{kind: tOp, pos: start, text: "x"}, nil
	}
	if word == "x" && !arrow && lx.opExpected() {
		lx.i = j
		if j < lx.end && src[j] == '=' && (j+1 >= lx.end || src[j+1] != '=' && src[j+1] != '~') {
			lx.i++
			return token{kind: tOp, pos: start, text: "x="}, nil
		}
		return token{kind: tOp, pos: start, text: "x"}, nil
	}
	if !arrow {
		switch word {
		case "q", "qq", "qw", "m", "qr", "qx", "s", "tr", "y":
			if k < lx.end && isQuoteDelim(src[k]) && !(src[k] == '#' && k != j) {
				return lx.quoteLike(word, start, k)
			}
		case "__END__", "__DATA__":
			return token{}, unsupported(start, "%s is not available", word)
		}
	}
	lx.i = j
	return token{kind: tIdent, pos: start, text: word}, nil
}

func (lx *lexer) quoteLike(word string, start, k int) (token, error) {
	switch word {
	case "q":
		return lx.singleQuoted(start, k)
	case "qq":
		return lx.doubleQuoted(start, k)
	case "qw":
		open, close, cs, ce, next, err := lx.delimited(k)
		if err != nil {
			return token{}, err
		}
		lx.i = next
		// Words are split at ASCII white space, as Perl's /\s+/ does:
		// a no-break space is part of a word.
		words := strings.FieldsFunc(unquoteSingle(lx.src[cs:ce], open, close), isSpaceRune)
		return token{kind: tWords, pos: start, lit: &literal{words: words}}, nil
	case "m":
		return lx.regex(start, k)
	case "qr":
		return token{}, unsupported(start, "qr// regex objects are not available")
	case "qx":
		return token{}, unsupported(start, "qx// (running commands) is not available")
	case "s":
		return token{}, unsupported(start, "s/// substitution is not available")
	}
	return token{}, unsupported(start, "%s/// transliteration is not available", word)
}

func closerOf(open byte) byte {
	switch open {
	case '(':
		return ')'
	case '[':
		return ']'
	case '{':
		return '}'
	case '<':
		return '>'
	}
	return open
}

// delimited reads the quoted body that starts with the delimiter at k.
// Bracket delimiters nest; a backslash protects the next byte.
func (lx *lexer) delimited(k int) (open, close byte, cs, ce, next int, err error) {
	open = lx.src[k]
	close = closerOf(open)
	depth := 1
	for j := k + 1; j < lx.end; j++ {
		c := lx.src[j]
		switch {
		case c == '\\':
			j++
		case c == open && open != close:
			depth++
		case c == close:
			if depth--; depth == 0 {
				return open, close, k + 1, j, j + 1, nil
			}
		}
	}
	return 0, 0, 0, 0, 0, syntaxErr(k, "unterminated string or pattern starting with %q", open)
}

// unquoteSingle applies single-quote rules: only \\ and a backslashed
// delimiter are escapes.
func unquoteSingle(s string, open, close byte) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == open || s[i+1] == close) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// singleQuoted reads a string without interpolation, '...' or q(...),
// whose opening delimiter is at delim; the token is at start.
func (lx *lexer) singleQuoted(start, delim int) (token, error) {
	open, close, cs, ce, next, err := lx.delimited(delim)
	if err != nil {
		return token{}, err
	}
	lx.i = next
	return token{kind: tStr, pos: start, text: unquoteSingle(lx.src[cs:ce], open, close)}, nil
}

// doubleQuoted reads an interpolating string, "..." or qq(...), whose
// opening delimiter is at delim; the token is at start.
func (lx *lexer) doubleQuoted(start, delim int) (token, error) {
	open, close, cs, ce, next, err := lx.delimited(delim)
	if err != nil {
		return token{}, err
	}
	parts, err := lx.interpolate(cs, ce, open, close)
	if err != nil {
		return token{}, err
	}
	lx.i = next
	if len(parts) == 1 && !parts[0].code {
		return token{kind: tStr, pos: start, text: parts[0].lit}, nil
	}
	return token{kind: tStr, pos: start, lit: &literal{parts: parts}}, nil
}

func (lx *lexer) regex(start, k int) (token, error) {
	_, _, cs, ce, next, err := lx.delimited(k)
	if err != nil {
		return token{}, err
	}
	j := next
	for j < lx.end && isIdentStart(lx.src[j]) && lx.src[j] != '_' {
		j++
	}
	lx.i = j
	t := token{kind: tRegex, pos: start, text: lx.src[cs:ce]}
	if j > next {
		t.lit = &literal{flags: lx.src[next:j]}
	}
	return t, nil
}

// interpolate splits the body of a double-quoted string into literal text
// and interpolated expressions.
func (lx *lexer) interpolate(cs, ce int, open, close byte) ([]strPart, error) {
	src := lx.src
	var parts []strPart
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			parts = append(parts, strPart{lit: string(lit)})
			lit = lit[:0]
		}
	}
	for j := cs; j < ce; {
		c := src[j]
		switch c {
		case '\\':
			if j+1 >= ce {
				lit = append(lit, c)
				j++
				continue
			}
			var err error
			lit, j, err = lx.escape(lit, j, ce)
			if err != nil {
				return nil, err
			}
		case '$':
			end, err := lx.interpEnd(j, ce)
			if err != nil {
				return nil, err
			}
			flush()
			parts = append(parts, strPart{code: true, start: j, end: end})
			j = end
		case '@':
			if j+1 < ce && (isIdentStart(src[j+1]) || strings.IndexByte("{$:", src[j+1]) >= 0) {
				return nil, unsupported(j, "array interpolation in a string is not available (write \\@ for a literal @)")
			}
			lit = append(lit, c)
			j++
		default:
			lit = append(lit, c)
			j++
		}
	}
	flush()
	if len(parts) == 0 {
		parts = []strPart{{}}
	}
	return parts, nil
}

// escape decodes the backslash escape at j and appends its byte(s) to lit.
func (lx *lexer) escape(lit []byte, j, ce int) ([]byte, int, error) {
	src := lx.src
	d := src[j+1]
	j += 2
	switch d {
	case 'n':
		return append(lit, '\n'), j, nil
	case 't':
		return append(lit, '\t'), j, nil
	case 'r':
		return append(lit, '\r'), j, nil
	case 'f':
		return append(lit, '\f'), j, nil
	case 'b':
		return append(lit, '\b'), j, nil
	case 'a':
		return append(lit, '\a'), j, nil
	case 'e':
		return append(lit, 0x1b), j, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n := int(d - '0')
		for k := 0; k < 2 && j < ce && '0' <= src[j] && src[j] <= '7'; k++ {
			n = n*8 + int(src[j]-'0')
			j++
		}
		return appendCode(lit, int64(n)), j, nil
	case 'x':
		if j < ce && src[j] == '{' {
			k := strings.IndexByte(src[j:ce], '}')
			if k < 0 {
				return nil, j, syntaxErr(j, "missing } in \\x{...}")
			}
			n, err := strconv.ParseUint(strings.TrimSpace(src[j+1:j+k]), 16, 32)
			if err != nil || n > utf8.MaxRune {
				return nil, j, syntaxErr(j, "bad hexadecimal escape \\x{%s}", src[j+1:j+k])
			}
			return appendCode(lit, int64(n)), j + k + 1, nil
		}
		n := 0
		for k := 0; k < 2 && j < ce && isHex(src[j]); k++ {
			n = n*16 + hexVal(src[j])
			j++
		}
		return appendCode(lit, int64(n)), j, nil
	case 'c':
		if j < ce {
			return append(lit, upperASCII(src[j])^64), j + 1, nil
		}
		return lit, j, nil
	case 'u', 'l', 'U', 'L', 'Q', 'E', 'F':
		return nil, j, unsupported(j-2, "the case and quoting escape \\%c is not available", d)
	case 'N':
		return nil, j, unsupported(j-2, "named characters \\N{...} are not available")
	}
	return append(lit, d), j, nil
}

// appendCode appends a character given by its code (at least 0) as Perl
// stores it in a byte string: a byte below 256, above in Perl's UTF-8,
// which also encodes surrogates and code points past U+10FFFF, in up to
// 7 bytes below 2^36 and 13 from there, where Go's gives U+FFFD.
func appendCode(b []byte, n int64) []byte {
	if n < 0x100 {
		return append(b, byte(n))
	}
	size := 13 // 0xFF, then 12 bytes of 6 bits
	for l := 2; l <= 7; l++ {
		if n < 1<<(5*l+1) { // 6 bits a byte, 7-l in the first
			size = l
			break
		}
	}
	lead := byte(0xFF)
	if size <= 7 {
		lead = byte(uint(0xFF00) >> size)
	}
	b = append(b, lead|byte(n>>(6*(size-1))))
	for k := size - 2; k >= 0; k-- {
		b = append(b, 0x80|byte(n>>(6*k))&0x3F)
	}
	return b
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// interpEnd returns the end of the variable expression interpolated at
// j: the variable and any subscripts [...], {...}, ->[...], ->{...}.
func (lx *lexer) interpEnd(j, ce int) (int, error) {
	src := lx.src
	k := j + 1
	if k >= ce || isSpace(src[k]) {
		return 0, syntaxErr(j, "a $ in a string must be followed by a variable name (write \\$ for a literal $)")
	}
	c := src[k]
	switch {
	case c == '{':
		m := lx.skipBlanksTo(k+1, ce)
		n := m
		for n < ce && isIdentChar(src[n]) {
			n++
		}
		e := lx.skipBlanksTo(n, ce)
		if n == m || !isIdentStart(src[m]) || e >= ce || src[e] != '}' {
			return 0, unsupported(j, "${ expression } interpolation is not available")
		}
		// The braces end the variable: "${URI}[0]" is $URI and "[0]".
		return e + 1, nil
	case isIdentStart(c):
		k = nameEnd(src, k, ce)
	case isDigit(c):
		for k < ce && isDigit(src[k]) {
			k++
		}
	default:
		return 0, unsupported(j, "the special variable $%c is not available (write \\$ for a literal $)", c)
	}
	for k < ce {
		switch {
		case src[k] == '[' || src[k] == '{':
			e, err := lx.matchBracket(k, ce)
			if err != nil {
				return 0, err
			}
			k = e
		case src[k] == '-' && k+2 < ce && src[k+1] == '>' && (src[k+2] == '[' || src[k+2] == '{'):
			k += 2
		default:
			return k, nil
		}
	}
	return k, nil
}

func (lx *lexer) skipBlanksTo(j, end int) int {
	for j < end && isSpace(lx.src[j]) {
		j++
	}
	return j
}

// matchBracket returns the index after the bracket that closes the one at
// k, skipping backslash escapes and single-quoted strings.
func (lx *lexer) matchBracket(k, end int) (int, error) {
	src := lx.src
	open := src[k]
	close := closerOf(open)
	depth := 0
	for j := k; j < end; j++ {
		switch c := src[j]; {
		case c == '\\':
			j++
		case c == '\'':
			for j++; j < end && src[j] != '\''; j++ {
				if src[j] == '\\' {
					j++
				}
			}
		case c == open:
			depth++
		case c == close:
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, syntaxErr(k, "missing %q in interpolated expression", close)
}

func (lx *lexer) scalar() (token, error) {
	src, start := lx.src, lx.i
	k := start + 1
	if k >= lx.end {
		return token{}, syntaxErr(start, "$ without a variable name")
	}
	c := src[k]
	switch {
	case c == '{':
		m := lx.skipBlanks(k + 1)
		n := m
		for n < lx.end && isIdentChar(src[n]) {
			n++
		}
		e := lx.skipBlanks(n)
		if n == m || !isIdentStart(src[m]) || e >= lx.end || src[e] != '}' {
			return token{}, unsupported(start, "${ expression } dereferences are not available")
		}
		lx.i = e + 1
		return token{kind: tScalar, pos: start, text: src[m:n]}, nil
	case isIdentStart(c):
		j := nameEnd(src, k, lx.end)
		lx.i = j
		return token{kind: tScalar, pos: start, text: src[k:j]}, nil
	case isDigit(c):
		j := k
		for j < lx.end && isDigit(src[j]) {
			j++
		}
		if src[k:j] == "0" {
			return token{}, unsupported(start, "$0 (the program name) is not available")
		}
		lx.i = j
		return token{kind: tScalar, pos: start, text: src[k:j]}, nil
	case c == '#':
		return token{}, unsupported(start, "$#array (the last index) is not available")
	case c == '$':
		return token{}, unsupported(start, "$$ and $$ref dereferences are not available")
	}
	return token{}, unsupported(start, "the special variable $%c is not available", c)
}

// sigil lexes @name or %name.
func (lx *lexer) sigil(kind tokKind, what string) (token, error) {
	src, start := lx.src, lx.i
	k := start + 1
	if k < lx.end && isIdentStart(src[k]) {
		j := nameEnd(src, k, lx.end)
		lx.i = j
		return token{kind: kind, pos: start, text: src[k:j]}, nil
	}
	if k < lx.end && (src[k] == '{' || src[k] == '$') {
		return token{}, unsupported(start, "%s dereferences and slices are not available", what)
	}
	return token{}, syntaxErr(start, "unexpected %c", src[start])
}

func (lx *lexer) number() (token, error) {
	src, start := lx.src, lx.i
	j := start
	if src[j] == '0' && j+1 < lx.end && (src[j+1]|0x20 == 'x' || src[j+1]|0x20 == 'b') {
		base, digit := 16, isHex
		if src[j+1]|0x20 == 'b' {
			base, digit = 2, func(c byte) bool { return c == '0' || c == '1' }
		}
		j += 2
		for j < lx.end && (digit(src[j]) || src[j] == '_') {
			j++
		}
		return lx.integer(start, j, src[start+2:j], base)
	}
	if src[j] == '0' && j+1 < lx.end && isDigit(src[j+1]) {
		for j < lx.end && (isDigit(src[j]) || src[j] == '_') {
			if src[j] == '8' || src[j] == '9' {
				return token{}, syntaxErr(j, "illegal octal digit %q", src[j])
			}
			j++
		}
		return lx.integer(start, j, src[start+1:j], 8)
	}
	isFloat := false
	j = lx.digitsEnd(j)
	// As in Perl, a point starts a fraction, perhaps empty (1. is 1,
	// 1.e3 is 1000), unless a second one follows (1..2 is a range); a
	// point and a digit after the fraction make a version string.
	if j < lx.end && src[j] == '.' && (j+1 == lx.end || src[j+1] != '.') {
		isFloat = true
		j = lx.digitsEnd(j + 1)
		if j+1 < lx.end && src[j] == '.' && isDigit(src[j+1]) {
			return token{}, unsupported(start, "version strings (1.2.3) are not available")
		}
	}
	if j < lx.end && src[j]|0x20 == 'e' {
		// An exponent has digits, and may have underscores (1e1_0).
		k := j + 1
		if k < lx.end && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if e := lx.digitsEnd(k); strings.Trim(src[k:e], "_") != "" {
			isFloat = true
			j = e
		}
	}
	lx.i = j
	text := strings.ReplaceAll(src[start:j], "_", "")
	if !isFloat {
		if u, err := strconv.ParseUint(text, 10, 64); err == nil {
			return numToken(start, Uint(u)), nil
		}
	}
	f, _ := strconv.ParseFloat(text, 64)
	return numToken(start, Num(f)), nil
}

// digitsEnd returns the end of the decimal digits and underscores at j.
func (lx *lexer) digitsEnd(j int) int {
	for j < lx.end && (isDigit(lx.src[j]) || lx.src[j] == '_') {
		j++
	}
	return j
}

func (lx *lexer) integer(start, end int, digits string, base int) (token, error) {
	lx.i = end
	digits = strings.ReplaceAll(digits, "_", "")
	if digits == "" {
		if base == 8 {
			return numToken(start, Int(0)), nil
		}
		return token{}, syntaxErr(start, "number without digits")
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		return token{}, syntaxErr(start, "integer %s does not fit in 64 bits", lx.src[start:end])
	}
	return numToken(start, Uint(u)), nil
}
