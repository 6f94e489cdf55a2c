package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// builtin describes a function: its argument count and whether it parses
// as a named unary operator (lc $x eq 'a' is lc($x) eq 'a').
type builtin struct {
	min, max int // max -1: any number
	unary    bool
}

var builtins = map[string]builtin{
	"join":    {min: 1, max: -1},
	"lc":      {min: 1, max: 1, unary: true},
	"uc":      {min: 1, max: 1, unary: true},
	"length":  {min: 1, max: 1, unary: true},
	"defined": {min: 1, max: 1, unary: true},
	"substr":  {min: 2, max: 3},
	"sprintf": {min: 1, max: -1},
	"die":     {min: 0, max: -1},
}

// maxFormatWidth bounds the width and precision of a sprintf conversion.
const maxFormatWidth = 1000

// call compiles a built-in function. Strings are byte strings, as the
// request data of Apache2::Translation is: lc and uc change ASCII letters
// only, length and substr count bytes.
func (c *compiler) call(n *callNode) (scalarFn, error) {
	pos := n.position()
	switch n.fn {
	case "lc", "uc", "length", "defined":
		x, err := c.scalar(n.args[0])
		if err != nil {
			return nil, err
		}
		var f func(Value) Value
		switch n.fn {
		case "lc":
			f = func(v Value) Value { return Str(mapASCII(v.String(), 'A', 'Z', 'a'-'A')) }
		case "uc":
			f = func(v Value) Value { return Str(mapASCII(v.String(), 'a', 'z', 'A'-'a')) }
		case "length":
			f = func(v Value) Value {
				if v.IsUndef() {
					return v
				}
				return Int(int64(len(v.String())))
			}
		default:
			f = func(v Value) Value { return Bool(!v.IsUndef()) }
		}
		builds := n.fn == "lc" || n.fn == "uc"
		return func(fr frame) (Value, error) {
			v, err := x(fr)
			if err != nil {
				return Undef(), err
			}
			if builds {
				if err := spend(fr.env, pos, int64(v.strLen())); err != nil {
					return Undef(), err
				}
			}
			return f(v), nil
		}, nil
	case "substr":
		args, err := c.scalars(n.args)
		if err != nil {
			return nil, err
		}
		return func(fr frame) (Value, error) {
			var vals [3]Value
			for i, f := range args {
				v, err := f(fr)
				if err != nil {
					return Undef(), err
				}
				vals[i] = v
			}
			// The offset and length are read as numbers: that scans them.
			if err := spend(fr.env, pos, int64(vals[1].strLen()+vals[2].strLen())); err != nil {
				return Undef(), err
			}
			return substr(vals[0].String(), vals[1], vals[2], len(args) == 3), nil
		}, nil
	case "join", "sprintf":
		first, err := c.scalar(n.args[0])
		if err != nil {
			return nil, err
		}
		rest, err := c.listOf(n.args[1:])
		if err != nil {
			return nil, err
		}
		join := n.fn == "join"
		return func(fr frame) (Value, error) {
			f, err := first(fr)
			if err != nil {
				return Undef(), err
			}
			vals, err := rest(fr, nil)
			if err != nil {
				return Undef(), err
			}
			var s string
			if join {
				s, err = joinValues(pos, f.String(), vals)
			} else {
				s, err = sprintf(fr.env, pos, f.String(), vals)
			}
			if err != nil {
				return Undef(), err
			}
			if err := spend(fr.env, pos, int64(len(s))); err != nil {
				return Undef(), err
			}
			return Str(s), nil
		}, nil
	case "die":
		args, err := c.listOf(n.args)
		if err != nil {
			return nil, err
		}
		return func(fr frame) (Value, error) {
			vals, err := args(fr, nil)
			if err != nil {
				return Undef(), err
			}
			msg, err := joinValues(pos, "", vals)
			if err != nil {
				return Undef(), err
			}
			if err := spend(fr.env, pos, int64(len(msg))); err != nil {
				return Undef(), err
			}
			msg = strings.TrimSuffix(msg, "\n")
			if msg == "" {
				msg = "Died"
			}
			return Undef(), &Error{Pos: pos, Msg: msg, Runtime: true}
		}, nil
	}
	return nil, unsupported(pos, "the function %s is not available", n.fn)
}

// mapASCII shifts the ASCII letters lo..hi of s by delta, returning s
// itself when nothing changes.
func mapASCII(s string, lo, hi byte, delta int) string {
	i := 0
	for i < len(s) && (s[i] < lo || s[i] > hi) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if lo <= b[i] && b[i] <= hi {
			b[i] = byte(int(b[i]) + delta)
		}
	}
	return string(b)
}

// joinValues joins the string values of vals with sep.
func joinValues(pos int, sep string, vals []Value) (string, error) {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(v.String())
		if b.Len() > MaxString {
			return "", tooLong(pos)
		}
	}
	return b.String(), nil
}

// clampInt converts a number to an int as Perl uses it as an integer
// (see perlIV), bounded to ±2^53 so that offsets and lengths added
// together cannot overflow.
func clampInt(v Value) int {
	return int(min(max(v.iv(), -(1<<53)), 1<<53))
}

// substrInt reads an offset or length of substr as Perl does: as
// clampInt, except that an unsigned integer from 2^63 is a large
// positive one.
func substrInt(v Value) int {
	if n := v.number(); n.isInt && !n.neg {
		return int(min(n.mag, 1<<53))
	}
	return clampInt(v)
}

// substr is Perl's substr with 2 or 3 arguments, including its negative
// offsets and lengths; an offset outside the string gives undef.
func substr(s string, offV, lenV Value, hasLen bool) Value {
	l := len(s)
	pos := substrInt(offV)
	if pos < 0 && l > 0 {
		pos += l
	}
	if pos > l {
		return Undef()
	}
	end := l
	if hasLen {
		n := substrInt(lenV)
		switch {
		case n < 0:
			end = l + n
		case pos < 0:
			end = pos + n
		default:
			end = min(pos+n, l)
		}
	}
	if end < 0 {
		if pos < 0 {
			return Undef()
		}
		end = 0
	} else if pos < 0 {
		pos = 0
	}
	end = max(end, pos)
	end = min(end, l)
	return Str(s[pos:end])
}

// sprintf is Perl's sprintf for the conversions %% %c %s %d %i %u %o %x %X
// %b %B %e %E %f %F %g %G %a %A and the synonyms %D %U %O, with flags,
// width, precision, *, explicit argument indexes (%2$s, %*2$d, %.*3$f),
// size modifiers (%hd) and the vector flag of the integer conversions
// (%vd, %*vx). A missing argument is undef; an unknown conversion is
// copied as it is, as Perl does; what Perl dies of (%c of Inf or of a
// negative code, %n) is a runtime error.
//
// The format is scanned once, and each argument each time a conversion
// reads it (%1$s may read one many times): env is told of both.
func sprintf(env Env, pos int, format string, args []Value) (string, error) {
	if err := spend(env, pos, int64(len(format))); err != nil {
		return "", err
	}
	var b strings.Builder
	next := 0
	var spent error
	arg := func(index int) Value {
		v := Undef()
		switch {
		case index > 0 && index <= len(args):
			v = args[index-1]
		case index <= 0 && next < len(args):
			next++
			v = args[next-1]
		}
		if spent == nil {
			spent = spend(env, pos, int64(v.strLen()))
		}
		return v
	}
	for i := 0; i < len(format); {
		if b.Len() > MaxString {
			return "", tooLong(pos)
		}
		c := format[i]
		if c != '%' {
			j := strings.IndexByte(format[i:], '%')
			if j < 0 {
				j = len(format) - i
			}
			b.WriteString(format[i : i+j])
			i += j
			continue
		}
		start := i
		i++
		// %N$: explicit argument index.
		var index int
		index, i = explicitIndex(format, i)
		// Each flag once: a flag said again changes nothing.
		var flags []byte
		var seen [5]bool
	flagLoop:
		for ; i < len(format); i++ {
			f := strings.IndexByte("-+ 0#", format[i])
			switch {
			case f < 0:
				break flagLoop
			case !seen[f]:
				seen[f] = true
				flags = append(flags, format[i])
			}
		}
		// The vector flag (v, or *v with the string that joins the
		// numbers from an argument), then the width, which after v may
		// follow a 0 flag.
		width, prec := -1, -1
		known := true // false for a * with digits that are no index, or a second v
		vector, join := false, ""
	widthLoop:
		for i < len(format) {
			switch c := format[i]; {
			case c == '*':
				var wi int
				wi, i = explicitIndex(format, i+1)
				switch {
				case i < len(format) && (isDigit(format[i]) || format[i] == 'v' && vector):
					known = false
				case i < len(format) && format[i] == 'v':
					vector, join = true, arg(wi).String()
					i++
					continue widthLoop
				default:
					if width = clampInt(arg(wi)); width < 0 {
						flags = append(flags, '-')
						width = -width
					}
				}
			case c == 'v' && !vector:
				vector, join = true, "."
				i++
				continue widthLoop
			default:
				if c == '0' {
					flags = append(flags, '0')
					i++
				}
				if j := digitsEnd(format, i); j > i && format[i] != '0' {
					width, _ = strconv.Atoi(format[i:min(j, i+8)])
					i = j
				}
			}
			break
		}
		if i < len(format) && format[i] == '.' {
			i++
			if i < len(format) && format[i] == '*' {
				var pi int
				pi, i = explicitIndex(format, i+1)
				if known = known && (i >= len(format) || !isDigit(format[i])); known {
					prec = clampInt(arg(pi)) // a negative one is none
				}
			} else {
				j := digitsEnd(format, i)
				prec, _ = strconv.Atoi(format[i:min(j, i+8)])
				i = j
			}
		}
		var size byte
		size, i = sizeModifier(format, i)
		if i >= len(format) {
			b.WriteString(format[start:])
			break
		}
		conv := format[i]
		i++
		if width > maxFormatWidth || prec > maxFormatWidth {
			return "", limitErr(pos, "sprintf width or precision above %d", maxFormatWidth)
		}
		if j := strings.IndexByte("DUO", conv); j >= 0 {
			conv, size = "duo"[j], 'l' // synonyms of %ld %lu %lo
		}
		if !known || vector && strings.IndexByte("diuoxXbB", conv) < 0 {
			b.WriteString(format[start:i])
			continue
		}
		if conv == 'n' {
			return "", nConversion(pos, index, next, len(args))
		}
		if strings.IndexByte("%csdiuoxXbBeEfFgGaA", conv) < 0 ||
			strings.IndexByte("eEfFgGaA", conv) >= 0 && strings.IndexByte("hczjt", size) >= 0 {
			b.WriteString(format[start:i])
			continue
		}
		var v Value
		if conv != '%' {
			v = arg(index)
		}
		if spent != nil {
			return "", spent
		}
		if vector {
			formatVector(&b, conv, string(flags), width, prec, join, v.String())
			continue
		}
		if err := formatOne(&b, conv, size, string(flags), width, prec, v); err != nil {
			return "", runtimeErr(pos, "%v", err)
		}
	}
	if spent != nil {
		return "", spent
	}
	if b.Len() > MaxString {
		return "", tooLong(pos)
	}
	return b.String(), nil
}

// sizeModifier reads the size modifier of a conversion at format[i], if
// any, as Perl does: h, hh (returned as c), l, ll and q and L (returned
// as q), V, z, t or j; at most one. Integer conversions truncate to the
// size of h (16 bits) and hh (8 bits), Perl's integers being 64 bits;
// the others change nothing, except that a float conversion with h, hh,
// z, t or j is unknown to Perl, and copied.
func sizeModifier(format string, i int) (size byte, next int) {
	if i >= len(format) {
		return 0, i
	}
	switch c := format[i]; c {
	case 'h', 'l':
		if i+1 < len(format) && format[i+1] == c {
			return map[byte]byte{'h': 'c', 'l': 'q'}[c], i + 2
		}
		return c, i + 1
	case 'q', 'L':
		return 'q', i + 1
	case 'V', 'z', 't', 'j':
		return c, i + 1
	}
	return 0, i
}

// explicitIndex reads the argument index N$ at format[i], if there is
// one, as Perl does: N starts with 1 to 9 (%0$s is no index but the 0
// flag); an index too large to read is past any argument.
func explicitIndex(format string, i int) (index, next int) {
	j := digitsEnd(format, i)
	if j == i || format[i] == '0' || j >= len(format) || format[j] != '$' {
		return 0, i
	}
	index, err := strconv.Atoi(format[i:j])
	if err != nil {
		index = math.MaxInt
	}
	return index, j + 1
}

// nConversion is the error of %n, which Perl dies of when its argument
// (index, else the next one) is missing, and which else stores the length
// of the output so far into that argument: an expression cannot assign
// to the arguments of sprintf, so it is refused at run time.
func nConversion(pos, index, next, nargs int) error {
	if index > nargs || index <= 0 && next >= nargs {
		return runtimeErr(pos, "Missing argument for %%n in sprintf")
	}
	return runtimeErr(pos, "sprintf's %%n, which stores into its argument, is not supported")
}

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// formatOne writes one conversion, of the size sizeModifier read; the
// error is the message of a conversion Perl dies of.
func formatOne(b *strings.Builder, conv, size byte, flags string, width, prec int, v Value) error {
	left := strings.IndexByte(flags, '-') >= 0
	zero := strings.IndexByte(flags, '0') >= 0 && !left
	switch conv {
	case '%':
		pad(b, "%", width, left, zero)
		return nil
	case 's':
		s := v.String()
		if prec >= 0 && prec < len(s) {
			s = s[:prec]
		}
		pad(b, s, width, left, zero)
		return nil
	}
	f := v.Number()
	if conv == 'c' {
		return formatChar(b, width, left, zero, f, v.iv())
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// As Perl: a sign for +Inf with + or a blank, zeros before it.
		s := formatFloat(f)
		if math.IsInf(f, 1) && strings.ContainsAny(flags, "+ ") {
			s = "+" + s
		}
		pad(b, s, width, left, zero)
		return nil
	}
	if conv == 'a' || conv == 'A' {
		formatHexFloat(b, conv, flags, width, prec, left, zero, f)
		return nil
	}
	if strings.IndexByte("eEfFgG", conv) >= 0 {
		if prec < 0 {
			prec = 6
		}
		spec := "%" + flags
		if width >= 0 {
			spec += strconv.Itoa(width)
		}
		fmt.Fprintf(b, spec+"."+strconv.Itoa(prec)+string(conv), f)
		return nil
	}
	i := truncSize(conv, size, v.iv())
	formatInteger(b, conv, flags, width, prec, left, zero, i)
	return nil
}

// formatVector writes a conversion with the vector flag (%vd, %vx,
// %*vd, ...) as Perl does: each byte of s as an integer of the
// conversion, with its flags, width and precision, the numbers joined by
// join; a sign of + or a blank goes before the first one only. It stops
// once b is longer than MaxString, for the caller to refuse it.
func formatVector(b *strings.Builder, conv byte, flags string, width, prec int, join, s string) {
	left := strings.IndexByte(flags, '-') >= 0
	zero := strings.IndexByte(flags, '0') >= 0 && !left
	for i := 0; i < len(s) && b.Len() <= MaxString; i++ {
		if i == 1 {
			flags = strings.NewReplacer("+", "", " ", "").Replace(flags)
		}
		if i > 0 {
			b.WriteString(join)
		}
		formatInteger(b, conv, flags, width, prec, left, zero, int64(s[i]))
	}
}

// formatHexFloat writes %a or %A of a finite f as Perl does: a sign, 0x,
// the digit 1 (0 for zero) and the other 52 bits of the mantissa in hex
// without trailing zeros, then p and the binary exponent, subnormal
// numbers being normalized (2**-1074 is 0x1p-1074). A precision pads
// with zeros or rounds, half to even on the hex digit after the last one
// kept, which may make the first digit 2 (%.0a of 1.5 is 0x2p+0); # keeps
// the point without digits; the zeros of the 0 flag go after 0x.
func formatHexFloat(b *strings.Builder, conv byte, flags string, width, prec int, left, zero bool, f float64) {
	sign := ""
	switch {
	case math.Signbit(f):
		sign = "-"
	case strings.IndexByte(flags, '+') >= 0:
		sign = "+"
	case strings.IndexByte(flags, ' ') >= 0:
		sign = " "
	}
	lead, frac, exp := uint64(0), uint64(0), 0
	if f != 0 {
		m, e := math.Frexp(math.Abs(f))
		lead, frac, exp = 1, uint64(math.Ldexp(m, 53))&(1<<52-1), e-1
	}
	digits := fmt.Sprintf("%013x", frac)
	switch {
	case prec < 0:
		digits = strings.TrimRight(digits, "0")
	case prec < len(digits):
		kept := lead<<(4*prec) | frac>>(52-4*prec)
		if next := frac >> (48 - 4*prec) & 0xf; next > 8 || next == 8 && kept&1 == 1 {
			kept++
		}
		lead, digits = kept>>(4*prec), fmt.Sprintf("%0*x", prec, kept&(1<<(4*prec)-1))[:prec]
	default:
		digits += strings.Repeat("0", prec-len(digits))
	}
	body := strconv.FormatUint(lead, 16)
	if digits != "" || strings.IndexByte(flags, '#') >= 0 {
		body += "." + digits
	}
	body += "p" + fmt.Sprintf("%+d", exp)
	if n := width - len(sign) - 2 - len(body); zero && n > 0 {
		body = strings.Repeat("0", n) + body
	}
	s := sign + "0x" + body
	if conv == 'A' {
		s = strings.ToUpper(s)
	}
	pad(b, s, width, left, false)
}

// formatChar writes %c of a number, f as a float and i as an integer,
// as Perl does: the character of that code, which dies for Inf and NaN
// and for a code that is negative as an integer, Perl's code points
// going up to 2^63-1.
func formatChar(b *strings.Builder, width int, left, zero bool, f float64, i int64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("Cannot printf %s with 'c'", formatFloat(f))
	}
	if i < 0 {
		return fmt.Errorf("Use of code point 0x%X is not allowed; the permissible max is 0x7FFFFFFFFFFFFFFF", uint64(i))
	}
	var buf [13]byte
	pad(b, string(appendCode(buf[:0], i)), width, left, zero)
	return nil
}

// truncSize truncates an integer to the size h (16 bits) or hh (8 bits)
// of a conversion, as C's short or char, signed for d and i, unsigned
// for the others: %hd of 70000 is 4464, %hhu of -1 is 255.
func truncSize(conv, size byte, i int64) int64 {
	signed := conv == 'd' || conv == 'i'
	switch {
	case size == 'h' && signed:
		return int64(int16(i))
	case size == 'h':
		return int64(uint16(i))
	case size == 'c' && signed:
		return int64(int8(i))
	case size == 'c':
		return int64(uint8(i))
	}
	return i
}

// formatInteger writes the integer conversions d i u o x X b B as Perl
// does, which Go's fmt does not: the sign and the prefix of # (0x, 0b,
// or a leading 0 for octal) count in the width, and the zeros of the 0
// flag go between them and the digits (%#08x of 255 is 0x0000ff); a
// precision pads the digits with zeros and turns the 0 flag off; with a
// precision of 0, 0 has no digits (%.0d is empty, %#.0o is 0); and u o
// x b read i as unsigned, without sign.
func formatInteger(b *strings.Builder, conv byte, flags string, width, prec int, left, zero bool, i int64) {
	u, base, prefix := uint64(i), 10, ""
	switch conv {
	case 'd', 'i':
		switch {
		case i < 0:
			prefix, u = "-", -u
		case strings.IndexByte(flags, '+') >= 0:
			prefix = "+"
		case strings.IndexByte(flags, ' ') >= 0:
			prefix = " "
		}
	case 'o':
		base = 8
	case 'x', 'X':
		base = 16
	case 'b', 'B':
		base = 2
	}
	digits := ""
	if u != 0 || prec != 0 {
		digits = strconv.FormatUint(u, base)
	}
	if conv == 'X' {
		digits = strings.ToUpper(digits)
	}
	if prec > len(digits) {
		digits = strings.Repeat("0", prec-len(digits)) + digits
	}
	if strings.IndexByte(flags, '#') >= 0 {
		switch {
		case base == 8 && !strings.HasPrefix(digits, "0"):
			digits = "0" + digits
		case (base == 16 || base == 2) && u != 0:
			prefix = "0" + string(conv)
		}
	}
	if n := width - len(prefix) - len(digits); n > 0 && zero && prec < 0 {
		digits = strings.Repeat("0", n) + digits
	}
	pad(b, prefix+digits, width, left, false)
}

// pad writes s padded to width with spaces (or zeros), on the left unless
// left is set.
func pad(b *strings.Builder, s string, width int, left, zero bool) {
	n := width - len(s)
	if n <= 0 {
		b.WriteString(s)
		return
	}
	fill := " "
	if zero {
		fill = "0"
	}
	if left {
		b.WriteString(s)
		b.WriteString(strings.Repeat(fill, n))
		return
	}
	b.WriteString(strings.Repeat(fill, n))
	b.WriteString(s)
}
