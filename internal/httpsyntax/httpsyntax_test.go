package httpsyntax

import "testing"

func TestTokensAndControls(t *testing.T) {
	for s, want := range map[string]bool{
		"GET": true, "X-Forwarded-For": true, "M-SEARCH": true, "a!#$%&'*+.^_`|~z": true,
		"": false, "G T": false, "Host:": false, "a/b": false, "\x7f": false, "é": false, "a\tb": false,
	} {
		if IsToken(s) != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, !want, want)
		}
	}
	for r, want := range map[rune]bool{'\x00': true, '\n': true, '\x1f': true, '\x7f': true, '\t': false, ' ': false, 'a': false, 0x85: false, 0x2028: false, 0x10ffff: false} {
		if s := "a" + string(r) + "é"; HasControl(s) != want {
			t.Errorf("HasControl(%q) = %v, want %v", s, !want, want)
		}
	}
}

func TestASCIIIn(t *testing.T) {
	for _, tt := range []struct {
		s      string
		lo, hi byte
		want   bool
	}{
		{"", '!', '~', true},
		{"/static/img.png", '!', '~', true},
		{"a b", '!', '~', false},
		{"a b", ' ', '~', true},
		{"a\tb", ' ', '~', false},
		{"a\x7fb", ' ', '~', false},
		{"caf\xc3\xa9", ' ', '~', false},
	} {
		if got := ASCIIIn(tt.s, tt.lo, tt.hi); got != tt.want {
			t.Errorf("ASCIIIn(%q, %q, %q) = %v, want %v", tt.s, tt.lo, tt.hi, got, tt.want)
		}
	}
}
