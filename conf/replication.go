package conf

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"transdb/internal/redact"
)

// bucketRE is what NATS allows in the name of an object store bucket.
var bucketRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// parseReplication reads the value of Publish or Follow (name): a NATS
// URL, or several separated by commas, and a bucket. Messages show the
// URL with its user information hidden.
func parseReplication(name, v string) (*Replication, error) {
	fields := strings.Fields(v)
	if len(fields) != 2 {
		return nil, fmt.Errorf("invalid %s %q: want a NATS URL and a bucket, such as %s nats://127.0.0.1:4222 transdb", name, redact.URL(v), name)
	}
	rawURL, bucket := fields[0], fields[1]
	urls := strings.Split(rawURL, ",")
	for i, u := range urls {
		if err := checkNATSURL(u); err != nil {
			// The whole list, redacted as one: a password may hold the
			// comma that split it.
			which := ""
			if len(urls) > 1 {
				which = fmt.Sprintf(" (URL %d of %d)", i+1, len(urls))
			}
			return nil, fmt.Errorf("invalid %s URL %q%s: %v", name, redact.URL(rawURL), which, err)
		}
	}
	if !bucketRE.MatchString(bucket) {
		return nil, fmt.Errorf("invalid %s bucket %q: letters, digits, - and _ only", name, bucket)
	}
	return &Replication{URL: rawURL, Bucket: bucket}, nil
}

// checkNATSURL accepts nats://[USERINFO@]HOST[:PORT] and the same with
// tls://. The errors quote no part of u, which may hold a password (a
// mistyped one can parse as the port).
func checkNATSURL(u string) error {
	const want = "want nats://HOST:PORT or tls://HOST:PORT"
	pu, err := url.Parse(u)
	if err != nil {
		return errors.New(want)
	}
	switch {
	case pu.Scheme != "nats" && pu.Scheme != "tls":
		return errors.New(want)
	case pu.Hostname() == "":
		return fmt.Errorf("no host: %s", want)
	case pu.Path != "" && pu.Path != "/", pu.RawQuery != "", pu.Fragment != "":
		return fmt.Errorf("a path, query or fragment: %s", want)
	}
	if port := pu.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return errors.New("the port must be a number from 1 to 65535")
		}
	}
	return nil
}

// checkFile refuses a value of name that is not an existing file.
func checkFile(name, v string) error {
	if v == "" {
		return fmt.Errorf("empty %s", name)
	}
	fi, err := os.Stat(v)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %s: no such file", name, v)
	case errors.As(err, &pe):
		return fmt.Errorf("%s %s: %v", name, v, pe.Err)
	case err != nil:
		return fmt.Errorf("%s %s: %v", name, v, err)
	case fi.IsDir():
		return fmt.Errorf("%s %s is a directory, not a file", name, v)
	}
	return nil
}

// completeReplication checks the replication parameters of a provider
// on their own and completes its Publish or Follow with the lines and
// the NATS credentials and authorities of the container. A provider of
// a file that follows ImportFrom is read-only but may Publish: the
// imports are its versions.
func (p *parser) completeReplication(c *container, pr *Provider) error {
	r := pr.Publish
	switch {
	case r != nil && pr.Follow != nil:
		return p.errorf(max(c.seen["publish"], c.seen["follow"]), "Publish and Follow on one provider: a file is published by its writer or followed by a replica")
	case r != nil:
		r.Line = c.seen["publish"]
		if pr.ReadOnly && pr.ImportFrom == "" {
			return p.errorf(r.Line, "Publish on a read-only provider: only a writable provider publishes its versions (a read-only one may Follow)")
		}
	case pr.Follow != nil:
		r = pr.Follow
		r.Line = c.seen["follow"]
		if !pr.ReadOnly {
			return p.errorf(r.Line, "Follow on a writable provider: a replica's file is written by what it follows only, set ReadOnly 1")
		}
	}
	for _, key := range []string{"natscredentials", "natsrootcas"} {
		if line, ok := c.seen[key]; ok && r == nil {
			return p.errorf(line, "%s without Publish or Follow", parameters[key].name)
		}
	}
	if r != nil {
		r.Credentials, r.RootCAs = pr.natsCredentials, pr.natsRootCAs
	}
	pr.natsCredentials, pr.natsRootCAs = "", ""
	return nil
}

// checkReplication compares the replication of pr with the providers
// before it: a file has one replication, shared by all its providers; a
// followed file has no writable provider and no ImportFrom; two files
// published to one bucket need different base names, the names of their
// objects.
func (p *parser) checkReplication(pr Provider) error {
	path := pr.absPath()
	if pr.Follow != nil && pr.ImportFrom != "" {
		return p.errorf(pr.Follow.Line, "Follow: file %s follows ImportFrom %s already: a file follows one source", path, pr.ImportFrom)
	}
	own := pr.Publish
	if own == nil {
		own = pr.Follow
	}
	for _, q := range p.cfg.Providers {
		other, verb := q.Publish, "published to"
		if other == nil {
			other, verb = q.Follow, "followed from"
		}
		if q.absPath() != path {
			if own != nil && other != nil && pr.Publish != nil && q.Publish != nil &&
				own.URL == other.URL && own.Bucket == other.Bucket && filepath.Base(path) == filepath.Base(q.absPath()) {
				return p.errorf(own.Line, "Publish: file %s and file %s (line %d) would both be object %s of bucket %s: name the files differently or use another bucket",
					path, q.absPath(), other.Line, filepath.Base(path), own.Bucket)
			}
			continue
		}
		switch {
		case q.Follow != nil && pr.ImportFrom != "":
			return p.errorf(p.importLine[len(p.cfg.Providers)], "ImportFrom: file %s is followed from bucket %s (line %d): a file follows one source", path, q.Follow.Bucket, q.Follow.Line)
		case pr.Follow != nil && !q.ReadOnly:
			return p.errorf(pr.Follow.Line, "Follow: file %s is written by the provider on line %d, a replica's file may only be written by what it follows", path, q.Line)
		case q.Follow != nil && !pr.ReadOnly:
			return p.errorf(pr.Line, "TranslationProvider writes file %s, which is followed from bucket %s (line %d): a replica's file may only be written by what it follows", path, q.Follow.Bucket, q.Follow.Line)
		case own != nil && other != nil && (!sameReplication(own, other) || (pr.Publish == nil) != (q.Publish == nil)):
			return p.errorf(own.Line, "file %s is already %s bucket %s on line %d: a file has one replication, shared by its providers", path, verb, other.Bucket, other.Line)
		}
	}
	return nil
}

// sameReplication reports whether a and b name the same bucket in the
// same way, whatever their lines.
func sameReplication(a, b *Replication) bool {
	x, y := *a, *b
	x.Line, y.Line = 0, 0
	return x == y
}
