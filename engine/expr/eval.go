package expr

// MaxSource is the longest source Compile takes, in bytes: compiling
// takes up to about a kilobyte of memory, most of it soon garbage, for
// each byte of source, and a row of a translation table is a line or a
// few, a Doc body some kilobytes. A longer source is an unsupported
// construct.
const MaxSource = 64 << 10

// MaxString is the longest string a single operation may produce
// (concatenation, interpolation, join, sprintf, x); a longer result is a
// runtime error, so that no expression can grow memory without bound.
const MaxString = 1 << 20

// frame is the state of one evaluation: the request, and the captures of
// the last successful match when the program reads $1..$9. It is passed
// by value and nothing of it outlives the evaluation.
type frame struct {
	env  Env
	caps *captures
}

// Program is a compiled expression. It is immutable: compile it once and
// evaluate it any number of times, from any number of goroutines, each
// evaluation with its own Env. A Program value may be copied, for
// instance into a structure of the caller's that it should live in.
type Program struct {
	src    string
	scalar scalarFn // nil when not compiled for scalar context, or constant there
	list   listFn   // nil when not compiled for list context, or constant there
	caps   bool
	// A program that is a constant (Key: 'name', Error: 403, 'text',
	// Config: ['AuthType Basic']) has its value and its list made at
	// compile time: evaluating it calls nothing and reads no memory but
	// the Program's.
	value       Value
	values      []Value
	constScalar bool // value is the program's scalar value
	constList   bool // values is the program's list
	footprint   int  // Footprint
}

// footprint bounds from above the memory a program of n bytes of source
// whose patterns have the size patterns keeps: measured, a compiled
// source keeps up to about 75 bytes per byte (a few hundred bytes for a
// short one), and a pattern about 45 per instruction.
func footprint(n, patterns int) int { return 256 + 80*n + 48*patterns }

// Footprint returns an estimate, from above, of the memory the Program
// keeps, in bytes: its closures, constants and patterns, for a caller
// that bounds what it keeps of many programs.
func (p *Program) Footprint() int { return p.footprint }

// Compile parses src and compiles it to a Program for both contexts.
// Regular expressions are compiled here, once. The error, always an
// *Error, tells a syntax error from an unsupported Perl construct
// (Error.Unsupported).
func Compile(src string) (*Program, error) { return CompileFor(src, ScalarContext|ListContext) }

// A Context is a context a Program evaluates in: ScalarContext,
// ListContext or both.
type Context uint8

// The contexts of CompileFor.
const (
	ScalarContext Context = 1 << iota // for Program.Scalar
	ListContext                       // for Program.List and AppendList
)

// CompileFor is Compile for the contexts in ctx only, for a caller that
// knows how it will evaluate the program: a compiled context is a tree
// of closures, which the program keeps in memory. Evaluating the program
// in a context it was not compiled for is a runtime error.
func CompileFor(src string, ctx Context) (*Program, error) {
	if len(src) > MaxSource {
		return nil, unsupported(-1, "a source of %d bytes: longer than %d, the most compiled", len(src), MaxSource)
	}
	tree, u, err := parse(src)
	if err != nil {
		return nil, err
	}
	p := &Program{src: src, caps: u.caps, footprint: footprint(len(src), u.patterns)}
	c := compiler{caps: u.caps}
	if ctx&ScalarContext != 0 {
		if c.constant(tree) {
			p.value, p.constScalar = constScalar(tree)
		}
		if !p.constScalar {
			if p.scalar, err = c.scalar(tree); err != nil {
				return nil, err
			}
		}
	}
	if ctx&ListContext != 0 {
		if c.constant(tree) {
			p.values, p.constList = constList([]node{tree}, nil)
		}
		if !p.constList {
			if p.list, err = c.list(tree); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// Source returns the text the Program was compiled from.
func (p *Program) Source() string { return p.src }

func (p *Program) frame(env Env) frame {
	fr := frame{env: env}
	if p.caps {
		fr.caps = new(captures)
	}
	return fr
}

// Scalar evaluates the program in scalar context, as Cond, Do, Key, Uri,
// File and the other single-value actions do: the value of the last
// statement, and of a comma list its last element. A failure while
// evaluating (die, a method call on an undefined value, a refused
// assignment) is an *Error with Runtime set, and the value is undef.
//
// Evaluation does not allocate unless the program builds a string, an
// array reference, or reads $1..$9.
func (p *Program) Scalar(env Env) (Value, error) {
	if p.constScalar {
		return p.value, nil
	}
	if p.scalar == nil {
		return Undef(), runtimeErr(-1, "the program was not compiled for scalar context")
	}
	v, err := p.scalar(p.frame(env))
	if err != nil {
		return Undef(), err
	}
	return v, nil
}

// List evaluates the program in list context, as Config, Error,
// Redirect, Call, Restart and Doc do: comma lists and qw are flattened
// (array references are kept as elements). A runtime error gives a nil
// list and an *Error with Runtime set.
func (p *Program) List(env Env) ([]Value, error) { return p.AppendList(env, nil) }

// AppendList is List appending the list to out, so that a caller can
// evaluate into memory it reuses. On an error it returns out as given.
func (p *Program) AppendList(env Env, out []Value) ([]Value, error) {
	if p.constList {
		return append(out, p.values...), nil
	}
	if p.list == nil {
		return out, runtimeErr(-1, "the program was not compiled for list context")
	}
	vals, err := p.list(p.frame(env), out)
	if err != nil {
		return out, err
	}
	return vals, nil
}
