package translation

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Record is one element of a block list together with the key and uri
// the list belongs to: the unit that Insert stores, Fetch and Iterator
// return and the text formats read and write.
//
// Records of one (Key, URI) are ordered by Block, then Order. Block and
// Order are stored as the 8-byte big-endian sort field
// pack("N2", block, order), so they are 32-bit numbers.
type Record struct {
	Key, URI     string
	Block, Order uint32
	Action       string
	Note         string // "" means no note
	ID           uint64 // assigned by the database; ignored on load
}

// ValidateKeyURI reports whether key and uri may be stored: both must be
// non-empty, valid UTF-8, and free of NUL bytes and white space (any rune
// for which unicode.IsSpace holds). The error wraps ErrInvalidRecord.
func ValidateKeyURI(key, uri string) error {
	if err := validateKeyURI(key, uri); err != nil {
		return fmt.Errorf("translation: %w", err)
	}
	return nil
}

// validateKeyURI is ValidateKeyURI without the package prefix, for errors
// that are wrapped again (in a ParseError, for instance).
func validateKeyURI(key, uri string) error {
	if err := validateField("key", key); err != nil {
		return err
	}
	return validateField("uri", uri)
}

// ValidateField is ValidateKeyURI for one of them, named name ("key" or
// "uri") in the message, which starts with that name, for callers that
// report it as it is (a 400 answer, a usage error).
func ValidateField(name, s string) error { return validateField(name, s) }

func validateField(name, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s: %w", name, ErrInvalidRecord)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s %q is not valid UTF-8: %w", name, s, ErrInvalidRecord)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s %q contains a NUL byte: %w", name, s, ErrInvalidRecord)
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return fmt.Errorf("%s %q contains white space: %w", name, s, ErrInvalidRecord)
	}
	return nil
}
