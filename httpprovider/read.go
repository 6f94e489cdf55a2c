package httpprovider

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"transdb/perlmmapdb"
	"transdb/translation"
)

// The read endpoints. Each lookup pins one snapshot, so that the body
// and HeaderGeneration describe one version, however many commits
// happen while the response is written.

// snapshot selects the request's provider and pins its newest version
// into the exchange's handle, which the caller releases (the exchange
// does when it ends, too). An exchange pins one snapshot.
func (x *exchange) snapshot() (*translation.Snapshot, error) {
	pr, err := x.selectProvider()
	if err != nil {
		return nil, err
	}
	if err := pr.p.Pin(&x.snap); err != nil {
		return nil, err
	}
	x.setGeneration(x.snap.Generation())
	return &x.snap, nil
}

// lookupParams returns the key and uri of a lookup.
func (x *exchange) lookupParams() (key, uri string, err error) {
	q, err := x.params()
	if err != nil {
		return "", "", err
	}
	if key, err = keyURIParam(q, "key", x.s.defKey); err != nil {
		return "", "", err
	}
	x.key = key
	if uri, err = keyURIParam(q, "uri", ""); err != nil {
		return "", "", err
	}
	x.uri = uri
	return key, uri, nil
}

// handleFetch serves GET /v1/fetch?key=K&uri=U[&notes=1].
func (s *Server) handleFetch(x *exchange) error {
	key, uri, err := x.lookupParams()
	if err != nil {
		return err
	}
	q, _ := x.params()
	notes, err := boolParam(q, "notes")
	if err != nil {
		return err
	}
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	// The body of WriteFetch, written straight from the mapping.
	return x.respondJSON(func(j *jsonWriter) {
		j.fetchHead(key, uri, snap.Generation())
		j.raw("[")
		n := 0
		err := snap.FetchBlocks(key, uri, notes, func(b translation.Block) error {
			if n++; n > 1 {
				j.raw(",")
			}
			j.block(b.Block, b.Order, b.ID, inPlace(b.Action), inPlace(b.Note))
			return nil
		})
		if err != nil {
			j.fail(err)
		}
		x.lookup, x.blocks = true, n
		j.raw("]}\n")
	})
}

// handleResolve serves GET /v1/resolve?key=K&uri=U, writing the blocks
// straight from the mapping as WriteResolution lays them out.
func (s *Server) handleResolve(x *exchange) error {
	key, uri, err := x.lookupParams()
	if err != nil {
		return err
	}
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	return x.respondJSON(func(j *jsonWriter) {
		r := resolutionJSON{j: j}
		r.begin(key, uri, snap.Generation())
		err := snap.ResolveBlocks(key, uri, func(b translation.Block) error {
			r.block(b.Block, b.Order, b.ID, inPlace(b.Action), "")
			return nil
		}, func(prefix, pathInfo string, b translation.Block) error {
			if !r.inMatch || prefix != r.uri {
				r.match(prefix, pathInfo)
			}
			r.block(b.Block, b.Order, b.ID, inPlace(b.Action), "")
			return nil
		})
		if err != nil {
			j.fail(err)
			return
		}
		r.end()
		x.lookup, x.blocks = true, r.blocks
	})
}

// handleKeys serves GET /v1/keys: {"keys":[...]}.
func (s *Server) handleKeys(x *exchange) error {
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	keys, err := snap.ListKeys()
	if err != nil {
		return err
	}
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"keys":`)
		j.array(len(keys), func(i int) { j.str(keys[i]) })
		j.raw("}\n")
	})
}

// handleURIs serves GET /v1/uris[?key=K]: {"pairs":[["key","uri"],...]}.
func (s *Server) handleURIs(x *exchange) error {
	q, err := x.params()
	if err != nil {
		return err
	}
	key, err := optionalKeyURI(q, "key")
	if err != nil {
		return err
	}
	x.key = key
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	pairs, err := snap.ListKeysAndURIs(key)
	if err != nil {
		return err
	}
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"pairs":`)
		j.array(len(pairs), func(i int) {
			j.raw("[")
			j.str(pairs[i][0])
			j.raw(",")
			j.str(pairs[i][1])
			j.raw("]")
		})
		j.raw("}\n")
	})
}

// dumpContentTypes are the media types of the dump formats.
var dumpContentTypes = map[translation.Format]string{
	translation.FormatText:  "text/plain; charset=utf-8",
	translation.FormatFile:  "text/plain; charset=utf-8",
	translation.FormatJSONL: "application/jsonl; charset=utf-8",
}

// formatParam returns the format parameter; absent means text.
func formatParam(x *exchange) (translation.Format, error) {
	q, err := x.params()
	if err != nil {
		return "", err
	}
	name, _, err := single(q, "format")
	if err != nil {
		return "", err
	}
	f, err := translation.ParseFormat(name)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "unknown format %q (want text, file or jsonl)", name)
	}
	return f, nil
}

// handleDump serves GET /v1/dump[?format=text|file|jsonl]: the table,
// streamed in the format, from one version.
func (s *Server) handleDump(x *exchange) error {
	f, err := formatParam(x)
	if err != nil {
		return err
	}
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	x.Header().Set("Content-Type", dumpContentTypes[f])
	err = snap.Dump(x, f)
	if errors.Is(err, translation.ErrInvalidRecord) && !x.wrote {
		// Only jsonl refuses records: their bytes are not UTF-8.
		return errorf(http.StatusConflict, "the table cannot be dumped as %s: %v; use format=text", f, err)
	}
	return err
}

// handleStats serves GET /v1/stats.
func (s *Server) handleStats(x *exchange) error {
	pr, err := x.selectProvider()
	if err != nil {
		return err
	}
	st, err := pr.p.Stats()
	if err != nil {
		return err
	}
	x.setGeneration(st.Generation)
	x.Header().Set("Content-Type", contentTypeJSON)
	return writeStats(x, st, pr.file.replication())
}

// handleHealthz serves GET /healthz: the process is alive and serving.
func (s *Server) handleHealthz(x *exchange) error {
	x.Header().Set("Cache-Control", "no-store")
	return x.respondJSON(func(j *jsonWriter) { j.raw(`{"status":"ok"}` + "\n") })
}

// handleReadyz serves GET /readyz: 200 when every provider has a mapped,
// valid version of its database, 503 naming the first that has none.
// The body has the verification of each file's version,
//
//	{"status":"ready","files":[{"file":F,"generation":G,"verification":"verified","verified_generation":G}]}
//
// with verification "pending" while the version is being verified,
// "off" without verification, and "failed", with "verify_error", for a
// damaged version: that one is 503 with the files in the error body, so
// that a balancer sends the requests to a replica with a sound copy
// (this one goes on answering them). A replicated file has its
// "replication" too (see jsonWriter.replication): a replica whose NATS
// servers are out of reach stays ready, serving the version it has.
func (s *Server) handleReadyz(x *exchange) error {
	x.Header().Set("Cache-Control", "no-store")
	for _, f := range s.files {
		if msg := importReadiness(f); msg != "" {
			return errorf(http.StatusServiceUnavailable, "%s", msg)
		}
	}
	for _, pr := range s.providers {
		snap, err := pr.p.Snapshot()
		if err != nil {
			x.prov = pr
			_, msg := statusOf(err)
			return errorf(http.StatusServiceUnavailable, "not ready: basekey %s: %s", pr.name, msg)
		}
		snap.Release()
	}
	files := make([]fileReadiness, 0, len(s.files))
	var failed *fileReadiness
	for _, f := range s.files {
		snap, err := f.provider.p.Snapshot()
		if err != nil {
			return errorf(http.StatusServiceUnavailable, "not ready: %s: %s", f.path, err)
		}
		r := fileReadiness{file: f.path, generation: snap.Generation(), verification: s.verificationOf(f, snap), repl: f.replication()}
		if f.follower != nil {
			st := f.follower.Status()
			r.imports = &st
		}
		files = append(files, r)
		snap.Release()
		if r := &files[len(files)-1]; failed == nil && r.state == "failed" {
			failed = r
		}
	}
	if failed != nil {
		msg := fmt.Sprintf("not ready: %s: generation %d fails verification: %v", failed.file, failed.generation, failed.err)
		x.Header().Set("Content-Type", contentTypeJSON)
		x.WriteHeader(http.StatusServiceUnavailable)
		return writeJSON(x, func(j *jsonWriter) {
			j.raw(`{"error":`)
			j.str(msg)
			j.raw(`,"files":`)
			j.readiness(files)
			j.raw("}\n")
		})
	}
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"status":"ready","files":`)
		j.readiness(files)
		j.raw("}\n")
	})
}

// fileReadiness is the state of one database file for /readyz.
type fileReadiness struct {
	file       string
	generation uint64 // of the version served
	verification
	imports *perlmmapdb.FollowStatus // of a file that follows a Perl file, else nil
	repl    *ReplicationStatus       // nil without replication
}

// readiness writes the files of a /readyz body.
func (j *jsonWriter) readiness(files []fileReadiness) {
	now := time.Now()
	j.array(len(files), func(i int) {
		f := &files[i]
		j.raw(`{"file":`)
		j.str(f.file)
		j.raw(`,"generation":`)
		j.uint(f.generation)
		j.raw(`,"verification":`)
		j.str(f.state)
		if f.anyGood {
			j.raw(`,"verified_generation":`)
			j.uint(f.good)
		}
		if f.err != nil {
			j.raw(`,"verify_error":`)
			j.str(f.err.Error())
		}
		if f.imports != nil {
			j.importFields(f.imports)
		}
		if f.repl != nil {
			j.raw(`,"replication":`)
			j.replication(f.repl, now)
		}
		j.raw("}")
	})
}

// handleMetrics serves GET /metrics in the Prometheus text format.
func (s *Server) handleMetrics(x *exchange) error {
	s.metrics.handler.ServeHTTP(x, x.r)
	return nil
}
