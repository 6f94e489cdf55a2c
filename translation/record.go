package translation

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"transdb/internal/httpsyntax"
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

// KeyURIProblem says what makes s unfit to be a key or uri, to follow
// its name: "is empty", "is not valid UTF-8", "contains a NUL byte" or
// "contains white space"; "" when it is fit. It is what ValidateKeyURI
// checks, for callers that name the field their own way (a parameter,
// a flag).
func KeyURIProblem(s string) string {
	if s != "" && httpsyntax.ASCIIIn(s, '!', '~') { // no space, no control, valid UTF-8
		return ""
	}
	switch {
	case s == "":
		return "is empty"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "contains a NUL byte"
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "contains white space"
	}
	return ""
}

func validateField(name, s string) error {
	switch p := KeyURIProblem(s); {
	case p == "":
		return nil
	case s == "":
		return fmt.Errorf("empty %s: %w", name, ErrInvalidRecord)
	default:
		return fmt.Errorf("%s %q %s: %w", name, s, p, ErrInvalidRecord)
	}
}
