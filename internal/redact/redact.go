// Package redact hides the secrets in what transdb logs and reports.
package redact

import (
	"errors"
	"regexp"
	"strings"
)

// URL returns the URL, or comma-separated list of URLs, s with the user
// information of each (user:password@, or a token@) replaced by ***, so
// that it can be logged: nats://alice:s3cret@host:4222 becomes
// nats://***@host:4222. A URL without scheme (alice:s3cret@host:4222)
// is treated alike; text without @ stays as it is.
func URL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		scheme, rest, ok := strings.Cut(p, "://")
		if ok {
			scheme += "://"
		} else {
			scheme, rest = "", p
		}
		// The user information ends at the last @ before the path.
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			parts[i] = scheme + "***" + rest[at:]
		}
	}
	return strings.Join(parts, ",")
}

// userinfoRE matches the scheme and user information of a URL in text.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s,]*@`)

// Text returns s, an error message or other text, with the user
// information of every URL in it replaced by ***.
func Text(s string) string {
	return userinfoRE.ReplaceAllString(s, "${1}***@")
}

// Error returns err with the user information of the URLs in its
// message replaced by ***, nil for nil. The result is a new error of
// that message: it unwraps to nothing.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(Text(err.Error()))
}
