package engine

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// The decision cache.
//
// A translation is a function of the version of the table, the engine's
// options, the key it starts with, the request's uri, and whatever else
// of the request its actions read: nothing in it depends on the time,
// on chance, on the compiled-action cache or on other translations. So a
// decision made for one request is the decision for any other request
// on the same mapped version that starts with the same key and uri and
// agrees on every property the translation read: each read returns what
// it returned before, so each step goes as it went (by induction over the
// steps), to the same decision. A run records what it reads (reads); the
// decision is kept with the values read; a later request whose values
// agree gets it without a translation.
//
// One thing a translation uses does not come from what it read: each
// read of a header counts the request's headers as work (Header), so
// that a request with more headers could pass MaxWork where the one
// recorded did not. A kept decision serves such a request only while the
// work its translation would do stays within the bound.
//
// What is not kept: a traced translation, one that ended with an error
// (the context ended, the database could not be read), one that passed
// a bound on resources (its decision is a 500 about its own work), and
// decisions larger than maxMemoEntry. A request seen once is not kept
// either, so that traffic that never repeats does not fill the cache and
// pay for copies (see memo.admit).

// reads records which of the request's properties a translation read,
// beyond its start key and uri.
type reads struct {
	mask    readMask
	headers []string // the names of the headers read, each once whatever its case
	nHeader int      // the reads of headers, each counting the request's headers as work
}

type readMask uint8

const (
	readArgs readMask = 1 << iota
	readMethod
	readHostname
	readHTTPS
	readPort
	readClientIP
)

// header records a read of the header name.
func (rd *reads) header(name string) {
	rd.nHeader++
	for _, h := range rd.headers {
		if strings.EqualFold(h, name) {
			return
		}
	}
	rd.headers = append(rd.headers, name)
}

// memoShards spreads the cache's entries and locks over shards.
const memoShards = 16

// maxMemoVariants bounds the decisions kept for one start key and uri,
// for requests that differ in what their translations read (a host, a
// header); past it a new one replaces one of them.
const maxMemoVariants = 8

// maxMemoEntry bounds the size of one decision kept, as memoEntry.size
// estimates it.
const maxMemoEntry = 64 << 10

// memoAdmitSlots is the length of memo.seen, a power of two.
const memoAdmitSlots = 1 << 16

// A memo keeps decisions of one engine, by the mapped version, start key
// and uri they were made for, with what their translations read; see
// the comment at the top of this file. It is safe for concurrent use.
type memo struct {
	seed     maphash.Seed
	maxBytes int64 // of each shard
	shards   [memoShards]memoShard
	// seen holds a fingerprint of the start key and uri of a recent
	// miss per slot: a decision is kept at its second miss.
	seen         []atomic.Uint32
	hits, misses atomic.Uint64
}

type memoShard struct {
	mu     sync.RWMutex
	serial uint64 // the newest mapping an entry was kept for; older ones are gone
	m      map[uint64][]*memoEntry
	bytes  int64
	next   uint8 // the variant a full list replaces next
	_      [64]byte
}

// A memoEntry is a decision, with its JSON, and what its translation
// read: the values the request had for readMask's properties and for
// the headers.
type memoEntry struct {
	serial        uint64
	key, uri      string
	mask          readMask
	args, method  string
	host, client  string
	https         bool
	port          int
	headers       []headerValue
	nHeader, work int64 // reads of headers, and work spent (run.work)
	nRequest      int   // headers of the request
	d             Decision
	size          int64
}

type headerValue struct {
	name, value string
	ok          bool
}

func newMemo(maxBytes int64) *memo {
	m := &memo{seed: maphash.MakeSeed(), maxBytes: maxBytes / memoShards,
		seen: make([]atomic.Uint32, memoAdmitSlots)}
	for i := range m.shards {
		m.shards[i].m = make(map[uint64][]*memoEntry)
	}
	return m
}

// hash is the hash of a start key and uri.
func (m *memo) hash(key, uri string) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(key)
	h.WriteByte(0)
	h.WriteString(uri)
	return h.Sum64()
}

func (m *memo) shard(h uint64) *memoShard { return &m.shards[h%memoShards] }

// get returns the decision kept for req on the mapping of serial,
// starting with key, or nil.
func (m *memo) get(h, serial uint64, key string, req *Request) *Decision {
	s := m.shard(h)
	s.mu.RLock()
	for _, e := range s.m[h] {
		if e.serial == serial && e.key == key && e.uri == req.URI && e.matches(req) {
			s.mu.RUnlock()
			m.hits.Add(1)
			return &e.d
		}
	}
	s.mu.RUnlock()
	m.misses.Add(1)
	return nil
}

// matches reports whether req agrees with the entry's request on what
// its translation read, and its headers would not take the translation
// past MaxWork.
func (e *memoEntry) matches(req *Request) bool {
	if e.mask != 0 {
		switch {
		case e.mask&readArgs != 0 && req.Args != e.args,
			e.mask&readMethod != 0 && req.method() != e.method,
			e.mask&readHostname != 0 && req.hostname() != e.host,
			e.mask&readHTTPS != 0 && req.https() != e.https,
			e.mask&readPort != 0 && req.port() != e.port,
			e.mask&readClientIP != 0 && req.ClientIP != e.client:
			return false
		}
	}
	for _, hv := range e.headers {
		if v, ok := req.header(hv.name); v != hv.value || ok != hv.ok {
			return false
		}
	}
	if more := int64(len(req.Header) - e.nRequest); more > 0 && e.nHeader > 0 {
		return e.work+8*more*e.nHeader <= MaxWork
	}
	return true
}

// admit reports whether a missed decision is to be kept: whether its
// start key and uri missed recently.
func (m *memo) admit(h uint64) bool {
	slot := &m.seen[h&(memoAdmitSlots-1)]
	fp := uint32(h>>32) | 1
	if slot.Load() == fp {
		return true
	}
	slot.Store(fp)
	return false
}

// put keeps the decision of r, a translation that ended without error.
func (m *memo) put(h uint64, r *run) {
	if r.req.Trace || r.over != nil || r.serial == 0 || !m.admit(h) {
		return
	}
	e := &memoEntry{serial: r.serial, key: strings.Clone(r.startKey), uri: strings.Clone(r.req.URI),
		mask: r.read.mask, nHeader: int64(r.read.nHeader), work: r.work, nRequest: len(r.req.Header)}
	req := &r.req
	if e.mask&readArgs != 0 {
		e.args = strings.Clone(req.Args)
	}
	if e.mask&readMethod != 0 {
		e.method = strings.Clone(req.method())
	}
	if e.mask&readHostname != 0 {
		e.host = strings.Clone(req.hostname())
	}
	e.https, e.port = req.https(), req.port()
	if e.mask&readClientIP != 0 {
		e.client = strings.Clone(req.ClientIP)
	}
	size := int64(256 + len(e.key) + len(e.uri) + len(e.args) + len(e.method) + len(e.host) + len(e.client))
	if len(r.read.headers) > 0 {
		e.headers = make([]headerValue, len(r.read.headers))
		for i, name := range r.read.headers {
			v, ok := req.header(name)
			e.headers[i] = headerValue{name: strings.Clone(name), value: strings.Clone(v), ok: ok}
			size += int64(48 + len(name) + len(v))
		}
	}
	var n int64
	e.d, n = cloneDecision(&r.d)
	e.d.json = e.d.AppendJSON(nil)
	e.size = size + n + int64(cap(e.d.json))
	if e.size > maxMemoEntry {
		return
	}
	s := m.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case e.serial < s.serial:
		return // a translation on a version already replaced
	case e.serial > s.serial:
		clear(s.m)
		s.serial, s.bytes = e.serial, 0
	}
	list := s.m[h]
	for _, old := range list {
		if old.key == e.key && old.uri == e.uri && old.sameReads(e) {
			return // kept meanwhile by another request
		}
	}
	if len(list) < maxMemoVariants {
		s.m[h] = append(list, e)
	} else {
		i := int(s.next) % len(list)
		s.next++
		s.bytes -= list[i].size
		list[i] = e
	}
	s.bytes += e.size
	for k, l := range s.m {
		if s.bytes <= m.maxBytes {
			break
		}
		if k == h {
			continue
		}
		for _, old := range l {
			s.bytes -= old.size
		}
		delete(s.m, k) // an entry chosen as the map's iteration order chooses: at random
	}
}

// sameReads reports whether o was kept for a request that agrees with
// e's on what both translations read.
func (e *memoEntry) sameReads(o *memoEntry) bool {
	if e.mask != o.mask || e.args != o.args || e.method != o.method || e.host != o.host ||
		e.client != o.client || (e.mask&readHTTPS != 0 && e.https != o.https) ||
		(e.mask&readPort != 0 && e.port != o.port) || len(e.headers) != len(o.headers) {
		return false
	}
	for i := range e.headers {
		if e.headers[i] != o.headers[i] {
			return false
		}
	}
	return true
}

// cloneDecision returns a copy of d that shares no memory with it, and
// an estimate of the bytes it holds.
func cloneDecision(d *Decision) (Decision, int64) {
	c := Decision{Generation: d.Generation, Key: strings.Clone(d.Key), URI: strings.Clone(d.URI),
		Status: d.Status, Location: strings.Clone(d.Location), Message: strings.Clone(d.Message),
		Proxy: strings.Clone(d.Proxy), File: strings.Clone(d.File), Handler: strings.Clone(d.Handler),
		MatchedURI: strings.Clone(d.MatchedURI), PathInfo: strings.Clone(d.PathInfo),
		StartKey: strings.Clone(d.StartKey), Rows: d.Rows}
	n := int64(len(c.Key) + len(c.URI) + len(c.Location) + len(c.Message) + len(c.Proxy) + len(c.File) +
		len(c.Handler) + len(c.MatchedURI) + len(c.PathInfo) + len(c.StartKey))
	str := func(s string) string { n += int64(16 + len(s)); return strings.Clone(s) }
	if d.Doc != nil {
		c.Doc = &Doc{ContentType: str(d.Doc.ContentType), Body: str(d.Doc.Body)}
	}
	pairs := func(l [][2]string) [][2]string {
		if len(l) == 0 {
			return nil
		}
		out := make([][2]string, len(l))
		for i, p := range l {
			out[i] = [2]string{str(p[0]), str(p[1])}
		}
		return out
	}
	c.Config, c.FixupConfig = pairs(d.Config), pairs(d.FixupConfig)
	if len(d.Notes) > 0 {
		c.Notes = make([]Note, len(d.Notes))
		for i, note := range d.Notes {
			vs := make([]string, len(note.Values))
			for j, v := range note.Values {
				vs[j] = str(v)
			}
			c.Notes[i] = Note{Name: str(note.Name), Values: vs}
		}
	}
	if len(d.CTX) > 0 {
		c.CTX = make([]Var, len(d.CTX))
		for i, v := range d.CTX {
			c.CTX[i] = Var{Name: str(v.Name), Value: str(v.Value)}
		}
	}
	if len(d.Errors) > 0 {
		c.Errors = make([]RowError, len(d.Errors))
		for i, e := range d.Errors {
			c.Errors[i] = RowError{ID: e.ID, Action: str(e.Action), Error: str(e.Error)}
		}
	}
	return c, n
}
