package expr

// node is an element of the syntax tree.
type node interface{ position() int }

// at is the byte offset of a node in the source.
type at int

func (a at) position() int { return int(a) }

// A compareLink is one operator of a chain of comparisons with its right
// operand.
type compareLink struct {
	op  string
	pos int
	r   node
}

type (
	constNode struct { // number, string, constant or undef
		at
		v Value
	}
	interpNode struct { // "..$x.." and "${x}": concatenation of its parts
		at
		parts []node
	}
	wordsNode struct { // qw(...)
		at
		words []string
	}
	emptyNode struct{ at } // ()
	varNode   struct {     // $URI, or a $r getter such as $r->uri
		at
		v      Var
		method bool
	}
	captureNode struct { // $1..$9
		at
		n int
	}
	elemNode struct { // $CTX{k}, $r->notes->{k}, $HEADERS->{k}, $ARGV[i]
		at
		kind elemKind
		key  node
	}
	indexNode struct { // EXPR->[i] on an array reference
		at
		ref, index node
	}
	mainNode     struct{ at } // $r->main
	mainArgsNode struct{ at } // $r->main->args
	setterNode   struct {     // $r->filename(VALUE)
		at
		v   Var
		arg node
	}
	noteCallNode struct { // $r->notes->add(k, v), ->set(k, v)
		at
		add      bool
		key, val node
	}
	unaryNode struct { // ! not - (op "!" or "neg")
		at
		op string
		x  node
	}
	binaryNode struct { // arithmetic, string and comparison operators
		at
		op   string
		l, r node
	}
	repeatNode struct { // (LIST) x N, qw(...) x N: x that repeats a list
		at
		l, r node
	}
	compareChainNode struct { // a < b <= c: each operand evaluated once
		at
		first node
		links []compareLink
	}
	logicalNode struct { // && || // (and, or, if and unless map onto them)
		at
		op   string
		l, r node
	}
	condNode struct { // c ? a : b
		at
		c, a, b node
	}
	matchNode struct { // x =~ /re/, x !~ /re/
		at
		x   node
		re  *regex
		neg bool
	}
	assignNode struct { // target = val, target .= val, ...
		at
		op     string // "=" or the binary operator of a compound assignment
		target node
		val    node
	}
	listNode struct { // a, b, c
		at
		items []node
	}
	arrayNode struct { // [ ... ]
		at
		items []node
	}
	callNode struct { // join, lc, uc, length, substr, sprintf, defined, die
		at
		fn   string
		args []node
	}
	blockNode struct { // do { ... } and the program itself
		at
		stmts []node
	}
)

// elemKind says which table an elemNode reads.
type elemKind uint8

const (
	elemCTX elemKind = iota
	elemNote
	elemHeader
	elemArg
)
