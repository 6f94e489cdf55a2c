package engine

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
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
// pay for copies: a decision is kept when a recent miss had the same
// start key, uri and values read (see memo.admit).

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
	// seen holds a fingerprint of the start key, uri and values read of
	// a recent miss per slot: a decision is kept at its second miss.
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

// admit reports whether a missed decision is to be kept: whether the
// same values were read for the same start key and uri by a recent
// miss. h is the hash of the start key and uri; the values are those of
// req for what rd says was read.
func (m *memo) admit(h uint64, req *Request, rd *reads) bool {
	if rd.mask != 0 || len(rd.headers) > 0 {
		var vh maphash.Hash
		vh.SetSeed(m.seed)
		var n [9]byte
		n[0] = byte(rd.mask)
		binary.LittleEndian.PutUint64(n[1:], h)
		vh.Write(n[:])
		for _, v := range [...]struct {
			bit readMask
			s   string
		}{{readArgs, req.Args}, {readMethod, req.method()}, {readHostname, req.hostname()}, {readClientIP, req.ClientIP}} {
			if rd.mask&v.bit != 0 {
				vh.WriteString(v.s)
				vh.WriteByte(0)
			}
		}
		if rd.mask&(readHTTPS|readPort) != 0 {
			var p [9]byte
			binary.LittleEndian.PutUint64(p[:8], uint64(req.port()))
			if req.https() {
				p[8] = 1
			}
			vh.Write(p[:])
		}
		for _, name := range rd.headers {
			v, ok := req.header(name)
			vh.WriteString(name)
			vh.WriteByte(0)
			vh.WriteString(v)
			if ok {
				vh.WriteByte(1)
			} else {
				vh.WriteByte(0)
			}
		}
		h = vh.Sum64()
	}
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
	if r.req.Trace || r.over != nil || r.serial == 0 || !m.admit(h, &r.req, &r.read) {
		return
	}
	var c copier
	req := &r.req
	e := &memoEntry{serial: r.serial, key: c.str(r.startKey), uri: c.str(req.URI), mask: r.read.mask,
		nHeader: int64(r.read.nHeader), work: r.work, nRequest: len(req.Header)}
	if e.mask&readArgs != 0 {
		e.args = c.str(req.Args)
	}
	if e.mask&readMethod != 0 {
		e.method = c.str(req.method())
	}
	if e.mask&readHostname != 0 {
		e.host = c.str(req.hostname())
	}
	e.https, e.port = req.https(), req.port()
	if e.mask&readClientIP != 0 {
		e.client = c.str(req.ClientIP)
	}
	if len(r.read.headers) > 0 {
		e.headers = make([]headerValue, len(r.read.headers))
		c.n += int64(len(e.headers)) * int64(unsafe.Sizeof(headerValue{}))
		for i, name := range r.read.headers {
			v, ok := req.header(name)
			e.headers[i] = headerValue{name: c.str(name), value: c.str(v), ok: ok}
		}
	}
	e.d = c.decision(&r.d)
	e.d.json = c.bytes(e.d.AppendJSON(nil))
	// The entry, and its share of the shard's map and variant list.
	e.size = c.n + int64(unsafe.Sizeof(memoEntry{})) + 64
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

// A copier copies what an entry keeps, so that it shares no memory with
// the run, the request or the mapping, and counts the bytes it
// allocates (n), as the allocator rounds them, roughly. A string equal
// to one it copied before is shared: a decision repeats its key, uri and
// host in several fields.
type copier struct {
	n    int64
	seen [8]string
	next int
}

func (c *copier) str(s string) string {
	if s == "" {
		return ""
	}
	for _, t := range c.seen {
		if t == s {
			return t
		}
	}
	t := strings.Clone(s)
	c.n += roundAlloc(len(s))
	c.seen[c.next%len(c.seen)] = t
	c.next++
	return t
}

func (c *copier) bytes(b []byte) []byte {
	c.n += roundAlloc(len(b))
	return bytes.Clone(b)
}

// roundAlloc is about what the allocator takes for n bytes.
func roundAlloc(n int) int64 { return int64((n + 15) &^ 15) }

// decision returns a copy of d without its trace.
func (c *copier) decision(d *Decision) Decision {
	out := Decision{Generation: d.Generation, Key: c.str(d.Key), URI: c.str(d.URI), Status: d.Status,
		Location: c.str(d.Location), Message: c.str(d.Message), Proxy: c.str(d.Proxy), File: c.str(d.File),
		Handler: c.str(d.Handler), MatchedURI: c.str(d.MatchedURI), PathInfo: c.str(d.PathInfo),
		StartKey: c.str(d.StartKey), Rows: d.Rows}
	if d.Doc != nil {
		out.Doc = &Doc{ContentType: c.str(d.Doc.ContentType), Body: c.str(d.Doc.Body)}
		c.n += int64(unsafe.Sizeof(Doc{}))
	}
	pairs := func(l [][2]string) [][2]string {
		if len(l) == 0 {
			return nil
		}
		o := make([][2]string, len(l))
		c.n += int64(len(l)) * int64(unsafe.Sizeof(l[0]))
		for i, p := range l {
			o[i] = [2]string{c.str(p[0]), c.str(p[1])}
		}
		return o
	}
	out.Config, out.FixupConfig = pairs(d.Config), pairs(d.FixupConfig)
	if len(d.Notes) > 0 {
		out.Notes = make([]Note, len(d.Notes))
		c.n += int64(len(d.Notes)) * int64(unsafe.Sizeof(Note{}))
		for i, note := range d.Notes {
			vs := make([]string, len(note.Values))
			c.n += int64(len(vs)) * int64(unsafe.Sizeof(""))
			for j, v := range note.Values {
				vs[j] = c.str(v)
			}
			out.Notes[i] = Note{Name: c.str(note.Name), Values: vs}
		}
	}
	if len(d.CTX) > 0 {
		out.CTX = make([]Var, len(d.CTX))
		c.n += int64(len(d.CTX)) * int64(unsafe.Sizeof(Var{}))
		for i, v := range d.CTX {
			out.CTX[i] = Var{Name: c.str(v.Name), Value: c.str(v.Value)}
		}
	}
	if len(d.Errors) > 0 {
		out.Errors = make([]RowError, len(d.Errors))
		c.n += int64(len(d.Errors)) * int64(unsafe.Sizeof(RowError{}))
		for i, e := range d.Errors {
			out.Errors[i] = RowError{ID: e.ID, Action: c.str(e.Action), Error: c.str(e.Error)}
		}
	}
	return out
}
