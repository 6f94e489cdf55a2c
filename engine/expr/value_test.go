package expr

import (
	"math"
	"testing"
	"unsafe"
)

func TestTruthFollowsPerl(t *testing.T) {
	tests := []struct {
		v    Value
		want bool
	}{
		{Undef(), false},
		{Str(""), false},
		{Str("0"), false},
		{Int(0), false},
		{Num(0), false},
		{Num(math.Copysign(0, -1)), false},
		{Str("0.0"), true},
		{Str("00"), true},
		{Str(" "), true},
		{Str("0E0"), true},
		{Str("a"), true},
		{Int(-1), true},
		{Num(0.5), true},
		{Num(math.NaN()), true},
		{Ref(nil), true},
	}
	for _, tt := range tests {
		if got := tt.v.Truth(); got != tt.want {
			t.Errorf("Truth(%s) = %v, want %v", show(tt.v), got, tt.want)
		}
	}
}

func TestNumberParsesLeadingNumericPrefix(t *testing.T) {
	tests := []struct {
		s    string
		want float64
	}{
		{"", 0},
		{"abc", 0},
		{"3abc", 3},
		{"10", 10},
		{"10.0", 10},
		{" 12 ", 12},
		{"\t-3.5e2abc", -350},
		{"+5", 5},
		{"- 5", 0},
		{".5", 0.5},
		{"5.", 5},
		{".", 0},
		{"1e", 1},
		{"1e3", 1000},
		{"1_000", 1},
		{"0x10", 0},
		{"1.5e1x", 15},
		{"9223372036854775807", 9223372036854775807},
		{"99999999999999999999", 1e20},
	}
	for _, tt := range tests {
		if got := Str(tt.s).Number(); got != tt.want {
			t.Errorf("Number(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	if got := Str("Inf").Number(); !math.IsInf(got, 1) {
		t.Errorf(`Number("Inf") = %v`, got)
	}
	if got := Str("-infinity").Number(); !math.IsInf(got, -1) {
		t.Errorf(`Number("-infinity") = %v`, got)
	}
	if got := Str("nan").Number(); !math.IsNaN(got) {
		t.Errorf(`Number("nan") = %v`, got)
	}
	if got := Undef().Number(); got != 0 {
		t.Errorf("Number(undef) = %v", got)
	}
}

func TestStringFormatsNumbersAsPerl(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{Int(1), "1"},
		{Int(-42), "-42"},
		{Num(1), "1"},
		{Num(1.5), "1.5"},
		{Num(0.1 + 0.2), "0.3"},
		{Num(1e21), "1e+21"},
		{Num(1e15), "1e+15"},
		{Num(123456789012345), "123456789012345"},
		{Num(123456789012345.6), "123456789012346"},
		{Num(1e-5), "1e-05"},
		{Num(math.Sqrt2), "1.4142135623731"},
		{Num(1.0 / 3), "0.333333333333333"},
		{Num(math.Copysign(0, -1)), "0"},
		{Num(math.Inf(1)), "Inf"},
		{Num(math.Inf(-1)), "-Inf"},
		{Num(math.NaN()), "NaN"},
		{Undef(), ""},
		{Str("abc"), "abc"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestRefKeepsElements(t *testing.T) {
	r := Ref([]Value{Str("a"), Int(2)})
	elems, ok := r.Elems()
	if !ok || len(elems) != 2 || elems[0].String() != "a" || elems[1].String() != "2" {
		t.Fatalf("Elems = %v, %v", elems, ok)
	}
	if _, ok := Str("a").Elems(); ok {
		t.Error("a string is not a reference")
	}
	if s := r.String(); len(s) < 10 || s[:8] != "ARRAY(0x" {
		t.Errorf("String = %q, want ARRAY(0x...)", s)
	}
}

// TestSizeOfSharedArraysStopsAtMax: an array holding another twice, 60
// levels deep, holds 2^60 elements as counted one by one; Size stops
// once it passes max, at once.
func TestSizeOfSharedArraysStopsAtMax(t *testing.T) {
	v := Ref([]Value{Str("ab")})
	for range 60 {
		v = Ref([]Value{v, v})
	}
	if n := v.Size(1 << 20); n <= 1<<20 || n > 1<<20+1<<16 {
		t.Errorf("Size(1 MiB) = %d, want just past 1 MiB", n)
	}
	if n := Ref([]Value{Str("abc"), Int(7), Ref([]Value{Str("de")})}).Size(1 << 20); n != 3+2+4*int(unsafe.Sizeof(Value{})) {
		t.Errorf("Size of [abc, 7, [de]] = %d", n)
	}
}
