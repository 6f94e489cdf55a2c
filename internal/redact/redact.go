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
//
// A password may hold any character, ',' '/' '?' '#' and '@' included
// (a mistyped URL has them unescaped), so the user information of a URL
// is taken to run to the last '@' before the next URL of the list, which
// starts with ",scheme://": what it hides may be more than the user
// information, never less.
func URL(s string) string {
	var b strings.Builder
	starts := append(listRE.FindAllStringIndex(s, -1), []int{len(s), len(s)})
	prev := 0
	for _, m := range starts {
		b.WriteString(hideUser(s[prev:m[0]]))
		prev = m[0]
	}
	return b.String()
}

// listRE matches the start of each URL of a list after the first.
var listRE = regexp.MustCompile(`,\s*[A-Za-z][A-Za-z0-9+.-]*://`)

// hideUser returns one URL of a list, with its separator, with all
// before its last '@' and after its scheme replaced by ***.
func hideUser(u string) string {
	at := strings.LastIndexByte(u, '@')
	if at < 0 {
		return u
	}
	start := 0
	if i := strings.Index(u, "://"); i >= 0 && i < at {
		start = i + 3
	} else if strings.HasPrefix(u, ",") {
		start = 1
	}
	return u[:start] + "***" + u[at:]
}

// userinfoRE matches the scheme and user information of a URL in text:
// all up to the last '@' before white space, for the reason URL gives.
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)\S*@`)

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
