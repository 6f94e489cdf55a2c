package httpprovider

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"transdb/translation"
)

// The write endpoints. Every change runs in one transaction of its
// provider (translation.Provider.Update): the file allows one
// transaction per process, so concurrent requests queue for it instead
// of failing. The request body is read and checked completely before the
// transaction begins, so a slow or malformed upload never holds the lock
// of the file, which the writers of other processes wait for too.

// checkToken reports a request without the admin token: 401 with a
// WWW-Authenticate challenge. The token is compared in constant time,
// through hashes of equal length.
func (s *Server) checkToken(x *exchange) error {
	fail := func(msg string) error {
		x.Header().Set("WWW-Authenticate", `Bearer realm="transdb"`)
		return errorf(http.StatusUnauthorized, "%s", msg)
	}
	auth := x.r.Header.Values("Authorization")
	if len(auth) == 0 {
		return fail("missing Authorization: Bearer token")
	}
	scheme, token, ok := strings.Cut(auth[0], " ")
	if len(auth) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") {
		return fail("malformed Authorization header (want one: Bearer <token>)")
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
		return fail("wrong token")
	}
	return nil
}

// writable returns the provider a write request selects, after checking
// that writes are enabled, the token and that the provider is writable.
func (s *Server) writable(x *exchange, keys []string, given bool) (*provider, error) {
	pr, err := s.selectProvider(keys, given)
	if err != nil {
		return nil, err
	}
	x.prov = pr
	if pr.p.ReadOnly() {
		return nil, errorf(http.StatusForbidden, "basekey %s is read-only", pr.name)
	}
	return pr, nil
}

// authorize checks that writes are enabled and the request has the token.
func (s *Server) authorize(x *exchange) error {
	if s.token == nil {
		return errorf(http.StatusForbidden, "writes are disabled: no AdminToken is configured")
	}
	return s.checkToken(x)
}

// A change is one committed change, for the journal.
type change struct {
	op  string // insert, delete or clear
	rec translation.Record
}

// A txn is a transaction of the server: the provider's transaction,
// with the changes recorded for the journal.
type txn struct {
	*translation.Txn
	changes []change
}

func (t *txn) insert(rec translation.Record) (uint64, error) {
	id, err := t.Insert(rec)
	if err != nil {
		return 0, err
	}
	rec.ID = id
	t.changes = append(t.changes, change{"insert", rec})
	return id, nil
}

func (t *txn) delete(old translation.Record) (int, error) {
	n, err := t.Delete(old)
	if n == 1 {
		old.Action, old.Note = "", ""
		t.changes = append(t.changes, change{"delete", old})
	}
	return n, err
}

func (t *txn) update(old, new translation.Record) (int, uint64, error) {
	n, id, err := t.Update(old, new)
	if n == 1 {
		old.Action, old.Note = "", ""
		new.ID = id
		t.changes = append(t.changes, change{"delete", old}, change{"insert", new})
	}
	return n, id, err
}

// clear clears the table and returns the number of records it held.
func (t *txn) clear() (int, error) {
	n, err := t.Clear()
	if err == nil {
		t.changes = append(t.changes, change{op: "clear"})
	}
	return n, err
}

// commit runs apply in a transaction on pr and commits it, after checking
// that the database still has the generation *expect if expect is set.
// Concurrent requests queue for the file's one transaction (see
// translation.Provider.Update). Then it journals the changes and starts
// the OnChange command and the backup, and calls OnCommit. On any error
// nothing is committed.
func (s *Server) commit(pr *provider, expect *uint64, apply func(t *txn) error) (uint64, error) {
	var changes []change
	gen, err := pr.p.Update(func(tt *translation.Txn) error {
		// The transaction holds the lock: its base is the newest version.
		if expect != nil && tt.Generation() != *expect {
			return errorf(http.StatusConflict, "the database is at generation %d, not %d: it has changed", tt.Generation(), *expect)
		}
		t := &txn{Txn: tt}
		if err := apply(t); err != nil {
			return err
		}
		changes = t.changes
		return nil
	})
	if err != nil {
		return 0, err
	}
	pr.file.journal.writeChanges(time.Now(), gen, changes)
	if s.onChange != nil {
		s.onChange.run(gen, pr.file.path)
	}
	if b := pr.file.backups; b != nil {
		b.committed(gen)
	}
	if s.onCommit != nil {
		s.onCommit(pr.file.path, gen)
	}
	return gen, nil
}

// An opResult is the result of one op of a txn: the new record's id
// (insert, update) or the number of records deleted (delete, clear).
type opResult struct {
	id      uint64
	deleted int
	isID    bool
}

// handleTxn serves POST /v1/txn. With a generation in the body, the txn
// commits only on that version of the database: 409 otherwise, with
// the current generation in HeaderGeneration.
func (s *Server) handleTxn(x *exchange) error {
	if err := s.authorize(x); err != nil {
		return err
	}
	q, err := x.params()
	if err != nil {
		return err
	}
	body, err := io.ReadAll(x.r.Body) // within MaxBodySize
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return errorf(http.StatusBadRequest, "empty body: want a JSON object with ops")
	}
	if !utf8.Valid(body) {
		return errorf(http.StatusBadRequest, "body is not valid UTF-8")
	}
	req, err := decodeTxn(body)
	if err != nil {
		return err
	}
	keys := q.get("basekey")
	given := keys != nil
	if req.hasBaseKey {
		if given && !slices.Equal(noBaseKey(keys), noBaseKey(req.baseKey)) {
			return errorf(http.StatusBadRequest, "basekey of the query and of the body differ")
		}
		keys, given = req.baseKey, true
	}
	pr, err := s.writable(x, keys, given)
	if err != nil {
		return err
	}
	results := make([]opResult, len(req.ops))
	gen, err := s.commit(pr, req.generation, func(t *txn) error {
		for i, op := range req.ops {
			var n int
			var err error
			r := &results[i]
			switch op.kind {
			case "insert":
				r.id, err = t.insert(op.new)
				r.isID, n = true, 1
			case "update":
				n, r.id, err = t.update(op.old, op.new)
				r.isID = true
			case "delete":
				n, err = t.delete(op.old)
				r.deleted = n
			case "clear":
				r.deleted, err = t.clear()
				n = 1
			}
			if err != nil {
				return fmt.Errorf("ops[%d]: %w", i, err)
			}
			if n == 0 {
				o := op.old
				return errorf(http.StatusConflict, "ops[%d]: no record %d with key %q, uri %q, block %d, order %d: nothing committed",
					i, o.ID, o.Key, o.URI, o.Block, o.Order)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.setGeneration(gen)
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"generation":`)
		j.uint(gen)
		j.raw(`,"results":`)
		j.array(len(results), func(i int) {
			if r := &results[i]; r.isID {
				j.raw(`{"id":`)
				j.uint(r.id)
			} else {
				j.raw(`{"deleted":`)
				j.uint(uint64(r.deleted))
			}
			j.raw("}")
		})
		j.raw("}\n")
	})
}

// handleLoad serves POST /v1/load?format=F[&clear=1[&empty=1]][&generation=G].
func (s *Server) handleLoad(x *exchange) error {
	if err := s.authorize(x); err != nil {
		return err
	}
	q, err := x.params()
	if err != nil {
		return err
	}
	keys := q.get("basekey")
	pr, err := s.writable(x, keys, keys != nil)
	if err != nil {
		return err
	}
	f, err := formatParam(x)
	if err != nil {
		return err
	}
	clear, err := boolParam(q, "clear")
	if err != nil {
		return err
	}
	empty, err := boolParam(q, "empty")
	if err != nil {
		return err
	}
	var expect *uint64
	if v, ok, err := single(q, "generation"); err != nil {
		return err
	} else if ok {
		g, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return errorf(http.StatusBadRequest, "parameter generation: %q is not a generation number", v)
		}
		expect = &g
	}
	rd, err := translation.NewReader(x.r.Body, f)
	if err != nil {
		return err
	}
	var recs []translation.Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	gen, err := s.commit(pr, expect, func(t *txn) error {
		if err := translation.CheckLoad(rd, len(recs), translation.LoadOptions{Clear: clear, AllowEmpty: empty}); err != nil {
			return errorf(http.StatusBadRequest, "%v; add empty=1 to empty the table", err)
		}
		if clear {
			if _, err := t.clear(); err != nil {
				return err
			}
		}
		for _, rec := range recs {
			if _, err := t.insert(rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.setGeneration(gen)
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"generation":`)
		j.uint(gen)
		j.raw(`,"records":`)
		j.uint(uint64(len(recs)))
		j.raw("}\n")
	})
}

// handleRotate serves POST /v1/rotate: Rotate. It is a write, authorized
// as the others are: it makes the server close and reopen files, which
// no client without the token may make it do. SIGHUP needs no token.
func (s *Server) handleRotate(x *exchange) error {
	if err := s.authorize(x); err != nil {
		return err
	}
	if err := s.Rotate(); err != nil {
		return err
	}
	return x.respondJSON(func(j *jsonWriter) { j.raw(`{"status":"rotated"}` + "\n") })
}
