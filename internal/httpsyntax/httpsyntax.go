// Package httpsyntax tells the strings an HTTP/1.1 request can hold
// (RFC 9110) from those it cannot, for the parameters that describe one.
package httpsyntax

import "strings"

// HasControl reports whether s holds an ASCII control character other
// than the tab, which no request line or header value holds. They are
// all ASCII, so no byte of a multi-byte UTF-8 sequence is one, and s is
// read byte by byte, not decoded.
func HasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// ASCIIIn reports whether every byte of s is between lo and hi, both
// ASCII: the quick check of text that is plain, before a full one that
// decodes it (printable ASCII is ' ' to '~').
func ASCIIIn(s string, lo, hi byte) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < lo || c > hi {
			return false
		}
	}
	return true
}

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
