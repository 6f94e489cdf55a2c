package expr

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// kind tells which field of a Value holds its content.
type kind uint8

const (
	kUndef kind = iota
	kStr
	kInt  // an integer (Perl IV), in bits
	kUint // an integer from 2^63 to 2^64-1 (Perl UV), in bits
	kNum  // a floating point number (Perl NV), in bits
	kRef  // an array reference
)

// Value is a Perl scalar: undef, a string, a number or an array
// reference. The zero Value is undef. Values are immutable and safe to
// copy and share between goroutines.
//
// A Value is four machine words, so that the compiler keeps it in
// registers when evaluation passes it around: a string is held as its
// data pointer and length, and p points to the string's bytes or to the
// array of a reference.
type Value struct {
	k    kind
	n    int            // kStr: length of the string at p
	p    unsafe.Pointer // kStr: the string's bytes; kRef: the *arrayRef
	bits uint64         // kInt: int64; kUint: uint64; kNum: float64
}

// arrayRef is the target of a reference made by [...]; its address is the
// identity Perl prints as ARRAY(0x...).
type arrayRef struct {
	elems []Value
}

// Values shared by the evaluator; none of them allocates. Perl holds its
// true and false as a number, an integer and a float at once: false is
// "" as a string but the integer 0 in arithmetic, where "" is a float
// (!1 + 1e15 is 1000000000000000, "" + 1e15 is 1e+15), and both take
// part in the sums of floats that Perl makes with integers (see arith).
// Their pointer to perlBool tells them from other values.
var (
	yes = Value{k: kInt, bits: 1, p: unsafe.Pointer(&perlBool)} // "1"
	no  = Value{k: kStr, p: unsafe.Pointer(&perlBool)}          // ""
)

var perlBool byte

// Undef returns the undefined value.
func Undef() Value { return Value{} }

// Str returns a string value. An empty string holds no pointer: the
// empty string of Perl's false points to perlBool, and a string made from
// it ("" . !1, lc !1, substr !1, 0) is a plain "", which is a float in
// arithmetic.
func Str(s string) Value {
	if s == "" {
		return Value{k: kStr}
	}
	return Value{k: kStr, n: len(s), p: unsafe.Pointer(unsafe.StringData(s))}
}

// str returns the string of a kStr Value.
func (v Value) str() string { return unsafe.String((*byte)(v.p), v.n) }

// strLen returns the length of a string value's bytes, 0 for any other
// value (whose string form is short).
func (v Value) strLen() int {
	if v.k == kStr {
		return v.n
	}
	return 0
}

// ref returns the array of a kRef Value.
func (v Value) ref() *arrayRef { return (*arrayRef)(v.p) }

// Num returns a floating point number.
func Num(f float64) Value { return Value{k: kNum, bits: math.Float64bits(f)} }

// Int returns an integer.
func Int(i int64) Value { return Value{k: kInt, bits: uint64(i)} }

// Uint returns an unsigned integer, which Perl has up to 2^64-1.
func Uint(u uint64) Value {
	if u <= math.MaxInt64 {
		return Int(int64(u))
	}
	return Value{k: kUint, bits: u}
}

// Ref returns a reference to an array holding elems, as [ ... ] makes.
// The Value takes ownership of elems: the caller must not modify it
// afterwards.
func Ref(elems []Value) Value { return Value{k: kRef, p: unsafe.Pointer(&arrayRef{elems: elems})} }

// Bool returns Perl's canonical true (1) or false ("") value, which is
// what comparisons and ! produce.
func Bool(b bool) Value {
	if b {
		return yes
	}
	return no
}

// IsUndef reports whether v is undef.
func (v Value) IsUndef() bool { return v.k == kUndef }

// Elems returns the elements of an array reference and true, or nil and
// false when v is not a reference. The slice is shared with every copy of
// v: read it, do not modify it.
func (v Value) Elems() ([]Value, bool) {
	if v.k != kRef {
		return nil, false
	}
	return v.ref().elems, true
}

// valueSize is the memory of a Value, as an element of an array or a
// list: a repeated list counts its elements against MaxString and
// Env.Spend as this many bytes each.
const valueSize = int(unsafe.Sizeof(Value{}))

// Size returns the bytes v holds, counted up to past max: a string's
// length, and for an array reference each element and what it holds; 0
// for undef and numbers. It is what keeping v costs beyond the Value
// itself, for a caller that bounds what it keeps. The count stops once
// it passes max: an array may hold one array many times over, and
// counting every occurrence could take time exponential in the depth.
func (v Value) Size(max int) int {
	switch v.k {
	case kStr:
		return v.n
	case kRef:
		n := 0
		for _, e := range v.ref().elems {
			if n += valueSize + e.Size(max-n); n > max {
				break
			}
		}
		return n
	}
	return 0
}

// String returns v as Perl stringifies it: "" for undef, integers without
// a fraction, other numbers with 15 significant digits (%.15g, with Inf,
// -Inf and NaN spelled as Perl does), and ARRAY(0x...) for a reference.
// Strings are returned as they are, without allocating.
func (v Value) String() string {
	switch v.k {
	case kStr:
		return v.str()
	case kInt:
		return strconv.FormatInt(int64(v.bits), 10)
	case kUint:
		return strconv.FormatUint(v.bits, 10)
	case kNum:
		return formatFloat(math.Float64frombits(v.bits))
	case kRef:
		return fmt.Sprintf("ARRAY(%p)", v.p)
	}
	return ""
}

// Number returns v as Perl numifies it: undef is 0; a string gives the
// number at its start after optional white space ("3abc" is 3, "abc" is
// 0, " 1.5e1x" is 15, "Inf" and "NaN" are recognised); a reference gives
// its address.
func (v Value) Number() float64 {
	if v.k == kNum {
		return math.Float64frombits(v.bits) // -0 too
	}
	return v.number().float()
}

// Truth reports whether v is true in Perl: undef, "", "0" and the number
// 0 are false, everything else (including "0.0", "00" and " ") is true.
func (v Value) Truth() bool {
	switch v.k {
	case kStr:
		return v.n > 1 || v.n == 1 && *(*byte)(v.p) != '0'
	case kInt, kUint:
		return v.bits != 0
	case kNum:
		return math.Float64frombits(v.bits) != 0
	case kRef:
		return true
	}
	return false
}

// holdsFloat reports whether Perl holds v as a float (its NOK flag): a
// float, and Perl's true and false.
func (v Value) holdsFloat() bool {
	return v.k == kNum || v.p == unsafe.Pointer(&perlBool)
}

// number is a value as Perl's arithmetic reads an operand: an integer
// (isInt), by its sign and magnitude, or else a float.
type number struct {
	neg   bool
	mag   uint64
	f     float64
	isInt bool
}

func intNumber(i int64) number {
	if i < 0 {
		return number{neg: true, mag: -uint64(i), isInt: true}
	}
	return number{mag: uint64(i), isInt: true}
}

// float returns n as a float.
func (n number) float() float64 {
	if !n.isInt {
		return n.f
	}
	if n.neg {
		return -float64(n.mag)
	}
	return float64(n.mag)
}

// value returns n as a Value: an integer within Perl's integers (-2^63
// to 2^64-1), else a float.
func (n number) value() Value {
	switch {
	case !n.isInt:
		return Num(n.f)
	case !n.neg:
		return Uint(n.mag)
	case n.mag <= 1<<63:
		return Int(int64(-n.mag))
	}
	return Num(-float64(n.mag))
}

// number returns v as Perl's arithmetic takes an operand, an integer
// when Perl holds it as one (its IOK flag): an integer; a float with a
// whole value below 2^53 in magnitude (1e15*10 is 10000000000000000); a
// string that is all an integer from -2^63 to 2^64-1, or all a number
// with an exponent whose value is whole and in that range ("1e15",
// "1.5e16"), and Perl's false; a reference, its address. Else it is a
// float: undef, "", a string with a point ("4.0") or with text after its
// number ("12abc"), Inf and NaN.
func (v Value) number() number {
	switch v.k {
	case kInt:
		return intNumber(int64(v.bits))
	case kUint:
		return number{mag: v.bits, isInt: true}
	case kNum:
		return floatNumber(math.Float64frombits(v.bits))
	case kStr:
		if v.p == unsafe.Pointer(&perlBool) {
			return number{isInt: true} // Perl's false
		}
		return parseNumber(v.str())
	case kRef:
		return number{mag: uint64(uintptr(v.p)), isInt: true}
	}
	return number{}
}

// floatNumber is a float as an operand: an integer when its value is
// whole and below 2^53 in magnitude, which Perl's arithmetic takes for
// the integer it is.
func floatNumber(f float64) number {
	if f == math.Trunc(f) && f > -(1<<53) && f < 1<<53 {
		return intNumber(int64(f))
	}
	return number{f: f}
}

// formatFloat formats f as Perl prints a floating point number (%.15g).
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	case f == 0:
		return "0" // also -0, as Perl prints it
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isSpaceRune is isSpace for the runes of a string.
func isSpaceRune(r rune) bool { return r < utf8.RuneSelf && isSpace(byte(r)) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseNumber numifies a string as Perl does: leading white space, an
// optional sign, digits with an optional fraction and exponent, or Inf,
// Infinity and NaN in any case; anything after the number is ignored and
// a string without a number is 0. It is an integer as Value.number
// tells.
func parseNumber(s string) number {
	j := 0
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	start := j
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	digits := j
	j = digitsEnd(s, j)
	intEnd := j
	n := j - digits
	if j < len(s) && s[j] == '.' {
		k := digitsEnd(s, j+1)
		if n += k - j - 1; n > 0 {
			j = k
		}
	}
	if n == 0 {
		return number{f: special(s[start:], s[digits:])}
	}
	exponent := false
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if e := digitsEnd(s, k); e > k {
			exponent, j = true, e
		}
	}
	end := j
	for end < len(s) && isSpace(s[end]) {
		end++
	}
	all := end == len(s) || s == "0 but true"
	if all && j == intEnd {
		if u, err := strconv.ParseUint(s[digits:j], 10, 64); err == nil {
			if n := (number{neg: s[start] == '-', mag: u, isInt: true}); !n.neg || u <= 1<<63 {
				return n
			}
		}
	}
	f, _ := strconv.ParseFloat(s[start:j], 64) // out of range gives ±Inf, as in Perl
	if all && exponent {
		return exponentNumber(f)
	}
	return number{f: f}
}

// exponentNumber is the value f of a string that is all a number with an
// exponent, as an operand: as Perl's sv_2iuv_non_preserve takes it, an
// integer when f is whole and from -2^63 to below 2^64, even past 2^53
// ("1e16" + 1 is 10000000000000001), else a float.
func exponentNumber(f float64) number {
	switch {
	case f != math.Trunc(f) || f < -(1<<63) || f >= 1<<64: // NaN and ±Inf too
		return number{f: f}
	case f < 0:
		return number{neg: true, mag: uint64(-f), isInt: true}
	}
	return number{mag: uint64(f), isInt: true}
}

// special recognises Inf, Infinity and NaN (case-insensitive) after an
// optional sign; signed is the text with the sign, word without.
func special(signed, word string) float64 {
	neg := len(signed) > 0 && signed[0] == '-'
	switch {
	case hasPrefixFold(word, "infinity"), hasPrefixFold(word, "inf"):
		if neg {
			return math.Inf(-1)
		}
		return math.Inf(1)
	case hasPrefixFold(word, "nan"):
		return math.NaN()
	}
	return 0
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word,
// ignoring ASCII case.
func hasPrefixFold(s, word string) bool {
	if len(s) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if lowerASCII(s[i]) != word[i] {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// perlIV converts a float to an integer as Perl's SvIV does (its
// cast_iv): truncated toward zero below 2^63, saturating at -2^63; from
// 2^63 through the unsigned range, the unsigned integer read as a signed
// one (1e19 is -8446744073709551616); beyond it and +Inf, the largest
// unsigned integer, -1; NaN is 0. Every place where Perl uses a number
// as an integer (substr offsets, subscripts, sprintf %d) converts so.
func perlIV(f float64) int64 {
	switch {
	case f < -(1 << 63):
		return math.MinInt64
	case f < 1<<63:
		return int64(f)
	case f < 1<<64:
		return int64(uint64(f))
	case f > 0:
		return -1
	}
	return 0 // NaN
}

// iv returns v as Perl uses it as an integer: see perlIV.
// An unsigned integer from 2^63 is read as a signed one, as Perl does.
func (v Value) iv() int64 {
	n := v.number()
	switch {
	case !n.isInt:
		return perlIV(n.f)
	case n.neg:
		return int64(-n.mag)
	}
	return int64(n.mag)
}

// arith applies + - or * with Perl's integer-preserving rules: integer
// operands give an integer result unless it is beyond Perl's integers
// (-2^63 to 2^64-1), where it is a float. As Perl's pp_add and
// pp_subtract, + and - of two floats (or Perl's true and false) with
// whole values from -2^62 to below 2^62 make an integer, even past 2^53
// (1e16 - !0 is 9999999999999999, where 1e16 - 1 is 1e+16).
func arith(op byte, a, b Value) Value {
	if op != '*' && a.holdsFloat() && b.holdsFloat() {
		if p, q := a.Number(), b.Number(); isSmallWhole(p) && isSmallWhole(q) {
			if op == '-' {
				q = -q
			}
			return Int(int64(p) + int64(q))
		}
	}
	x, y := a.number(), b.number()
	if x.isInt && y.isInt {
		if r, ok := intArith(op, x, y); ok {
			return r.value()
		}
	}
	p, q := x.float(), y.float()
	switch op {
	case '+':
		return Num(p + q)
	case '-':
		return Num(p - q)
	}
	return Num(p * q)
}

// isSmallWhole reports whether f is a whole number from -2^62 to below
// 2^62, whose sums fit in an int64.
func isSmallWhole(f float64) bool {
	return f == math.Trunc(f) && f >= -(1<<62) && f < 1<<62
}

// intArith applies + - or * to integers, by their signs and magnitudes
// as Perl does; ok is false when the magnitude overflows 64 bits.
func intArith(op byte, x, y number) (r number, ok bool) {
	if op == '-' {
		y.neg = !y.neg
	}
	r.isInt = true
	carry := uint64(0)
	switch {
	case op == '*':
		carry, r.mag = bits.Mul64(x.mag, y.mag)
		r.neg = x.neg != y.neg
	case x.neg == y.neg:
		r.mag, carry = bits.Add64(x.mag, y.mag, 0)
		r.neg = x.neg
	case x.mag >= y.mag:
		r.mag, r.neg = x.mag-y.mag, x.neg
	default:
		r.mag, r.neg = y.mag-x.mag, y.neg
	}
	return r, carry == 0
}

// divide is Perl's /: a float, except that integers of which the
// dividend is beyond a float's precision (2^53) and divide exactly give
// an integer.
func divide(a, b Value) (Value, bool) {
	x, y := a.number(), b.number()
	if x.isInt && y.isInt {
		if y.mag == 0 {
			return Value{}, false
		}
		if x.mag > 1<<53 && x.mag%y.mag == 0 {
			return number{neg: x.neg != y.neg, mag: x.mag / y.mag, isInt: true}.value(), true
		}
	}
	q := y.float()
	if q == 0 {
		return Value{}, false
	}
	return Num(x.float() / q), true
}

// modulo is Perl's %, as its pp_modulo computes it. Operands within the
// range of unsigned 64-bit integers are taken as integers, truncated
// ('9223372036854775807' % 10 is 7, 10 % 3.7 is 1), and the result has
// the sign of the right operand. An operand beyond that range, Inf or
// NaN makes it a float modulus of the absolute values: of the left one
// as it is when the right one is beyond the range (7.5 % 1e20 is 7.5),
// else of both rounded to whole numbers (1e20 % 7.5 is 1e20 % 8, 0;
// 'inf' % 0.5 is NaN), a right one that is an integer as it is (x + 0.5
// rounds an odd integer x from 2^52 up). ok is false for a modulus of
// zero.
func modulo(a, b Value) (Value, bool) {
	rneg, ru, rf, rIn := modOperand(b)
	lneg, lu, lf, lIn := modOperand(a)
	if !rIn || !lIn {
		if rIn {
			lf = math.Floor(lf + 0.5)
			// Perl rounds a right operand that is a float, and takes an
			// integer as it is: rf + 0.5 would round an odd one from 2^52
			// up. A whole float rounds to itself.
			if rf != float64(ru) {
				rf = math.Floor(rf + 0.5)
			}
		}
		if rf == 0 {
			return Value{}, false
		}
		r := math.Mod(lf, rf)
		if lneg != rneg && r != 0 { // NaN too, as in C
			r = rf - r
		}
		if rneg {
			r = -r
		}
		return Num(r), true
	}
	if ru == 0 {
		return Value{}, false
	}
	r := lu % ru
	if lneg != rneg && r != 0 {
		r = ru - r
	}
	return number{neg: rneg, mag: r, isInt: true}.value(), true
}

// modOperand splits an operand of % into its sign and its absolute
// value, as a float and, when it is within their range (in), as an
// unsigned integer, truncated.
func modOperand(v Value) (neg bool, u uint64, f float64, in bool) {
	n := v.number()
	if n.isInt {
		return n.neg, n.mag, float64(n.mag), true
	}
	neg, f = n.f < 0, math.Abs(n.f)
	if f < 1<<64 { // false for NaN
		return neg, uint64(f), f, true
	}
	return neg, 0, f, false
}

// power is Perl's **: an integer when Perl computes it with integers
// (10**16 is 10000000000000000): an integer base that is no power of two,
// raised to an integer power small enough that its result fits in 64
// bits, by Perl's test of the power times the base's bits, which wraps;
// else a float (2**52 is 4.5035996273705e+15). An integer power of
// two (or 0) raised to an integer power is a float that Perl computes by
// squaring, with the sign the power's parity gives even where the power
// is beyond a float's precision ((-1) ** 9007199254740993 is -1).
func power(a, b Value) Value {
	x, y := a.number(), b.number()
	if u, exp := x.mag, y.mag; x.isInt && y.isInt && !y.neg {
		switch {
		case u&(u-1) == 0:
			r := math.Pow(float64(u), float64(exp))
			if x.neg && u != 0 && exp%2 == 1 {
				r = -r
			}
			return Num(r)
		case uint64(bits.Len64(u))*exp <= 64:
			// As in Perl, the product wraps for a huge power, which is
			// then computed modulo 2^64 (3 ** 9223372036854775808 is 1,
			// 12 ** 9223372036854775808 is 0): by squaring, in time
			// linear in its bits.
			r, base := uint64(1), u
			for e := exp; e > 0; e >>= 1 {
				if e&1 == 1 {
					r *= base
				}
				base *= base
			}
			return number{neg: x.neg && exp%2 == 1, mag: r, isInt: true}.value()
		}
	}
	return Num(math.Pow(x.float(), y.float()))
}

// negate is Perl's unary minus: a string that starts with a letter or _
// gets a "-", one that starts with "+" has it turned into "-", and one
// that starts with "-" has it turned into "+" unless the whole string is
// a number (-"-12abc" is "+12abc", -"-12" is 12); anything else is
// negated as a number.
func negate(v Value) Value {
	if s := v.str(); v.k == kStr && s != "" {
		switch c := s[0]; {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			return Str("-" + s)
		case c == '+':
			return Str("-" + s[1:])
		case c == '-' && !looksLikeNumber(s):
			return Str("+" + s[1:])
		}
	}
	// A float stays one: -1e15 is -1e+15.
	if v.k == kNum || v.k == kUndef {
		return Num(-v.Number())
	}
	n := v.number()
	n.neg, n.f = !n.neg, -n.f
	return n.value()
}

// looksLikeNumber reports whether all of s is a number, as Perl's
// looks_like_number tells: white space around, a sign, then digits with
// a point and an exponent, or Inf, Infinity or NaN.
func looksLikeNumber(s string) bool {
	s = strings.Trim(s, " \t\n\r\f\v")
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity") || strings.EqualFold(s, "nan") {
		return true
	}
	i := digitsEnd(s, 0)
	n := i
	if i < len(s) && s[i] == '.' {
		j := digitsEnd(s, i+1)
		n += j - i - 1
		i = j
	}
	if n == 0 {
		return false
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if k := digitsEnd(s, j); k > j {
			i = k
		} else {
			return false
		}
	}
	return i == len(s)
}

// compareNum compares a and b as numbers, as integers when both are;
// ok is false when either is NaN.
func compareNum(a, b Value) (c int, ok bool) {
	x, y := a.number(), b.number()
	if x.isInt && y.isInt {
		return compareInt(x, y), true
	}
	p, q := x.float(), y.float()
	switch {
	case p < q:
		return -1, true
	case p > q:
		return 1, true
	case p == q:
		return 0, true
	}
	return 0, false
}

// compareInt compares two integers by their signs and magnitudes.
func compareInt(x, y number) int {
	xneg, yneg := x.neg && x.mag != 0, y.neg && y.mag != 0
	switch {
	case xneg != yneg && xneg:
		return -1
	case xneg != yneg:
		return 1
	case x.mag == y.mag:
		return 0
	case (x.mag < y.mag) != xneg:
		return -1
	}
	return 1
}
