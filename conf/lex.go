package conf

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// logicalLine is one directive: a physical line, or several joined by
// trailing backslashes, trimmed.
type logicalLine struct {
	num  int    // 1-based number of its first physical line
	text string // never empty, never a comment
}

// logicalLines splits src into directives. It drops a leading byte order
// mark, trims every physical line (which also removes the \r of CRLF
// line ends), joins continued lines with a single space and skips blank
// lines and comments. As in Apache, continuation is done before comments
// are recognised, so a comment ending in a backslash continues too.
func logicalLines(src string) []logicalLine {
	src = strings.TrimPrefix(src, "\ufeff")
	phys := strings.Split(src, "\n")
	var out []logicalLine
	var parts []string
	for i := 0; i < len(phys); i++ {
		start := i
		parts = parts[:0]
		for {
			s := strings.TrimSpace(phys[i])
			cont := strings.HasSuffix(s, `\`)
			if cont {
				s = strings.TrimSpace(s[:len(s)-1])
			}
			if s != "" {
				parts = append(parts, s)
			}
			if !cont || i+1 == len(phys) {
				break
			}
			i++
		}
		text := strings.Join(parts, " ")
		if text == "" || text[0] == '#' {
			continue
		}
		out = append(out, logicalLine{num: start + 1, text: text})
	}
	return out
}

// splitWord returns the first white-space separated word of s and the
// trimmed rest.
func splitWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// value is a directive or parameter value with its quotes removed.
type value struct {
	text  string
	quote byte // '"', '\'' or 0 when the value was not quoted
}

// missing reports whether no value was given at all. An empty quoted
// value, in double or single quotes, is given.
func (v value) missing() bool { return v.text == "" && v.quote == 0 }

// expanded returns the text with ${VAR} replaced by lookup, except for a
// single-quoted value, which is literal.
func (v value) expanded(lookup func(string) (string, bool)) string {
	if v.quote == '\'' {
		return v.text
	}
	return expand(v.text, lookup)
}

var (
	errUnclosedQuote = errors.New("missing closing quote")
	errAfterQuote    = errors.New("unexpected text after closing quote")
)

// unquote removes the quotes around s when s starts with a single or
// double quote. The quote must close at the end of s, and s may not
// contain it in between.
func unquote(s string) (value, error) {
	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return value{text: s}, nil
	}
	end := strings.IndexByte(s[1:], s[0])
	switch {
	case end < 0:
		return value{}, errUnclosedQuote
	case 1+end != len(s)-1:
		return value{}, errAfterQuote
	}
	return value{text: s[1 : len(s)-1], quote: s[0]}, nil
}

// expand replaces every ${NAME} in s, where NAME is a letter or
// underscore followed by letters, digits or underscores, with the value
// lookup gives (empty when unset). Anything else, including a ${ without
// a closing brace, is kept as written.
func expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+2:]
		end := strings.IndexByte(s, '}')
		if end < 0 || !isVarName(s[:end]) {
			b.WriteString("${")
			continue
		}
		v, _ := lookup(s[:end])
		b.WriteString(v)
		s = s[end+1:]
	}
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// param is one name=value pair of the one-line TranslationProvider form.
type param struct {
	name string
	val  value
}

// splitParams splits the parameters of the one-line form,
// "name=value name='quoted value' ...". An unquoted value ends at white
// space; a quoted one at its closing quote, which must be followed by
// white space or the end of the line.
func splitParams(s string) ([]param, error) {
	var out []param
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			return out, nil
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		eq := strings.IndexByte(s[:end], '=')
		if eq < 0 {
			return nil, fmt.Errorf("expected name=value, got %q (quote values that contain spaces)", s[:end])
		}
		if eq == 0 {
			return nil, fmt.Errorf("missing parameter name before = in %q", s[:end])
		}
		name := s[:eq]
		s = s[eq+1:]
		if s == "" || (s[0] != '"' && s[0] != '\'') {
			end = strings.IndexFunc(s, unicode.IsSpace)
			if end < 0 {
				end = len(s)
			}
			out = append(out, param{name: name, val: value{text: s[:end]}})
			s = s[end:]
			continue
		}
		q := s[0]
		end = strings.IndexByte(s[1:], q) + 1 // index of the closing quote in s
		if end == 0 {
			return nil, fmt.Errorf("parameter %s: %w", name, errUnclosedQuote)
		}
		rest := s[end+1:]
		if r, _ := utf8.DecodeRuneInString(rest); rest != "" && !unicode.IsSpace(r) {
			return nil, fmt.Errorf("parameter %s: %w", name, errAfterQuote)
		}
		out = append(out, param{name: name, val: value{text: s[1:end], quote: q}})
		s = rest
	}
}
