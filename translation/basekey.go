package translation

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"transdb/mmapdb"
)

// ParseBaseKey parses the BaseKey parameter of a provider: the list of
// keys under which its translation table lives in the database file.
//
// A string enclosed in brackets (after trimming white space) is a list
// in Perl syntax, as the original provider evaluated it. Its elements are
// separated by commas (a trailing comma is allowed) and are
//
//   - qw lists: qw/my trans db/ with any delimiter Perl allows, such as
//     qw(...), qw[...], qw{...}, qw<...> (which nest) or qw|...|; the
//     words are separated by white space, and a backslash escapes the
//     delimiter or a backslash;
//   - single-quoted strings: 'my', where \' and \\ are the only escapes;
//   - double-quoted strings: "my", with the escapes \" \\ \n \t \r \f \b
//     \a \e, \xHH (one byte), \x{HHHH} (one Unicode code point), and a
//     backslash before any other punctuation standing for itself. Unlike
//     Perl, $ and @ are not interpolated.
//
// So [qw/my trans db/], ["my","trans","db"] and ['my', 'trans', 'db']
// all give the three keys my, trans and db. An empty list ([] or
// [qw//]) and an empty or all-blank string mean no base key (nil). Any
// other string not starting with a bracket is a one-level base key,
// trimmed: qw/my trans db/ without brackets is the single key
// "qw/my trans db/".
//
// A string that starts with a bracket (after trimming) is always read as
// a list: when it is not a valid one, or lacks its closing bracket, as
// in [qw/my trans db/ or ["my","trans", the result is an error wrapping
// ErrInvalidBaseKey that says what is wrong and where, never a one-level
// key.
func ParseBaseKey(s string) ([]string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, nil
	}
	if t[0] != '[' {
		if err := checkBaseKey([]string{t}); err != nil {
			return nil, err
		}
		return []string{t}, nil
	}
	p := baseKeyParser{offset: strings.Index(s, t)}
	if len(t) < 2 || t[len(t)-1] != ']' {
		return nil, fmt.Errorf("translation: base key %q: %w: %w", s, p.errorf("list without its closing ]"), ErrInvalidBaseKey)
	}
	p.src, p.offset = t[1:len(t)-1], p.offset+1
	if err := p.list(); err != nil {
		return nil, fmt.Errorf("translation: base key %q: %w: %w", s, err, ErrInvalidBaseKey)
	}
	if len(p.keys) == 0 {
		return nil, nil
	}
	if err := checkBaseKey(p.keys); err != nil {
		return nil, err
	}
	return p.keys, nil
}

// checkBaseKey refuses a base key that holds the name of a table's own
// branch, "actn" or "note": its table would lie inside the branches of
// the table at the base key before that name, mixing their lists.
func checkBaseKey(keys []string) error {
	for i, k := range keys {
		if k == branchActions || k == branchNotes {
			return fmt.Errorf("translation: base key %s: %w: %q at position %d is the name of the branch of a table's %s, "+
				"so this table would lie inside the table at %s", FormatBaseKey(keys), ErrInvalidBaseKey, k, i+1,
				map[string]string{branchActions: "actions", branchNotes: "notes"}[k], FormatBaseKey(keys[:i]))
		}
	}
	return nil
}

// FormatBaseKey returns the list form ["a","b"] of a base key, suitable
// for messages and configuration files; ParseBaseKey turns it back into
// keys. Plain keys come out as JSON would write them; a double quote or
// backslash is escaped with a backslash, \n, \t and \r are written as
// such, other control and non-printable characters as \xHH or \x{HHHH},
// and bytes that are not valid UTF-8 as \xHH. No keys give "[]".
func FormatBaseKey(keys []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for j := 0; j < len(k); {
			r, size := utf8.DecodeRuneInString(k[j:])
			switch {
			case r == utf8.RuneError && size == 1:
				fmt.Fprintf(&b, `\x%02X`, k[j])
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\r':
				b.WriteString(`\r`)
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r != ' ' && !unicode.IsPrint(r):
				fmt.Fprintf(&b, `\x{%X}`, r)
			default:
				b.WriteString(k[j : j+size])
			}
			j += size
		}
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// BaseKeys returns the base keys under which the newest version of the
// provider's file holds tables, whatever the provider's own base key;
// see Snapshot.BaseKeys.
func (p *Provider) BaseKeys() ([][]string, error) {
	s, err := p.Snapshot()
	if err != nil {
		return nil, err
	}
	defer s.Release()
	return s.BaseKeys()
}

// BaseKeys returns the base keys under which the snapshot's file holds
// tables, in the bytewise order of their keys; an empty base key, the
// top of the file, comes first. A base key holds a table when the file
// has an index at BASEKEY..., "actn" or at BASEKEY..., "note" (see the
// package documentation), so a new or empty database, and a table whose
// records were all deleted, hold none. The branches of a table are not
// searched further: the cost is a walk of the indices above the tables,
// independent of their size.
func (s *Snapshot) BaseKeys() ([][]string, error) {
	root, err := s.s.Root()
	if err != nil {
		return nil, wrapErr("base keys", err)
	}
	var keys [][]string
	if err := baseKeysUnder(root, nil, &keys); err != nil {
		return nil, wrapErr("base keys", err)
	}
	return keys, nil
}

// baseKeysUnder appends to keys the base keys at and below ix, which is
// at path.
func baseKeysUnder(ix mmapdb.Index, path []string, keys *[][]string) error {
	for _, branch := range []string{branchActions, branchNotes} {
		n, found, err := ix.Get(branch)
		if err != nil {
			return err
		}
		if found && !n.IsLeaf() {
			*keys = append(*keys, slices.Clone(path))
			break
		}
	}
	for e, err := range ix.Entries(0) {
		if err != nil {
			return err
		}
		k := string(e.Key)
		if e.Node.IsLeaf() || k == branchActions || k == branchNotes {
			continue
		}
		sub, err := e.Node.Index()
		if err != nil {
			return err
		}
		if err := baseKeysUnder(sub, append(path[:len(path):len(path)], k), keys); err != nil {
			return err
		}
	}
	return nil
}

// baseKeyParser parses the body of a bracketed base key list.
type baseKeyParser struct {
	src    string // the list without its brackets
	pos    int    // current byte position in src
	offset int    // position of src in the string given to ParseBaseKey
	keys   []string
}

func (p *baseKeyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.offset+p.pos, fmt.Sprintf(format, args...))
}

// peek returns the rune at the current position and its size; size is
// 0 at the end of the input.
func (p *baseKeyParser) peek() (rune, int) {
	if p.pos >= len(p.src) {
		return 0, 0
	}
	return utf8.DecodeRuneInString(p.src[p.pos:])
}

func (p *baseKeyParser) skipSpace() {
	for {
		r, size := p.peek()
		if size == 0 || !unicode.IsSpace(r) {
			return
		}
		p.pos += size
	}
}

// list parses: elements separated by commas, with an optional trailing
// comma; runs of commas count as one, as in Perl.
func (p *baseKeyParser) list() error {
	p.skipSpace()
	for p.pos < len(p.src) {
		if err := p.element(); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos == len(p.src) {
			break
		}
		if p.src[p.pos] != ',' {
			r, _ := p.peek()
			return p.errorf("expected a comma between elements, found %q", r)
		}
		for p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			p.skipSpace()
		}
	}
	return nil
}

func (p *baseKeyParser) element() error {
	rest := p.src[p.pos:]
	switch {
	case rest[0] == '"':
		p.pos++
		return p.doubleQuoted()
	case rest[0] == '\'':
		p.pos++
		s, err := p.delimited('\'', '\'', p.pos-1, "single-quoted string")
		if err != nil {
			return err
		}
		p.keys = append(p.keys, s)
		return nil
	case strings.HasPrefix(rest, "qw"):
		if r, size := utf8.DecodeRuneInString(rest[2:]); size == 0 || !isWordRune(r) {
			return p.qw()
		}
	}
	if r, _ := p.peek(); isWordRune(r) {
		end := p.pos
		for end < len(p.src) {
			r, size := utf8.DecodeRuneInString(p.src[end:])
			if !isWordRune(r) {
				break
			}
			end += size
		}
		return p.errorf("bare word %q: quote the element or use qw/.../", p.src[p.pos:end])
	}
	r, _ := p.peek()
	return p.errorf("unexpected %q: elements are quoted strings or qw lists", r)
}

// qw parses a qw list; p.pos is at the "qw".
func (p *baseKeyParser) qw() error {
	start := p.pos
	p.pos += 2
	p.skipSpace()
	open, size := p.peek()
	if size == 0 {
		p.pos = start
		return p.errorf("qw without a delimiter")
	}
	closing := open
	switch open {
	case '(':
		closing = ')'
	case '[':
		closing = ']'
	case '{':
		closing = '}'
	case '<':
		closing = '>'
	}
	p.pos += size
	body, err := p.delimited(open, closing, start, "qw list")
	if err != nil {
		return err
	}
	p.keys = append(p.keys, strings.Fields(body)...)
	return nil
}

// delimited reads the body of a Perl q-like construct (a single-quoted
// string or a qw list) up to its closing delimiter, which it consumes.
// p.pos is just past the opening delimiter. A backslash before a
// backslash or a delimiter stands for that character; any other
// backslash is kept. When the delimiters differ they nest. start is the
// position of the construct, for error messages.
func (p *baseKeyParser) delimited(open, closing rune, start int, what string) (string, error) {
	var b strings.Builder
	depth := 0
	for {
		r, size := p.peek()
		if size == 0 {
			p.pos = start
			return "", p.errorf("unterminated %s", what)
		}
		p.pos += size
		switch {
		case r == '\\':
			next, nsize := p.peek()
			if nsize > 0 && (next == '\\' || next == open || next == closing) {
				b.WriteRune(next)
				p.pos += nsize
				continue
			}
			b.WriteByte('\\')
			continue
		case r == closing && depth == 0:
			return b.String(), nil
		case r == closing:
			depth--
		case r == open && open != closing:
			depth++
		}
		b.WriteString(p.src[p.pos-size : p.pos])
	}
}

// doubleQuoted reads a double-quoted string; p.pos is just past the
// opening quote.
func (p *baseKeyParser) doubleQuoted() error {
	start := p.pos - 1
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			p.pos = start
			return p.errorf("unterminated double-quoted string")
		}
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			p.keys = append(p.keys, b.String())
			return nil
		case '\\':
			if err := p.escape(&b); err != nil {
				return err
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
}

// escape decodes one backslash escape of a double-quoted string; p.pos is
// at the backslash.
func (p *baseKeyParser) escape(b *strings.Builder) error {
	at := p.pos
	p.pos++
	r, size := p.peek()
	if size == 0 {
		p.pos = at
		return p.errorf("backslash at the end of the list")
	}
	p.pos += size
	if simple, ok := simpleEscapes[r]; ok {
		b.WriteByte(simple)
		return nil
	}
	if r == 'x' {
		return p.hexEscape(b, at)
	}
	if r < utf8.RuneSelf && isWordRune(r) {
		p.pos = at
		return p.errorf("unsupported escape \\%c", r)
	}
	b.WriteString(p.src[p.pos-size : p.pos])
	return nil
}

var simpleEscapes = map[rune]byte{
	'n': '\n', 't': '\t', 'r': '\r', 'f': '\f', 'b': '\b', 'a': '\a', 'e': 0x1b,
}

// hexEscape decodes \xHH (one byte) or \x{H...} (one code point); p.pos
// is just past the x, at is the position of the backslash.
func (p *baseKeyParser) hexEscape(b *strings.Builder, at int) error {
	rest := p.src[p.pos:]
	if strings.HasPrefix(rest, "{") {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			p.pos = at
			return p.errorf(`unterminated \x{...} escape`)
		}
		n, err := strconv.ParseUint(rest[1:end], 16, 32)
		if err != nil || !utf8.ValidRune(rune(n)) {
			p.pos = at
			return p.errorf(`\x{%s} is not a Unicode code point`, rest[1:end])
		}
		b.WriteRune(rune(n))
		p.pos += end + 1
		return nil
	}
	if len(rest) < 2 {
		p.pos = at
		return p.errorf(`\x needs two hex digits or {...}`)
	}
	n, err := strconv.ParseUint(rest[:2], 16, 8)
	if err != nil {
		p.pos = at
		return p.errorf(`\x needs two hex digits or {...}`)
	}
	b.WriteByte(byte(n))
	p.pos += 2
	return nil
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
