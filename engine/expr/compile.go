package expr

import (
	"fmt"
	"slices"
	"strings"
)

// scalarFn evaluates a node in scalar context; listFn in list context,
// appending to out. Both are built once by the compiler and only read the
// frame, so one tree serves any number of concurrent evaluations.
type (
	scalarFn func(fr frame) (Value, error)
	listFn   func(fr frame, out []Value) ([]Value, error)
)

// maxHeight bounds the height of the syntax tree the compiler walks, and
// with it the depth of the closures an evaluation calls through.
const maxHeight = 5 * MaxNesting

// compiler turns the syntax tree into closures.
type compiler struct {
	height int
	caps   bool // the source reads $1..$9: blocks scope the captures
	// varies holds the verdict of constant on each list, array and
	// block it has seen: true when the node holds something that is not
	// constant. Deciding each once keeps compiling linear in the size of
	// the tree, however deeply constant-looking arrays nest.
	varies map[node]bool
}

// constant reports whether n is constant in the sense of constList and
// constScalar: constants, qw lists, empty lists, and lists, arrays and
// blocks of them. Only then do those two build its value.
func (c *compiler) constant(n node) bool {
	var kids []node
	switch n := n.(type) {
	case *constNode, *wordsNode, *emptyNode:
		return true
	case *listNode:
		kids = n.items
	case *arrayNode:
		kids = n.items
	case *blockNode:
		kids = n.stmts
	default:
		return false
	}
	if v, ok := c.varies[n]; ok {
		return !v
	}
	k := true
	for _, kid := range kids {
		if !c.constant(kid) {
			k = false
			break
		}
	}
	if c.varies == nil {
		c.varies = map[node]bool{}
	}
	c.varies[n] = !k
	return k
}

func (c *compiler) enter(n node) error {
	if c.height++; c.height > maxHeight {
		return syntaxErr(n.position(), "expression has more than %d levels of nested operators", maxHeight)
	}
	return nil
}

func (c *compiler) leave() { c.height-- }

func constFn(v Value) scalarFn {
	return func(frame) (Value, error) { return v, nil }
}

// constValue returns the value of a constant node.
func constValue(n node) (Value, bool) {
	if k, ok := n.(*constNode); ok {
		return k.v, true
	}
	return Value{}, false
}

// constList appends to out the values of nodes in list context when
// they are all constant (constants, qw lists, arrays, blocks, empty and
// nested lists of them), and reports whether they are; call it on what
// compiler.constant has found constant, as it may build much before it
// finds out otherwise. Nothing constant has an effect, so a block is the
// list of its last statement.
func constList(nodes []node, out []Value) ([]Value, bool) {
	for _, n := range nodes {
		var ok bool
		switch n := n.(type) {
		case *constNode:
			out = append(out, n.v)
		case *wordsNode:
			for _, w := range n.words {
				out = append(out, Str(w))
			}
		case *emptyNode:
		case *listNode:
			if out, ok = constList(n.items, out); !ok {
				return nil, false
			}
		case *arrayNode:
			elems, ok := constList(n.items, nil)
			if !ok {
				return nil, false
			}
			out = append(out, Ref(elems))
		case *blockNode:
			if len(n.stmts) == 0 {
				continue
			}
			if _, ok = constSequence(n.stmts[:len(n.stmts)-1]); !ok {
				return nil, false
			}
			if out, ok = constList(n.stmts[len(n.stmts)-1:], out); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return out, true
}

// constScalar returns the value of n in scalar context when it is
// constant, as constList tells, and reports whether it is: the last
// element of a list or block, the last word of a qw list.
func constScalar(n node) (Value, bool) {
	switch n := n.(type) {
	case *constNode:
		return n.v, true
	case *wordsNode:
		if len(n.words) == 0 {
			return Undef(), true
		}
		return Str(n.words[len(n.words)-1]), true
	case *emptyNode:
		return Undef(), true
	case *listNode:
		return constSequence(n.items)
	case *blockNode:
		return constSequence(n.stmts)
	case *arrayNode:
		elems, ok := constList(n.items, nil)
		if !ok {
			return Value{}, false
		}
		return Ref(elems), true
	}
	return Value{}, false
}

// constSequence is constScalar of the last of nodes when all of them are
// constant: undef for none.
func constSequence(nodes []node) (Value, bool) {
	v := Undef()
	for _, n := range nodes {
		var ok bool
		if v, ok = constScalar(n); !ok {
			return Value{}, false
		}
	}
	return v, true
}

// scalar compiles n for scalar context.
func (c *compiler) scalar(n node) (scalarFn, error) {
	if err := c.enter(n); err != nil {
		return nil, err
	}
	defer c.leave()
	switch n := n.(type) {
	case *constNode:
		return constFn(n.v), nil
	case *interpNode:
		return c.concat(n.position(), n.parts)
	case *wordsNode:
		if len(n.words) == 0 {
			return constFn(Undef()), nil
		}
		return constFn(Str(n.words[len(n.words)-1])), nil
	case *emptyNode:
		return constFn(Undef()), nil
	case *varNode:
		v := n.v
		return func(fr frame) (Value, error) { return fr.env.Get(v), nil }, nil
	case *captureNode:
		k := n.n
		return func(fr frame) (Value, error) { return fr.caps.get(k), nil }, nil
	case *elemNode:
		return c.elem(n)
	case *indexNode:
		return c.index(n)
	case *mainNode:
		return func(fr frame) (Value, error) {
			if fr.env.HasMain() {
				return yes, nil
			}
			return Undef(), nil
		}, nil
	case *mainArgsNode:
		pos := n.position()
		return func(fr frame) (Value, error) {
			if !fr.env.HasMain() {
				return Undef(), runtimeErr(pos, `Can't call method "args" on an undefined value`)
			}
			return fr.env.Get(MainArgs), nil
		}, nil
	case *setterNode:
		return c.setter(n)
	case *noteCallNode:
		return c.noteCall(n)
	case *unaryNode:
		return c.unary(n)
	case *binaryNode:
		return c.binary(n)
	case *repeatNode:
		// In scalar context the list is its last element, which x
		// repeats as a string: (1, 2) x 2 is 22.
		return c.binary(&binaryNode{at: n.at, op: "x", l: n.l, r: n.r})
	case *compareChainNode:
		return c.compareChain(n)
	case *logicalNode:
		return c.logical(n)
	case *condNode:
		return c.cond(n)
	case *matchNode:
		return c.match(n)
	case *assignNode:
		return c.assign(n)
	case *listNode:
		return c.sequence(n.items)
	case *arrayNode:
		if c.constant(n) {
			// An array of constants is made once: a reference is never
			// modified, so every evaluation can return the same one.
			elems, _ := constList(n.items, nil)
			return constFn(Ref(elems)), nil
		}
		items, err := c.listOf(n.items)
		if err != nil {
			return nil, err
		}
		pos := n.position()
		return func(fr frame) (Value, error) {
			elems, err := items(fr, nil)
			if err != nil {
				return Undef(), err
			}
			// An array is memory made, as a string is: its elements
			// count as work.
			if err := spend(fr.env, pos, int64(len(elems)*valueSize)); err != nil {
				return Undef(), err
			}
			return Ref(elems), nil
		}, nil
	case *callNode:
		return c.call(n)
	case *blockNode:
		f, err := c.sequence(n.stmts)
		if err != nil || !c.caps {
			return f, err
		}
		// The captures of the matches in a block end with it, as Perl
		// scopes them: $1 after it is $1 before it.
		return func(fr frame) (Value, error) {
			if fr.caps == nil {
				return f(fr)
			}
			saved := *fr.caps
			v, err := f(fr)
			*fr.caps = saved
			return v, err
		}, nil
	}
	return nil, syntaxErr(n.position(), "internal error: unknown node %T", n)
}

// list compiles n for list context.
func (c *compiler) list(n node) (listFn, error) {
	if err := c.enter(n); err != nil {
		return nil, err
	}
	defer c.leave()
	switch n := n.(type) {
	case *wordsNode:
		words := make([]Value, len(n.words))
		for i, w := range n.words {
			words[i] = Str(w)
		}
		return func(_ frame, out []Value) ([]Value, error) { return append(out, words...), nil }, nil
	case *emptyNode:
		return func(_ frame, out []Value) ([]Value, error) { return out, nil }, nil
	case *listNode:
		return c.listOf(n.items)
	case *blockNode:
		f, err := c.listSequence(n.stmts)
		if err != nil || !c.caps {
			return f, err
		}
		return func(fr frame, out []Value) ([]Value, error) {
			if fr.caps == nil {
				return f(fr, out)
			}
			saved := *fr.caps
			out, err := f(fr, out)
			*fr.caps = saved
			return out, err
		}, nil
	case *logicalNode:
		return c.logicalList(n)
	case *repeatNode:
		return c.repeatList(n)
	case *condNode:
		cond, err := c.scalar(n.c)
		if err != nil {
			return nil, err
		}
		a, err := c.list(n.a)
		if err != nil {
			return nil, err
		}
		b, err := c.list(n.b)
		if err != nil {
			return nil, err
		}
		return func(fr frame, out []Value) ([]Value, error) {
			v, err := cond(fr)
			if err != nil {
				return out, err
			}
			if v.Truth() {
				return a(fr, out)
			}
			return b(fr, out)
		}, nil
	case *matchNode:
		if !n.neg {
			return c.matchList(n)
		}
	}
	s, err := c.scalar(n)
	if err != nil {
		return nil, err
	}
	return func(fr frame, out []Value) ([]Value, error) {
		v, err := s(fr)
		if err != nil {
			return out, err
		}
		return append(out, v), nil
	}, nil
}

// listOf compiles nodes whose lists are concatenated (flattened).
func (c *compiler) listOf(nodes []node) (listFn, error) {
	fns := make([]listFn, len(nodes))
	for i, n := range nodes {
		f, err := c.list(n)
		if err != nil {
			return nil, err
		}
		fns[i] = f
	}
	if len(fns) == 1 {
		return fns[0], nil
	}
	return func(fr frame, out []Value) ([]Value, error) {
		var err error
		for _, f := range fns {
			if out, err = f(fr, out); err != nil {
				return out, err
			}
		}
		return out, nil
	}, nil
}

// scalars compiles nodes for scalar context.
func (c *compiler) scalars(nodes []node) ([]scalarFn, error) {
	fns := make([]scalarFn, len(nodes))
	for i, n := range nodes {
		f, err := c.scalar(n)
		if err != nil {
			return nil, err
		}
		fns[i] = f
	}
	return fns, nil
}

// sequence evaluates statements or comma-separated items for their
// effects and returns the last one's value: a block's value, and a comma
// list in scalar context.
func (c *compiler) sequence(nodes []node) (scalarFn, error) {
	switch len(nodes) {
	case 0:
		return constFn(Undef()), nil
	case 1:
		return c.scalar(nodes[0])
	}
	fns, err := c.scalars(nodes)
	if err != nil {
		return nil, err
	}
	return func(fr frame) (Value, error) {
		var v Value
		var err error
		for _, f := range fns {
			if v, err = f(fr); err != nil {
				return Undef(), err
			}
		}
		return v, nil
	}, nil
}

// listSequence evaluates all statements but the last for their effects
// and the last in list context.
func (c *compiler) listSequence(nodes []node) (listFn, error) {
	if len(nodes) == 0 {
		return func(_ frame, out []Value) ([]Value, error) { return out, nil }, nil
	}
	init, err := c.scalars(nodes[:len(nodes)-1])
	if err != nil {
		return nil, err
	}
	last, err := c.list(nodes[len(nodes)-1])
	if err != nil {
		return nil, err
	}
	if len(init) == 0 {
		return last, nil
	}
	return func(fr frame, out []Value) ([]Value, error) {
		for _, f := range init {
			if _, err := f(fr); err != nil {
				return out, err
			}
		}
		return last(fr, out)
	}, nil
}

// key compiles a hash key or array index: constant keys are converted
// once.
func (c *compiler) key(n node) (string, scalarFn, error) {
	if v, ok := constValue(n); ok {
		return v.String(), nil, nil
	}
	f, err := c.scalar(n)
	return "", f, err
}

// elem compiles $CTX{k}, $r->notes->{k}, $HEADERS->{k} and $ARGV[i].
func (c *compiler) elem(n *elemNode) (scalarFn, error) {
	if v, ok := constValue(n.key); ok {
		k := v.String()
		switch n.kind {
		case elemCTX:
			return func(fr frame) (Value, error) { return fr.env.CTX(k), nil }, nil
		case elemNote:
			return func(fr frame) (Value, error) { return fr.env.Note(k), nil }, nil
		case elemHeader:
			return func(fr frame) (Value, error) { return fr.env.Header(k), nil }, nil
		}
		i := clampInt(v)
		return func(fr frame) (Value, error) { return fr.env.Arg(i), nil }, nil
	}
	kf, err := c.scalar(n.key)
	if err != nil {
		return nil, err
	}
	kind, pos := n.kind, n.position()
	return func(fr frame) (Value, error) {
		kv, err := kf(fr)
		if err != nil {
			return Undef(), err
		}
		// A computed key is hashed, or compared with the headers' names.
		if err := spend(fr.env, pos, int64(kv.strLen())); err != nil {
			return Undef(), err
		}
		switch kind {
		case elemCTX:
			return fr.env.CTX(kv.String()), nil
		case elemNote:
			return fr.env.Note(kv.String()), nil
		case elemHeader:
			return fr.env.Header(kv.String()), nil
		}
		return fr.env.Arg(clampInt(kv)), nil
	}, nil
}

// index compiles EXPR->[i] on an array reference.
func (c *compiler) index(n *indexNode) (scalarFn, error) {
	ref, err := c.scalar(n.ref)
	if err != nil {
		return nil, err
	}
	idx, err := c.scalar(n.index)
	if err != nil {
		return nil, err
	}
	pos := n.position()
	return func(fr frame) (Value, error) {
		r, err := ref(fr)
		if err != nil {
			return Undef(), err
		}
		iv, err := idx(fr)
		if err != nil {
			return Undef(), err
		}
		if r.IsUndef() {
			return Undef(), nil
		}
		// The index is read as a number: that scans it.
		if err := spend(fr.env, pos, int64(iv.strLen())); err != nil {
			return Undef(), err
		}
		elems, ok := r.Elems()
		if !ok {
			return Undef(), runtimeErr(pos, "Not an ARRAY reference")
		}
		i := clampInt(iv)
		if i < 0 {
			i += len(elems)
		}
		if i < 0 || i >= len(elems) {
			return Undef(), nil
		}
		return elems[i], nil
	}, nil
}

// setErr turns an error of Env.Set into a runtime error.
func setErr(pos int, v Var, err error) error {
	return envErr(pos, fmt.Errorf("cannot set %s: %w", v, err))
}

// setter compiles $r->filename(VALUE) and the like; like mod_perl, it
// returns the previous value.
func (c *compiler) setter(n *setterNode) (scalarFn, error) {
	arg, err := c.scalar(n.arg)
	if err != nil {
		return nil, err
	}
	v, pos := n.v, n.position()
	return func(fr frame) (Value, error) {
		x, err := arg(fr)
		if err != nil {
			return Undef(), err
		}
		old := fr.env.Get(v)
		if err := fr.env.Set(v, x); err != nil {
			return Undef(), setErr(pos, v, err)
		}
		return old, nil
	}, nil
}

// noteCall compiles $r->notes->add(k, v) and ->set(k, v).
func (c *compiler) noteCall(n *noteCallNode) (scalarFn, error) {
	key, err := c.scalar(n.key)
	if err != nil {
		return nil, err
	}
	val, err := c.scalar(n.val)
	if err != nil {
		return nil, err
	}
	add, pos := n.add, n.position()
	return func(fr frame) (Value, error) {
		k, err := key(fr)
		if err != nil {
			return Undef(), err
		}
		x, err := val(fr)
		if err != nil {
			return Undef(), err
		}
		if err := spend(fr.env, pos, int64(k.strLen())); err != nil {
			return Undef(), err
		}
		if add {
			err = fr.env.AddNote(k.String(), x)
		} else {
			err = fr.env.SetNote(k.String(), x)
		}
		if err != nil {
			return Undef(), envErr(pos, err)
		}
		return Undef(), nil
	}, nil
}

func (c *compiler) unary(n *unaryNode) (scalarFn, error) {
	x, err := c.scalar(n.x)
	if err != nil {
		return nil, err
	}
	if n.op == "!" {
		return func(fr frame) (Value, error) {
			v, err := x(fr)
			if err != nil {
				return Undef(), err
			}
			return Bool(!v.Truth()), nil
		}, nil
	}
	pos := n.position()
	return func(fr frame) (Value, error) {
		v, err := x(fr)
		if err != nil {
			return Undef(), err
		}
		// Negating a string copies it, or reads it as a number.
		if err := spend(fr.env, pos, int64(v.strLen())); err != nil {
			return Undef(), err
		}
		return negate(v), nil
	}, nil
}

// concatOperands collects the operands of a chain of . operators and
// interpolated strings, left to right, without recursing into the chain.
func concatOperands(n node) []node {
	var rev []node
	for {
		b, ok := n.(*binaryNode)
		if !ok || b.op != "." {
			break
		}
		rev = append(rev, b.r)
		n = b.l
	}
	rev = append(rev, n)
	var out []node
	for i := len(rev) - 1; i >= 0; i-- {
		if in, ok := rev[i].(*interpNode); ok {
			out = append(out, in.parts...)
		} else {
			out = append(out, rev[i])
		}
	}
	return out
}

// concatPart is a constant string or an expression to stringify.
type concatPart struct {
	lit string
	fn  scalarFn
}

// concat compiles a concatenation of any number of operands into one
// closure that allocates the result once.
func (c *compiler) concat(pos int, nodes []node) (scalarFn, error) {
	var parts []concatPart
	// Consecutive constants are joined into one literal, in a builder:
	// joining them one by one would copy the literal made so far for each.
	// A lone constant is kept as it is.
	var run []string
	flush := func() {
		switch len(run) {
		case 0:
			return
		case 1:
			parts = append(parts, concatPart{lit: run[0]})
		default:
			parts = append(parts, concatPart{lit: strings.Join(run, "")})
		}
		run = run[:0]
	}
	for _, n := range nodes {
		if v, ok := constValue(n); ok {
			if s := v.String(); s != "" {
				run = append(run, s)
			}
			continue
		}
		f, err := c.scalar(n)
		if err != nil {
			return nil, err
		}
		flush()
		parts = append(parts, concatPart{fn: f})
	}
	flush()
	switch {
	case len(parts) == 0:
		return constFn(Str("")), nil
	case len(parts) == 1 && parts[0].fn == nil:
		return constFn(Str(parts[0].lit)), nil
	case len(parts) == 1:
		f := parts[0].fn
		return func(fr frame) (Value, error) {
			// A string is its own value, but the "" of Perl's false,
			// which becomes a plain "".
			v, err := f(fr)
			if err != nil || v.k == kStr && v.n > 0 {
				return v, err
			}
			return Str(v.String()), nil
		}, nil
	}
	// The closure takes a copy of the slice: parts itself, which flush
	// appends to, would be captured through a pointer to a box of its own.
	ps := parts
	return func(fr frame) (Value, error) {
		var buf [8]string
		strs := buf[:0]
		n := 0
		for i := range ps {
			s := ps[i].lit
			if f := ps[i].fn; f != nil {
				v, err := f(fr)
				if err != nil {
					return Undef(), err
				}
				s = v.String()
			}
			strs = append(strs, s)
			n += len(s)
		}
		if n > MaxString {
			return Undef(), tooLong(pos)
		}
		if err := spend(fr.env, pos, int64(n)); err != nil {
			return Undef(), err
		}
		return Str(joinStrings(strs, n)), nil
	}, nil
}

// joinStrings concatenates strs, whose lengths add up to n, allocating at
// most once.
func joinStrings(strs []string, n int) string {
	var only string
	nonEmpty := 0
	for _, s := range strs {
		if s != "" {
			only = s
			nonEmpty++
		}
	}
	if nonEmpty <= 1 {
		return only
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range strs {
		b.WriteString(s)
	}
	return b.String()
}

func tooLong(pos int) error {
	return limitErr(pos, "string result longer than %d bytes", MaxString)
}

// spend tells env of work that grows with the data (Env.Spend); a
// refusal is a runtime error at pos.
func spend(env Env, pos int, work int64) error {
	if err := env.Spend(work); err != nil {
		return limitErr(pos, "%v", err) // whatever it wraps
	}
	return nil
}

// binop applies an arithmetic or string operator to two values; the
// binary operators and the compound assignments share it.
func binop(env Env, op string, pos int, a, b Value) (Value, error) {
	switch op {
	case ".":
		as, bs := a.String(), b.String()
		if len(as)+len(bs) > MaxString {
			return Undef(), tooLong(pos)
		}
		if err := spend(env, pos, int64(len(as)+len(bs))); err != nil {
			return Undef(), err
		}
		return Str(joinStrings([]string{as, bs}, len(as)+len(bs))), nil
	case "x":
		return repeat(env, pos, a, b)
	}
	// Every other operator reads the operands as numbers or compares
	// them as strings: either scans them.
	if err := spend(env, pos, int64(a.strLen()+b.strLen())); err != nil {
		return Undef(), err
	}
	switch op {
	case "+", "-", "*":
		return arith(op[0], a, b), nil
	case "/":
		v, ok := divide(a, b)
		if !ok {
			return Undef(), runtimeErr(pos, "Illegal division by zero")
		}
		return v, nil
	case "%":
		v, ok := modulo(a, b)
		if !ok {
			return Undef(), runtimeErr(pos, "Illegal modulus zero")
		}
		return v, nil
	case "**":
		return power(a, b), nil
	}
	return compare(op, a, b), nil
}

// repeatCount reads the count of x as Perl's pp_repeat does: an
// unsigned integer from 2^63 is the largest count, and anything else is
// used as an integer (see perlIV), a count below 1 doing nothing, so that
// a float from 2^63, Inf and NaN, which are negative or 0 as integers,
// repeat nothing ('a' x 1e19 is ""). A count past MaxString, more than any
// result can hold, is MaxString+1.
func repeatCount(env Env, pos int, b Value) (int, error) {
	// The count is read as a number: that scans it.
	if err := spend(env, pos, int64(b.strLen())); err != nil {
		return 0, err
	}
	if b.k == kUint {
		return MaxString + 1, nil
	}
	return int(min(max(b.iv(), 0), MaxString+1)), nil
}

// repeat is Perl's string repetition x.
func repeat(env Env, pos int, a, b Value) (Value, error) {
	s := a.String()
	n, err := repeatCount(env, pos, b)
	if err != nil {
		return Undef(), err
	}
	if n == 0 || s == "" {
		return Str(""), nil
	}
	if n > MaxString/len(s) {
		return Undef(), tooLong(pos)
	}
	if err := spend(env, pos, int64(len(s))*int64(n)); err != nil {
		return Undef(), err
	}
	return Str(strings.Repeat(s, n)), nil
}

// repeatList compiles (LIST) x N and qw(...) x N in list context: the
// list, then the count, as Perl evaluates them, and the list repeated.
func (c *compiler) repeatList(n *repeatNode) (listFn, error) {
	items, err := c.list(n.l)
	if err != nil {
		return nil, err
	}
	count, err := c.scalar(n.r)
	if err != nil {
		return nil, err
	}
	pos := n.position()
	return func(fr frame, out []Value) ([]Value, error) {
		start := len(out)
		out, err := items(fr, out)
		if err != nil {
			return out, err
		}
		k, err := count(fr)
		if err != nil {
			return out, err
		}
		return repeatValues(fr.env, pos, out, start, k)
	}, nil
}

// repeatValues repeats the values out[start:] as the count b says, in
// place; their list is bounded as a string is, counting each element
// valueSize bytes.
func repeatValues(env Env, pos int, out []Value, start int, b Value) ([]Value, error) {
	n, err := repeatCount(env, pos, b)
	if err != nil {
		return out, err
	}
	items := out[start:]
	if n == 0 || len(items) == 0 {
		return out[:start], nil
	}
	if n > MaxString/(valueSize*len(items)) {
		return out, limitErr(pos, "list result larger than %d bytes", MaxString)
	}
	if err := spend(env, pos, int64(valueSize*len(items)*n)); err != nil {
		return out, err
	}
	out = slices.Grow(out, len(items)*(n-1))
	for range n - 1 {
		out = append(out, items...)
	}
	return out, nil
}

// compare applies a comparison operator.
func compare(op string, a, b Value) Value {
	switch op {
	case "eq":
		return Bool(a.String() == b.String())
	case "ne":
		return Bool(a.String() != b.String())
	case "lt":
		return Bool(a.String() < b.String())
	case "gt":
		return Bool(a.String() > b.String())
	case "le":
		return Bool(a.String() <= b.String())
	case "ge":
		return Bool(a.String() >= b.String())
	case "cmp":
		return Int(int64(strings.Compare(a.String(), b.String())))
	}
	r, ok := compareNum(a, b)
	switch op {
	case "==":
		return Bool(ok && r == 0)
	case "!=":
		return Bool(!ok || r != 0)
	case "<":
		return Bool(ok && r < 0)
	case ">":
		return Bool(ok && r > 0)
	case "<=":
		return Bool(ok && r <= 0)
	case ">=":
		return Bool(ok && r >= 0)
	}
	if !ok { // <=> with NaN
		return Undef()
	}
	return Int(int64(r))
}

func (c *compiler) binary(n *binaryNode) (scalarFn, error) {
	if n.op == "." {
		return c.concat(n.position(), concatOperands(n))
	}
	if l, ok := n.l.(*binaryNode); ok && l.op != "." {
		return c.binaryChain(n)
	}
	l, err := c.scalar(n.l)
	if err != nil {
		return nil, err
	}
	op, pos := n.op, n.position()
	// The string equality tests against a constant are the hot path of
	// Cond actions: no conversion of the constant, no allocation.
	if k, ok := constValue(n.r); ok && (op == "eq" || op == "ne") {
		ks, want := k.String(), op == "eq"
		return func(fr frame) (Value, error) {
			a, err := l(fr)
			if err != nil {
				return Undef(), err
			}
			if err := spend(fr.env, pos, int64(a.strLen())); err != nil {
				return Undef(), err
			}
			return Bool((a.String() == ks) == want), nil
		}, nil
	}
	r, err := c.scalar(n.r)
	if err != nil {
		return nil, err
	}
	return func(fr frame) (Value, error) {
		a, err := l(fr)
		if err != nil {
			return Undef(), err
		}
		b, err := r(fr)
		if err != nil {
			return Undef(), err
		}
		return binop(fr.env, op, pos, a, b)
	}, nil
}

// A chainLink is one operator of a chain down the left side of a tree,
// with its compiled right operand.
type chainLink struct {
	op  string
	pos int
	r   scalarFn
}

// chain compiles the chain of operators down the left side of n, as far
// as they are of one kind: && || // when logical, else the binary
// operators but "." (whose chains concat compiles). It returns the
// innermost left operand and the links, innermost first. However long,
// a chain is one level of nesting, as concatenations are.
func (c *compiler) chain(n node, logical bool) (scalarFn, []chainLink, error) {
	down := func(n node) (op string, l, r node, ok bool) {
		switch b := n.(type) {
		case *binaryNode:
			return b.op, b.l, b.r, !logical && b.op != "."
		case *logicalNode:
			return b.op, b.l, b.r, logical
		}
		return "", nil, nil, false
	}
	type link struct {
		op  string
		pos int
		r   node
	}
	var spine []link
	first := n
	for op, l, r, ok := down(first); ok; op, l, r, ok = down(first) {
		spine = append(spine, link{op, first.position(), r})
		first = l
	}
	f, err := c.scalar(first)
	if err != nil {
		return nil, nil, err
	}
	links := make([]chainLink, len(spine))
	for i := range spine {
		k := spine[len(spine)-1-i]
		r, err := c.scalar(k.r)
		if err != nil {
			return nil, nil, err
		}
		links[i] = chainLink{k.op, k.pos, r}
	}
	return f, links, nil
}

// binaryChain compiles the operators down the left side of n (1+2-3*4
// is ((1+2)-(3*4))) as one loop over them.
func (c *compiler) binaryChain(n *binaryNode) (scalarFn, error) {
	l, links, err := c.chain(n, false)
	if err != nil {
		return nil, err
	}
	return func(fr frame) (Value, error) {
		a, err := l(fr)
		if err != nil {
			return Undef(), err
		}
		for _, k := range links {
			b, err := k.r(fr)
			if err != nil {
				return Undef(), err
			}
			if a, err = binop(fr.env, k.op, k.pos, a, b); err != nil {
				return Undef(), err
			}
		}
		return a, nil
	}, nil
}

// compareChain compiles a chain of comparisons as Perl runs it: a < b <= c
// is a < b && b <= c with b evaluated once, and its value is that of the
// first comparison that fails, or of the last one.
func (c *compiler) compareChain(n *compareChainNode) (scalarFn, error) {
	first, err := c.scalar(n.first)
	if err != nil {
		return nil, err
	}
	links := make([]chainLink, len(n.links))
	for i, k := range n.links {
		r, err := c.scalar(k.r)
		if err != nil {
			return nil, err
		}
		links[i] = chainLink{k.op, k.pos, r}
	}
	return func(fr frame) (Value, error) {
		a, err := first(fr)
		if err != nil {
			return Undef(), err
		}
		var v Value
		for _, k := range links {
			b, err := k.r(fr)
			if err != nil {
				return Undef(), err
			}
			if v, err = binop(fr.env, k.op, k.pos, a, b); err != nil || !v.Truth() {
				return v, err
			}
			a = b
		}
		return v, nil
	}, nil
}

// decides reports whether the left operand of && || // is the result.
func decides(op string, v Value) bool {
	switch op {
	case "&&":
		return !v.Truth()
	case "||":
		return v.Truth()
	}
	return !v.IsUndef() // "//"
}

func (c *compiler) logical(n *logicalNode) (scalarFn, error) {
	if _, ok := n.l.(*logicalNode); ok {
		return c.logicalChain(n)
	}
	l, err := c.scalar(n.l)
	if err != nil {
		return nil, err
	}
	r, err := c.scalar(n.r)
	if err != nil {
		return nil, err
	}
	op := n.op
	return func(fr frame) (Value, error) {
		v, err := l(fr)
		if err != nil || decides(op, v) {
			return v, err
		}
		return r(fr)
	}, nil
}

// logicalChain compiles the && || // down the left side of n (a || b
// || c is ((a || b) || c)) as one loop, as binaryChain does: each
// right operand runs unless the value so far decides its operator.
func (c *compiler) logicalChain(n *logicalNode) (scalarFn, error) {
	l, links, err := c.chain(n, true)
	if err != nil {
		return nil, err
	}
	return func(fr frame) (Value, error) {
		v, err := l(fr)
		for _, k := range links {
			if err != nil || decides(k.op, v) {
				continue
			}
			v, err = k.r(fr)
		}
		return v, err
	}, nil
}

// logicalList compiles && || // in list context: the left operand is a
// scalar, the right one inherits the context.
func (c *compiler) logicalList(n *logicalNode) (listFn, error) {
	l, err := c.scalar(n.l)
	if err != nil {
		return nil, err
	}
	r, err := c.list(n.r)
	if err != nil {
		return nil, err
	}
	op := n.op
	return func(fr frame, out []Value) ([]Value, error) {
		v, err := l(fr)
		if err != nil {
			return out, err
		}
		if decides(op, v) {
			return append(out, v), nil
		}
		return r(fr, out)
	}, nil
}

func (c *compiler) cond(n *condNode) (scalarFn, error) {
	cond, err := c.scalar(n.c)
	if err != nil {
		return nil, err
	}
	a, err := c.scalar(n.a)
	if err != nil {
		return nil, err
	}
	b, err := c.scalar(n.b)
	if err != nil {
		return nil, err
	}
	return func(fr frame) (Value, error) {
		v, err := cond(fr)
		if err != nil {
			return Undef(), err
		}
		if v.Truth() {
			return a(fr)
		}
		return b(fr)
	}, nil
}

func (c *compiler) match(n *matchNode) (scalarFn, error) {
	x, err := c.scalar(n.x)
	if err != nil {
		return nil, err
	}
	re, neg, pos := n.re, n.neg, n.position()
	return func(fr frame) (Value, error) {
		v, err := x(fr)
		if err != nil {
			return Undef(), err
		}
		s := v.String()
		if err := re.affordable(fr.env, s, fr.caps != nil, pos); err != nil {
			return Undef(), err
		}
		return Bool(re.match(s, fr.caps) != neg), nil
	}, nil
}

// matchList compiles a match in list context: the groups, or (1) for a
// pattern without groups, or the empty list.
func (c *compiler) matchList(n *matchNode) (listFn, error) {
	x, err := c.scalar(n.x)
	if err != nil {
		return nil, err
	}
	re, pos := n.re, n.position()
	return func(fr frame, out []Value) ([]Value, error) {
		v, err := x(fr)
		if err != nil {
			return out, err
		}
		s := v.String()
		if err := re.affordable(fr.env, s, true, pos); err != nil {
			return out, err
		}
		out, _ = re.groups(s, fr.caps, out)
		return out, nil
	}, nil
}

// lvalue reads and writes an assignable place; key is "" for variables.
type lvalue struct {
	constKey string
	key      scalarFn // nil: constKey
	get      func(env Env, key string) Value
	set      func(env Env, key string, x Value) error
	// vivifies is set for an element of %CTX, a plain hash, which an
	// assignment creates even when it assigns nothing: Perl's
	// $CTX{new} &&= 1 leaves the key new holding undef. The notes are
	// a tied hash, which only an assignment changes.
	vivifies bool
}

func (c *compiler) lvalue(n node) (*lvalue, error) {
	switch n := n.(type) {
	case *varNode:
		v, pos := n.v, n.position()
		return &lvalue{
			get: func(env Env, _ string) Value { return env.Get(v) },
			set: func(env Env, _ string, x Value) error {
				if err := env.Set(v, x); err != nil {
					return setErr(pos, v, err)
				}
				return nil
			},
		}, nil
	case *elemNode:
		k, kf, err := c.key(n.key)
		if err != nil {
			return nil, err
		}
		lv := &lvalue{constKey: k, key: kf, vivifies: n.kind == elemCTX}
		pos := n.position()
		kept := func(err error) error {
			if err != nil {
				return envErr(pos, err)
			}
			return nil
		}
		if n.kind == elemNote {
			lv.get = func(env Env, key string) Value { return env.Note(key) }
			lv.set = func(env Env, key string, x Value) error { return kept(env.SetNote(key, x)) }
		} else {
			lv.get = func(env Env, key string) Value { return env.CTX(key) }
			lv.set = func(env Env, key string, x Value) error { return kept(env.SetCTX(key, x)) }
		}
		return lv, nil
	}
	return nil, syntaxErr(n.position(), "cannot assign to this expression")
}

// assign compiles = and the compound assignments. The value of an
// assignment is the value assigned.
func (c *compiler) assign(n *assignNode) (scalarFn, error) {
	lv, err := c.lvalue(n.target)
	if err != nil {
		return nil, err
	}
	val, err := c.scalar(n.val)
	if err != nil {
		return nil, err
	}
	op, pos := n.op, n.position()
	return func(fr frame) (Value, error) {
		var x Value
		var err error
		if op == "=" {
			// Perl evaluates the right side of = first ($CTX{$KEY} =
			// ($KEY = 'k') sets $CTX{k}), and the left side of a
			// compound assignment first.
			if x, err = val(fr); err != nil {
				return Undef(), err
			}
		}
		key := lv.constKey
		if lv.key != nil {
			k, err := lv.key(fr)
			if err != nil {
				return Undef(), err
			}
			if err := spend(fr.env, pos, int64(k.strLen())); err != nil {
				return Undef(), err
			}
			key = k.String()
		}
		switch op {
		case "=":
		case "||", "&&", "//":
			old := lv.get(fr.env, key)
			if decides(op, old) {
				if lv.vivifies && old.IsUndef() { // perhaps a missing key
					err = lv.set(fr.env, key, old)
				}
				return old, err
			}
			x, err = val(fr)
		default:
			var r Value
			if r, err = val(fr); err == nil {
				old := lv.get(fr.env, key)
				if old.IsUndef() && (op == "+" || op == "-") {
					old = Int(0) // as Perl's += and -= take an undefined target
				}
				x, err = binop(fr.env, op, pos, old, r)
			}
		}
		if err != nil {
			return Undef(), err
		}
		if err := lv.set(fr.env, key, x); err != nil {
			return Undef(), err
		}
		return x, nil
	}, nil
}
