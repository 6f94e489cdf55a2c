// Package httpsyntax tells the strings an HTTP/1.1 request can hold
// (RFC 9110) from those it cannot, for the parameters that describe one.
package httpsyntax

import "strings"

// IsControl reports an ASCII control character other than the tab,
// which no request line or header value holds.
func IsControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// IsToken reports whether s is an HTTP token: a method or a header name.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
