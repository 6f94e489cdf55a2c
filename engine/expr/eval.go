package expr

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
// evaluation with its own Env.
type Program struct {
	src    string
	scalar scalarFn
	list   listFn
	caps   bool
}

// Compile parses src and compiles it to a Program. Regular expressions are
// compiled here, once. The error, always an *Error, tells a syntax error
// from an unsupported Perl construct (Error.Unsupported).
func Compile(src string) (*Program, error) {
	tree, caps, err := parse(src)
	if err != nil {
		return nil, err
	}
	var c compiler
	scalar, err := c.scalar(tree)
	if err != nil {
		return nil, err
	}
	list, err := c.list(tree)
	if err != nil {
		return nil, err
	}
	return &Program{src: src, scalar: scalar, list: list, caps: caps}, nil
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
	vals, err := p.list(p.frame(env), out)
	if err != nil {
		return out, err
	}
	return vals, nil
}
