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
