package expr

import (
	"strconv"
	"strings"
)

// MaxNesting bounds how deeply parentheses, blocks, unary operators and
// right-associative operators may nest in one expression, and (times
// five) the height of the syntax tree, so that hostile input cannot
// exhaust the stack while compiling or evaluating.
const MaxNesting = 200

// constants are the barewords with a value: the states and the
// Apache2::Const names the tables use.
var constants = map[string]int64{
	"START":                                  0,
	"PREPROC":                                1,
	"PROC":                                   2,
	"DONE":                                   3,
	"LOOKUPFILE":                             4,
	"Apache2::Const::OK":                     0,
	"Apache2::Const::DECLINED":               -1,
	"Apache2::Const::DONE":                   -2,
	"Apache2::Const::NOT_FOUND":              404,
	"Apache2::Const::FORBIDDEN":              403,
	"Apache2::Const::SERVER_ERROR":           500,
	"Apache2::Const::REDIRECT":               302,
	"Apache2::Const::HTTP_MOVED_PERMANENTLY": 301,
}

// perlOnly explains the Perl functions and keywords that are left out.
var perlOnly = map[string]string{
	"sub":       "code references (sub {...}) cannot be evaluated",
	"require":   "loading modules (require) is not available",
	"use":       "loading modules (use) is not available",
	"no":        "pragmas (no) are not available",
	"my":        "variable declarations (my) are not available; use %CTX",
	"our":       "variable declarations (our) are not available; use %CTX",
	"local":     "local is not available; use %CTX",
	"state":     "state variables are not available; use %CTX",
	"eval":      "eval is not available",
	"goto":      "goto is not available",
	"return":    "return is not available; the value is the last statement's",
	"last":      "loop control (last) is not available",
	"next":      "loop control (next) is not available",
	"redo":      "loop control (redo) is not available",
	"while":     "loops are not available",
	"until":     "loops are not available",
	"for":       "loops are not available",
	"foreach":   "loops are not available",
	"map":       "map is not available",
	"grep":      "grep is not available",
	"sort":      "sort is not available",
	"system":    "running commands (system) is not available",
	"exec":      "running commands (exec) is not available",
	"fork":      "fork is not available",
	"open":      "file access (open) is not available",
	"print":     "output (print) is not available",
	"printf":    "output (printf) is not available",
	"say":       "output (say) is not available",
	"exit":      "exit is not available",
	"xor":       "xor is not available",
	"wantarray": "wantarray is not available",
}

// parser is a recursive-descent parser over the tokens of one source
// range; interpolated expressions get their own parser that shares the
// nesting depth.
type parser struct {
	src   string
	toks  []token
	i     int
	depth int
	unit  *unit // what the parsers of one source share
	// parened is the last expression primary read in parentheses: an x
	// right after it repeats a list, as after a qw list.
	parened node
}

// unit is what the parsers of one source learn about it as a whole.
type unit struct {
	caps     bool // the source reads $1..$9
	patterns int  // instructions its patterns compile to, so far
}

// parse parses a whole program.
func parse(src string) (*blockNode, *unit, error) {
	toks, err := lex(src, 0, len(src))
	if err != nil {
		return nil, nil, err
	}
	p := &parser{src: src, toks: toks, unit: new(unit)}
	stmts, err := p.statements()
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, nil, p.unexpected(t)
	}
	return &blockNode{at: 0, stmts: stmts}, p.unit, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func isOpTok(t token, op string) bool { return t.kind == tOp && t.text == op }

func (p *parser) isOp(op string) bool { return isOpTok(p.peek(), op) }

func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == w
}

func (p *parser) expect(op string) error {
	if !p.isOp(op) {
		t := p.peek()
		if t.kind == tEOF {
			return syntaxErr(t.pos, "missing %q", op)
		}
		return syntaxErr(t.pos, "expected %q, found %s", op, describe(t))
	}
	p.advance()
	return nil
}

func (p *parser) enter(pos int) error {
	if p.depth++; p.depth > MaxNesting {
		return syntaxErr(pos, "expression nested more than %d levels deep", MaxNesting)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tNum:
		return "number " + t.lit.val.String()
	case tStr, tWords:
		return "string"
	case tRegex:
		return "pattern"
	case tScalar:
		return "$" + t.text
	case tArray:
		return "@" + t.text
	case tHash:
		return "%" + t.text
	case tIdent:
		return "bareword " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

func (p *parser) unexpected(t token) error {
	if t.kind == tEOF {
		return syntaxErr(t.pos, "unexpected end of input")
	}
	return syntaxErr(t.pos, "unexpected %s", describe(t))
}

// statements parses statements separated by ";" up to "}" or the end.
func (p *parser) statements() ([]node, error) {
	var stmts []node
	for {
		for p.isOp(";") {
			p.advance()
		}
		if t := p.peek(); t.kind == tEOF || isOpTok(t, "}") {
			return stmts, nil
		}
		s, isBlock, err := p.statement()
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
		if t := p.peek(); !isBlock && t.kind != tEOF && !isOpTok(t, ";") && !isOpTok(t, "}") {
			return nil, syntaxErr(t.pos, "missing ; before %s", describe(t))
		}
	}
}

// statement parses an expression with an optional if or unless modifier,
// or an if/unless statement with blocks (isBlock: no ; needed after it).
func (p *parser) statement() (n node, isBlock bool, err error) {
	t := p.peek()
	if t.kind == tIdent && (t.text == "if" || t.text == "unless") && isOpTok(p.peekAt(1), "(") {
		n, err := p.ifStatement()
		return n, true, err
	}
	if isOpTok(t, "{") {
		return nil, false, unsupported(t.pos, "bare blocks and anonymous hashes are not available")
	}
	e, err := p.expr()
	if err != nil {
		return nil, false, err
	}
	if m := p.peek(); m.kind == tIdent {
		switch m.text {
		case "if", "unless":
			p.advance()
			c, err := p.expr()
			if err != nil {
				return nil, false, err
			}
			op := "&&"
			if m.text == "unless" {
				op = "||"
			}
			return &logicalNode{at: at(m.pos), op: op, l: c, r: e}, false, nil
		case "while", "until", "for", "foreach":
			return nil, false, unsupported(m.pos, "loops are not available")
		}
	}
	return e, false, nil
}

// ifStatement parses if (C) {..} elsif (C) {..} else {..}, and unless.
// Its value is Perl's: the chosen block's, or the condition's when no
// block runs.
func (p *parser) ifStatement() (node, error) {
	kw := p.advance()
	return p.ifClause(kw.pos, kw.text == "unless")
}

// ifClause parses the rest of an if, unless or elsif: (C) {..} and what
// follows.
func (p *parser) ifClause(pos int, unless bool) (node, error) {
	if err := p.enter(pos); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.expect("("); err != nil {
		return nil, err
	}
	c, err := p.expr()
	if err != nil {
		return nil, err
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	body, err := p.block()
	if err != nil {
		return nil, err
	}
	var els node
	switch {
	case p.isWord("elsif"):
		t := p.advance()
		if els, err = p.ifClause(t.pos, false); err != nil {
			return nil, err
		}
	case p.isWord("else"):
		p.advance()
		if els, err = p.block(); err != nil {
			return nil, err
		}
	}
	switch {
	case els == nil && unless:
		return &logicalNode{at: at(pos), op: "||", l: c, r: body}, nil
	case els == nil:
		return &logicalNode{at: at(pos), op: "&&", l: c, r: body}, nil
	case unless:
		return &condNode{at: at(pos), c: c, a: els, b: body}, nil
	}
	return &condNode{at: at(pos), c: c, a: body, b: els}, nil
}

// block parses { statements }.
func (p *parser) block() (*blockNode, error) {
	t := p.peek()
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	stmts, err := p.statements()
	if err != nil {
		return nil, err
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	return &blockNode{at: at(t.pos), stmts: stmts}, nil
}

// expr parses a full expression: the low-precedence or and and over
// comma lists.
func (p *parser) expr() (node, error) {
	l, err := p.lowAnd()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") || p.isWord("xor") {
		t := p.advance()
		if t.text == "xor" {
			return nil, unsupported(t.pos, "xor is not available")
		}
		r, err := p.lowAnd()
		if err != nil {
			return nil, err
		}
		l = &logicalNode{at: at(t.pos), op: "||", l: l, r: r}
	}
	return l, nil
}

func (p *parser) lowAnd() (node, error) {
	l, err := p.comma()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		t := p.advance()
		r, err := p.comma()
		if err != nil {
			return nil, err
		}
		l = &logicalNode{at: at(t.pos), op: "&&", l: l, r: r}
	}
	return l, nil
}

// startsTerm reports whether the next token can begin an operand, which
// decides whether a list operator such as die has arguments and whether a
// comma is a trailing one.
func (p *parser) startsTerm() bool {
	t := p.peek()
	switch t.kind {
	case tNum, tStr, tWords, tRegex, tScalar, tArray, tHash:
		return true
	case tIdent:
		switch t.text {
		case "and", "or", "xor", "if", "unless", "while", "until", "for", "foreach",
			"x", "eq", "ne", "lt", "gt", "le", "ge", "cmp":
			return false
		}
		return true
	case tOp:
		switch t.text {
		case "(", "[", "{", "!", "-", "+":
			return true
		}
	}
	return false
}

func (p *parser) comma() (node, error) {
	first, err := p.assign()
	if err != nil {
		return nil, err
	}
	if !p.isOp(",") && !p.isOp("=>") {
		return first, nil
	}
	items := []node{first}
	for p.isOp(",") || p.isOp("=>") {
		p.advance()
		if !p.startsTerm() {
			break
		}
		x, err := p.assign()
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	return &listNode{at: at(first.position()), items: items}, nil
}

// assignOps maps an assignment operator to its binary operator.
var assignOps = map[string]string{
	"=": "=", ".=": ".", "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%",
	"**=": "**", "x=": "x", "||=": "||", "&&=": "&&", "//=": "//",
}

func (p *parser) assign() (node, error) {
	l, err := p.ternary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	op, ok := assignOps[t.text]
	if t.kind != tOp || !ok {
		return l, nil
	}
	if err := checkLvalue(l); err != nil {
		return nil, err
	}
	p.advance()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	r, err := p.assign()
	if err != nil {
		return nil, err
	}
	return &assignNode{at: at(t.pos), op: op, target: l, val: r}, nil
}

// checkLvalue accepts the assignable expressions: convenience variables,
// $CTX{k} / $ctx->{k} and $r->notes->{k}.
func checkLvalue(n node) error {
	switch n := n.(type) {
	case *varNode:
		if n.method {
			return unsupported(n.position(), "assigning to a method call is not available; pass the value: $r->method(VALUE)")
		}
		return nil
	case *elemNode:
		switch n.kind {
		case elemCTX, elemNote:
			return nil
		case elemArg:
			return unsupported(n.position(), "assigning to $ARGV[n] is not available")
		}
		return unsupported(n.position(), "assigning to request headers is not available")
	case *captureNode:
		return unsupported(n.position(), "assigning to $%d is not available", n.n)
	case *indexNode:
		return unsupported(n.position(), "assigning to array elements is not available")
	case *listNode, *emptyNode:
		return unsupported(n.position(), "list assignment is not available")
	}
	return syntaxErr(n.position(), "cannot assign to this expression")
}

func (p *parser) ternary() (node, error) {
	c, err := p.orOr()
	if err != nil {
		return nil, err
	}
	if !p.isOp("?") {
		return c, nil
	}
	t := p.advance()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	a, err := p.assign()
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	b, err := p.ternary()
	if err != nil {
		return nil, err
	}
	return &condNode{at: at(t.pos), c: c, a: a, b: b}, nil
}

func (p *parser) orOr() (node, error) {
	l, err := p.andAnd()
	if err != nil {
		return nil, err
	}
	for p.isOp("||") || p.isOp("//") {
		t := p.advance()
		r, err := p.andAnd()
		if err != nil {
			return nil, err
		}
		l = &logicalNode{at: at(t.pos), op: t.text, l: l, r: r}
	}
	return l, nil
}

func (p *parser) andAnd() (node, error) {
	l, err := p.equality()
	if err != nil {
		return nil, err
	}
	for p.isOp("&&") {
		t := p.advance()
		r, err := p.equality()
		if err != nil {
			return nil, err
		}
		l = &logicalNode{at: at(t.pos), op: "&&", l: l, r: r}
	}
	return l, nil
}

// comparison operators by precedence level. Since Perl 5.32 the
// relational operators chain (1 < $x <= 9), and so do == != eq ne; <=>
// and cmp do not, and no operator of a level chains with them.
var (
	equalityOps   = map[string]bool{"==": true, "!=": true, "<=>": true, "eq": true, "ne": true, "cmp": true}
	relationalOps = map[string]bool{"<": true, ">": true, "<=": true, ">=": true, "lt": true, "gt": true, "le": true, "ge": true}
)

func (p *parser) isCompare(ops map[string]bool) bool {
	t := p.peek()
	return (t.kind == tOp || t.kind == tIdent) && ops[t.text]
}

// nonAssoc reports the comparison operators that do not chain.
func nonAssoc(op string) bool { return op == "<=>" || op == "cmp" }

// compare parses one comparison level: one operator, or a chain of them.
func (p *parser) compare(ops map[string]bool, next func() (node, error)) (node, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	var chain *compareChainNode
	for p.isCompare(ops) {
		t := p.advance()
		if chain != nil && (nonAssoc(t.text) || nonAssoc(chain.links[0].op)) {
			return nil, syntaxErr(t.pos, "%s cannot be chained with another comparison", t.text)
		}
		r, err := next()
		if err != nil {
			return nil, err
		}
		if chain == nil {
			chain = &compareChainNode{at: at(t.pos), first: l}
		}
		chain.links = append(chain.links, compareLink{op: t.text, pos: t.pos, r: r})
	}
	switch {
	case chain == nil:
		return l, nil
	case len(chain.links) == 1:
		k := chain.links[0]
		return &binaryNode{at: at(k.pos), op: k.op, l: l, r: k.r}, nil
	}
	return chain, nil
}

func (p *parser) equality() (node, error) {
	return p.compare(equalityOps, p.relational)
}

func (p *parser) relational() (node, error) {
	return p.compare(relationalOps, p.additive)
}

func (p *parser) additive() (node, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isOp("+") || p.isOp("-") || p.isOp(".") {
		t := p.advance()
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &binaryNode{at: at(t.pos), op: t.text, l: l, r: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (node, error) {
	l, err := p.bind()
	if err != nil {
		return nil, err
	}
	for p.isOp("*") || p.isOp("/") || p.isOp("%") || p.isOp("x") {
		t := p.advance()
		repeatsList := t.text == "x" && p.repeatsList(l)
		r, err := p.bind()
		if err != nil {
			return nil, err
		}
		if repeatsList {
			l = &repeatNode{at: at(t.pos), l: l, r: r}
			continue
		}
		l = &binaryNode{at: at(t.pos), op: t.text, l: l, r: r}
	}
	return l, nil
}

// repeatsList reports whether x after l repeats a list, as Perl's does
// after a term in parentheses or a qw list: ('a') x 3 is ('a', 'a', 'a')
// in list context, where 'a' x 3 is 'aaa'.
func (p *parser) repeatsList(l node) bool {
	_, words := l.(*wordsNode)
	return words || l == p.parened
}

func (p *parser) bind() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isOp("=~") || p.isOp("!~") {
		t := p.advance()
		rt := p.peek()
		if rt.kind != tRegex {
			if rt.kind == tEOF {
				return nil, p.unexpected(rt)
			}
			return nil, unsupported(rt.pos, "the right side of %s must be a pattern such as /.../ (patterns are compiled once)", t.text)
		}
		p.advance()
		re, err := compileRegex(rt.text, rt.flags(), rt.pos, &p.unit.patterns)
		if err != nil {
			return nil, err
		}
		l = &matchNode{at: at(t.pos), x: l, re: re, neg: t.text == "!~"}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	t := p.peek()
	if t.kind != tOp || (t.text != "!" && t.text != "-" && t.text != "+") {
		return p.pow()
	}
	p.advance()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	switch t.text {
	case "!":
		return &unaryNode{at: at(t.pos), op: "!", x: x}, nil
	case "-":
		if c, ok := x.(*constNode); ok && (c.v.k == kInt || c.v.k == kUint || c.v.k == kNum) {
			return &constNode{at: at(t.pos), v: negate(c.v)}, nil
		}
		return &unaryNode{at: at(t.pos), op: "neg", x: x}, nil
	}
	return x, nil
}

func (p *parser) pow() (node, error) {
	l, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.isOp("**") {
		return l, nil
	}
	t := p.advance()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	r, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &binaryNode{at: at(t.pos), op: "**", l: l, r: r}, nil
}

func (p *parser) primary() (node, error) {
	t := p.peek()
	switch t.kind {
	case tNum:
		p.advance()
		return &constNode{at: at(t.pos), v: t.lit.val}, nil
	case tStr:
		p.advance()
		return p.stringNode(t)
	case tWords:
		p.advance()
		return &wordsNode{at: at(t.pos), words: t.lit.words}, nil
	case tRegex:
		return nil, unsupported(t.pos, "a pattern without =~ matches $_, which is not available")
	case tScalar:
		return p.scalarVar()
	case tArray:
		if t.text == "ARGV" {
			return nil, unsupported(t.pos, "@ARGV as a whole is not available; use $ARGV[n]")
		}
		return nil, unsupported(t.pos, "the array @%s is not available", t.text)
	case tHash:
		if t.text == "CTX" {
			return nil, unsupported(t.pos, "%%CTX as a whole is not available; use $CTX{key}")
		}
		if t.text == "ENV" {
			return nil, unsupported(t.pos, "the environment (%%ENV) is not available")
		}
		return nil, unsupported(t.pos, "the hash %%%s is not available", t.text)
	case tIdent:
		return p.word()
	case tOp:
		switch t.text {
		case "(":
			p.advance()
			if err := p.enter(t.pos); err != nil {
				return nil, err
			}
			defer p.leave()
			if p.isOp(")") {
				p.advance()
				p.parened = &emptyNode{at: at(t.pos)}
				return p.parened, nil
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			if p.isOp("[") {
				return nil, unsupported(p.peek().pos, "list slices are not available")
			}
			p.parened = e
			return e, nil
		case "[":
			p.advance()
			if err := p.enter(t.pos); err != nil {
				return nil, err
			}
			defer p.leave()
			var items []node
			if !p.isOp("]") {
				e, err := p.expr()
				if err != nil {
					return nil, err
				}
				items = flatten(e)
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			return p.subscripts(&arrayNode{at: at(t.pos), items: items})
		case "{":
			return nil, unsupported(t.pos, "anonymous hashes are not available")
		}
	}
	return nil, p.unexpected(t)
}

// flatten returns the arguments or elements a parsed list stands for:
// the items of a comma list, or the words of a qw list that is the whole
// of it, which Perl reads as so many strings: join(qw(- a b)) is
// join('-', 'a', 'b'), where join(qw(- a b), 'c') takes the qw list as
// one argument, and qw() stays one, undef in scalar context.
func flatten(n node) []node {
	switch n := n.(type) {
	case *listNode:
		return n.items
	case *wordsNode:
		if len(n.words) == 0 {
			break
		}
		items := make([]node, len(n.words))
		for i, w := range n.words {
			items[i] = &constNode{at: n.at, v: Str(w)}
		}
		return items
	}
	return []node{n}
}

// stringNode turns a string token into a constant or, with interpolated
// parts, an interpNode whose expressions are parsed here.
func (p *parser) stringNode(t token) (node, error) {
	if t.lit == nil {
		return &constNode{at: at(t.pos), v: Str(t.text)}, nil
	}
	parts := make([]node, 0, len(t.lit.parts))
	for _, part := range t.lit.parts {
		if !part.code {
			parts = append(parts, &constNode{at: at(t.pos), v: Str(part.lit)})
			continue
		}
		toks, err := lex(p.src, part.start, part.end)
		if err != nil {
			return nil, err
		}
		sub := &parser{src: p.src, toks: toks, depth: p.depth, unit: p.unit}
		if err := sub.enter(part.start); err != nil {
			return nil, err
		}
		n, err := sub.primary()
		if err != nil {
			return nil, err
		}
		if rest := sub.peek(); rest.kind != tEOF {
			return nil, sub.unexpected(rest)
		}
		parts = append(parts, n)
	}
	return &interpNode{at: at(t.pos), parts: parts}, nil
}

func (p *parser) scalarVar() (node, error) {
	t := p.advance()
	pos, name := at(t.pos), t.text
	if isDigit(name[0]) {
		n, err := strconv.Atoi(name)
		if err != nil || n < 1 || n > 9 {
			return nil, unsupported(t.pos, "only the captures $1 to $9 are available")
		}
		p.unit.caps = true
		return &captureNode{at: pos, n: n}, nil
	}
	switch name {
	case "r":
		return p.request(t.pos)
	case "C":
		if !p.isOp("->") {
			return nil, unsupported(t.pos, "$C can only be used to call methods ($C->remote_ip)")
		}
		p.advance()
		return p.connection(t.pos)
	case "ctx", "HEADERS":
		if !p.isOp("->") || !isOpTok(p.peekAt(1), "{") {
			return nil, unsupported(t.pos, "$%s can only be used as $%s->{key}", name, name)
		}
		p.advance()
		p.advance()
		key, err := p.hashKey()
		if err != nil {
			return nil, err
		}
		kind := elemCTX
		if name == "HEADERS" {
			kind = elemHeader
		}
		return p.subscripts(&elemNode{at: pos, kind: kind, key: key})
	case "CTX":
		if !p.isOp("{") {
			return nil, unsupported(t.pos, "$CTX is not a variable; use $CTX{key} or $ctx->{key}")
		}
		p.advance()
		key, err := p.hashKey()
		if err != nil {
			return nil, err
		}
		return p.subscripts(&elemNode{at: pos, kind: elemCTX, key: key})
	case "ARGV":
		if !p.isOp("[") {
			return nil, unsupported(t.pos, "$ARGV is not a variable; use $ARGV[n]")
		}
		p.advance()
		index, err := p.index()
		if err != nil {
			return nil, err
		}
		return p.subscripts(&elemNode{at: pos, kind: elemArg, key: index})
	case "ENV":
		return nil, unsupported(t.pos, "the environment (%%ENV) is not available")
	}
	v, ok := scalarVars[name]
	if !ok {
		return nil, unsupported(t.pos, "unknown variable $%s", name)
	}
	switch {
	case p.isOp("["):
		return nil, unsupported(p.peek().pos, "unknown array @%s", name)
	case p.isOp("{"):
		return nil, unsupported(p.peek().pos, "unknown hash %%%s", name)
	}
	return p.subscripts(&varNode{at: pos, v: v})
}

// hashKey parses the subscript after "{": a bareword (or -bareword) is a
// string, anything else an expression.
func (p *parser) hashKey() (node, error) {
	t := p.peek()
	if t.kind == tIdent && isOpTok(p.peekAt(1), "}") {
		p.advance()
		p.advance()
		return &constNode{at: at(t.pos), v: Str(t.text)}, nil
	}
	if isOpTok(t, "-") && p.peekAt(1).kind == tIdent && isOpTok(p.peekAt(2), "}") {
		w := p.peekAt(1).text
		p.i += 3
		return &constNode{at: at(t.pos), v: Str("-" + w)}, nil
	}
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	k, err := p.expr()
	if err != nil {
		return nil, err
	}
	return k, p.expect("}")
}

// index parses the subscript after "[".
func (p *parser) index() (node, error) {
	if err := p.enter(p.peek().pos); err != nil {
		return nil, err
	}
	defer p.leave()
	i, err := p.expr()
	if err != nil {
		return nil, err
	}
	return i, p.expect("]")
}

// subscripts parses [i] and ->[i] after an element or array reference.
func (p *parser) subscripts(n node) (node, error) {
	for {
		t := p.peek()
		switch {
		case isOpTok(t, "["):
			p.advance()
		case isOpTok(t, "->") && isOpTok(p.peekAt(1), "["):
			p.advance()
			p.advance()
		case isOpTok(t, "{"), isOpTok(t, "->") && isOpTok(p.peekAt(1), "{"):
			return nil, unsupported(t.pos, "hash references other than $ctx and $HEADERS are not available")
		case isOpTok(t, "->"):
			return nil, unsupported(t.pos, "method calls on values are not available")
		default:
			return n, nil
		}
		i, err := p.index()
		if err != nil {
			return nil, err
		}
		n = &indexNode{at: at(t.pos), ref: n, index: i}
	}
}

// methodName reads the name after "->".
func (p *parser) methodName() (token, error) {
	m := p.peek()
	switch m.kind {
	case tIdent:
		p.advance()
		return m, nil
	case tScalar:
		return m, unsupported(m.pos, "method calls through a variable ($obj->$name) are not available")
	}
	return m, syntaxErr(m.pos, "method name expected after ->")
}

// callArgs parses an optional parenthesised argument list.
func (p *parser) callArgs() ([]node, error) {
	if !p.isOp("(") {
		return nil, nil
	}
	t := p.advance()
	if p.isOp(")") {
		p.advance()
		return nil, nil
	}
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	return flatten(e), p.expect(")")
}

// noArgs accepts an optional empty "()" after a method name.
func (p *parser) noArgs(m token) error {
	args, err := p.callArgs()
	if err == nil && len(args) > 0 {
		err = unsupported(m.pos, "%s takes no arguments", m.text)
	}
	return err
}

// request parses the $r method surface.
func (p *parser) request(pos int) (node, error) {
	if !p.isOp("->") {
		return nil, unsupported(pos, "$r can only be used to call methods ($r->uri, $r->notes->{key}, ...)")
	}
	p.advance()
	m, err := p.methodName()
	if err != nil {
		return nil, err
	}
	switch m.text {
	case "notes":
		if err := p.noArgs(m); err != nil {
			return nil, err
		}
		return p.notes(pos)
	case "headers_in":
		if err := p.noArgs(m); err != nil {
			return nil, err
		}
		return p.headers(pos)
	case "connection":
		if err := p.noArgs(m); err != nil {
			return nil, err
		}
		if !p.isOp("->") {
			return nil, unsupported(m.pos, "$r->connection can only be used to call remote_ip or keepalive")
		}
		p.advance()
		return p.connection(pos)
	case "main":
		if err := p.noArgs(m); err != nil {
			return nil, err
		}
		if !p.isOp("->") {
			return &mainNode{at: at(pos)}, nil
		}
		p.advance()
		a, err := p.methodName()
		if err != nil {
			return nil, err
		}
		if a.text != "args" {
			return nil, unsupported(a.pos, "$r->main->%s is not available (only $r->main->args)", a.text)
		}
		if err := p.noArgs(a); err != nil {
			return nil, err
		}
		return &mainArgsNode{at: at(pos)}, nil
	case "lookup_uri", "lookup_file", "lookup_method_uri", "internal_redirect", "internal_redirect_handler":
		return nil, unsupported(m.pos, "subrequests and internal redirects ($r->%s) are not available", m.text)
	}
	rm, ok := requestMethods[m.text]
	if !ok {
		return nil, unsupported(m.pos, "the method $r->%s is not available", m.text)
	}
	args, err := p.callArgs()
	if err != nil {
		return nil, err
	}
	switch {
	case len(args) == 0:
		return &varNode{at: at(pos), v: rm.v, method: true}, nil
	case len(args) == 1 && rm.setter:
		return &setterNode{at: at(pos), v: rm.v, arg: args[0]}, nil
	case rm.setter:
		return nil, syntaxErr(m.pos, "$r->%s takes at most one argument", m.text)
	}
	return nil, unsupported(m.pos, "$r->%s cannot be set", m.text)
}

// table parses what follows $r->notes or $r->headers_in: "->{key}",
// which it returns as an element of kind (subscripted further), or
// "->method(args)", whose name and arguments it returns for the caller
// to check. usage is the message for anything else.
func (p *parser) table(pos int, kind elemKind, usage string) (elem node, m token, args []node, err error) {
	if !p.isOp("->") {
		return nil, m, nil, unsupported(pos, "%s", usage)
	}
	p.advance()
	if p.isOp("{") {
		p.advance()
		key, err := p.hashKey()
		if err != nil {
			return nil, m, nil, err
		}
		elem, err = p.subscripts(&elemNode{at: at(pos), kind: kind, key: key})
		return elem, m, nil, err
	}
	if m, err = p.methodName(); err != nil {
		return nil, m, nil, err
	}
	args, err = p.callArgs()
	return nil, m, args, err
}

func (p *parser) notes(pos int) (node, error) {
	elem, m, args, err := p.table(pos, elemNote, "$r->notes can only be used as $r->notes->{key} or with add, get or set")
	if elem != nil || err != nil {
		return elem, err
	}
	switch m.text {
	case "get":
		if len(args) != 1 {
			return nil, syntaxErr(m.pos, "$r->notes->get takes one argument")
		}
		return &elemNode{at: at(pos), kind: elemNote, key: args[0]}, nil
	case "add", "set":
		if len(args) != 2 {
			return nil, syntaxErr(m.pos, "$r->notes->%s takes two arguments", m.text)
		}
		return &noteCallNode{at: at(pos), add: m.text == "add", key: args[0], val: args[1]}, nil
	}
	return nil, unsupported(m.pos, "$r->notes->%s is not available (use add, get or set)", m.text)
}

func (p *parser) headers(pos int) (node, error) {
	elem, m, args, err := p.table(pos, elemHeader, "$r->headers_in can only be used as $r->headers_in->{name}")
	if elem != nil || err != nil {
		return elem, err
	}
	if m.text != "get" {
		return nil, unsupported(m.pos, "$r->headers_in->%s is not available", m.text)
	}
	if len(args) != 1 {
		return nil, syntaxErr(m.pos, "$r->headers_in->get takes one argument")
	}
	return &elemNode{at: at(pos), kind: elemHeader, key: args[0]}, nil
}

// connection parses the method after $r->connection-> or $C->.
func (p *parser) connection(pos int) (node, error) {
	m, err := p.methodName()
	if err != nil {
		return nil, err
	}
	var v Var
	switch m.text {
	case "remote_ip", "client_ip":
		v = ClientIP
	case "keepalive":
		v = KeepAlive
	default:
		return nil, unsupported(m.pos, "the connection method %s is not available (only remote_ip and keepalive)", m.text)
	}
	if err := p.noArgs(m); err != nil {
		return nil, err
	}
	return &varNode{at: at(pos), v: v, method: true}, nil
}

// word parses a bareword in term position: a constant, undef, do, not, a
// function call, or something the language does not offer.
func (p *parser) word() (node, error) {
	t := p.advance()
	pos, name := at(t.pos), t.text
	if c, ok := constants[name]; ok {
		if err := p.noArgs(t); err != nil {
			return nil, err
		}
		return &constNode{at: pos, v: Int(c)}, nil
	}
	switch name {
	case "undef":
		// Perl reads a term after undef as the variable to undefine, and
		// refuses any other term (undef + 1 is undef(+1)).
		next := p.peek()
		if p.isOp("+") {
			next = p.peekAt(1)
		}
		switch {
		case next.kind == tScalar || next.kind == tArray || next.kind == tHash ||
			p.isOp("(") && !isOpTok(p.peekAt(1), ")"):
			return nil, unsupported(t.pos, "undef(EXPR) is not available; assign undef instead")
		case p.isOp("*") || p.isOp("**"):
			return nil, unsupported(t.pos, "typeglobs are not available (Perl reads undef * as undef of a typeglob)")
		case !p.isOp("(") && p.startsTerm():
			return nil, syntaxErr(p.peek().pos, "a term after undef is what undef undefines, and must be a variable (write undef() for the value)")
		}
		if err := p.noArgs(t); err != nil {
			return nil, err
		}
		return &constNode{at: pos, v: Undef()}, nil
	case "do":
		if !p.isOp("{") {
			return nil, unsupported(t.pos, "do FILE is not available")
		}
		return p.block()
	case "not":
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		var x node
		var err error
		switch {
		case p.isOp("("):
			x, err = p.primary()
		case p.startsTerm():
			x, err = p.comma()
		default:
			return nil, syntaxErr(t.pos, "not needs an operand (not() is true)")
		}
		if err != nil {
			return nil, err
		}
		return &unaryNode{at: pos, op: "!", x: x}, nil
	case "if", "unless", "else", "elsif", "and", "or", "x", "eq", "ne", "lt", "gt", "le", "ge", "cmp":
		return nil, p.unexpected(t)
	}
	if b, ok := builtins[name]; ok {
		return p.call(t, b)
	}
	if reason, ok := perlOnly[name]; ok {
		return nil, unsupported(t.pos, "%s", reason)
	}
	if strings.HasPrefix(name, "Apache2::Const::") {
		return nil, unsupported(t.pos, "the constant %s is not available", name)
	}
	if p.isOp("->") {
		return nil, unsupported(t.pos, "class method calls (%s->...) are not available", name)
	}
	if p.isOp("(") || p.startsTerm() {
		return nil, unsupported(t.pos, "the function %s is not available", name)
	}
	return nil, unsupported(t.pos, "the bareword %s is not available (quote strings)", name)
}

// call parses the arguments of a built-in function.
func (p *parser) call(t token, b builtin) (node, error) {
	var args []node
	var err error
	switch {
	case p.isOp("("):
		args, err = p.callArgs()
	case !p.startsTerm():
	case b.unary:
		if err = p.enter(t.pos); err != nil {
			return nil, err
		}
		var x node
		x, err = p.additive()
		p.leave()
		args = flatten(x)
	default:
		if err = p.enter(t.pos); err != nil {
			return nil, err
		}
		var x node
		x, err = p.comma()
		p.leave()
		args = flatten(x)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case len(args) < b.min && b.unary:
		return nil, unsupported(t.pos, "%s without an argument uses $_, which is not available", t.text)
	case len(args) < b.min:
		return nil, syntaxErr(t.pos, "%s needs at least %d arguments", t.text, b.min)
	case b.max >= 0 && len(args) > b.max && t.text == "substr":
		return nil, unsupported(t.pos, "substr with a replacement is not available")
	case b.max >= 0 && len(args) > b.max:
		return nil, syntaxErr(t.pos, "too many arguments for %s", t.text)
	}
	return &callNode{at: at(t.pos), fn: t.text, args: args}, nil
}
