package engine

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
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
// A translation ended by a bound (a loop of the table's, a Call too
// deep, an action's string too long) is kept too: it ends the same way
// for a request that reads the same, and a table that loops for some
// requests costs MaxSteps of work only once for each. One ended by
// MaxWork is not: its end depends on how many headers the request had.
// Nor are a traced translation, one that ended with an error (the
// context ended, the database could not be read), one that read more
// than maxReadHeaders header names, and decisions larger than
// maxMemoEntry. A request seen once is not kept either, so that traffic
// that never repeats does not fill the cache and pay for copies: a
// decision is kept when a recent miss had the same start key, uri and
// values read (see memo.admit).
//
// Kept decisions are read by every request and written seldom, so they
// live in a table (table.go), which reads without a lock: a hit reads a
// slot, the entry it points to (of the decisions of a start key and uri,
// mostly the only one), and the one allocation that holds the entry's
// start key and uri, then its JSON. Past its bound on memory, or at a
// new mapped version, the cache starts over empty.

// reads records which of the request's properties a translation read,
// beyond its start key and uri.
type reads struct {
	mask    readMask
	headers []string // the names of the headers read, each once whatever its case
	nHeader int      // the reads of headers, each counting the request's headers as work
	// many: the translation read more than maxReadHeaders headers, and
	// is not kept; headers is no longer searched, so that a table that
	// reads thousands of names costs no more than one that reads a few.
	many bool
}

// maxReadHeaders bounds the names of headers a kept translation read.
const maxReadHeaders = 16

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
	if rd.many {
		return
	}
	for _, h := range rd.headers {
		if strings.EqualFold(h, name) {
			return
		}
	}
	if len(rd.headers) == maxReadHeaders {
		rd.many = true
		return
	}
	rd.headers = append(rd.headers, name)
}

// maxMemoVariants bounds the decisions kept for one start key and uri,
// for requests that differ in what their translations read (a host, a
// header); past it a new one replaces one of them.
const maxMemoVariants = 8

// maxMemoEntry bounds the size of one decision kept, as memoEntry.size
// estimates it.
const maxMemoEntry = 64 << 10

// The admission filter, memo.seen, holds fingerprints of recent misses
// in buckets of memoAdmitWays slots; a miss whose bucket is full takes
// the place of an admitted request's, else of one at random (see
// admit). With a slot of its own per miss, a request would be forgotten
// at the miss of any other of its slot, and traffic that cycles through
// many requests would forget the same ones every round: of a cycle half
// as long as the filter, the 39% that share their slot would never be
// kept.
const memoAdmitWays = 4

// memoAdmitBytes is the cache's bound per slot of its admission filter:
// 2 MiB of fingerprints for a bound of 128 MiB, slots for several times
// the decisions a full cache holds (1-2 KiB each), so that the misses of
// requests that never repeat do not crowd out those that do.
const memoAdmitBytes = 256

// admitSlots returns the length of the admission filter of a cache of
// maxBytes: a power of two between 4,096 and 2^22.
func admitSlots(maxBytes int) int {
	n := 4096
	for n < 1<<22 && n*memoAdmitBytes < maxBytes {
		n *= 2
	}
	return n
}

// memoStripes spreads the counters of hits and misses over cache lines,
// so that the processors do not take turns at one.
const memoStripes = 16

// A memo keeps decisions of one engine, by the mapped version, start key
// and uri they were made for, with what their translations read; see
// the comment at the top of this file. It is safe for concurrent use.
type memo struct {
	seed     maphash.Seed
	maxBytes int
	// t holds the lists of decisions by the hash of their start key
	// and uri (never 0: see key).
	t      atomic.Pointer[table[memoEntry]]
	mu     sync.Mutex // serializes writers
	serial uint64     // the mapping of t's entries, under mu
	// seen holds fingerprints of the start key, uri and values read of
	// recent misses: a decision is kept at its second miss.
	seen         []atomic.Uint32
	hits, misses [memoStripes]stripe
}

type stripe struct {
	n atomic.Uint64
	_ [56]byte
}

// A memoEntry is a decision, with its JSON, and what its translation
// read: the values the request had for readMask's properties and for
// the headers. The entries of a start key and uri, or of several whose
// hashes are equal, form a list from the table's slot through next,
// the newest first. An entry is not changed once stored: a writer
// stores new ones. The fields a lookup reads of every entry it passes
// come first.
type memoEntry struct {
	serial        uint64
	key, uri      string
	next          *memoEntry
	mask          readMask
	https         bool
	port          int
	nHeader, work int64 // reads of headers, and work spent (run.work)
	nRequest      int   // headers of the request
	headers       []headerValue
	args, method  string
	host, client  string
	size          int
	d             Decision
}

type headerValue struct {
	name, value string
	ok          bool
}

func newMemo(maxBytes int64) *memo {
	maxBytes = min(maxBytes, 1<<62)
	m := &memo{seed: maphash.MakeSeed(), maxBytes: int(maxBytes),
		seen: make([]atomic.Uint32, admitSlots(int(maxBytes)))}
	m.t.Store(newTable[memoEntry](minTableSlots))
	return m
}

// key is the table's key of a start key and uri: their hash, 1 for 0.
func (m *memo) key(startKey, uri string) uint64 {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(startKey)
	h.WriteByte(0)
	h.WriteString(uri)
	return max(h.Sum64(), 1)
}

// stats returns the hits and misses counted.
func (m *memo) stats() (hits, misses uint64) {
	for i := range m.hits {
		hits += m.hits[i].n.Load()
		misses += m.misses[i].n.Load()
	}
	return hits, misses
}

// get returns the decision kept for req on the mapping of serial,
// starting with key, or nil; h is m.key(key, req.URI).
func (m *memo) get(h, serial uint64, key string, req *Request) *Decision {
	if s := m.t.Load().find(h); s != nil {
		for e := s.e.Load(); e != nil; e = e.next {
			if e.serial == serial && e.key == key && e.uri == req.URI && e.matches(req) {
				m.hits[h%memoStripes].n.Add(1)
				return &e.d
			}
		}
	}
	m.misses[h%memoStripes].n.Add(1)
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
	i := int(h) & (len(m.seen) - 1) &^ (memoAdmitWays - 1)
	bucket := m.seen[i : i+memoAdmitWays]
	// A fingerprint ends in binary 11 while its request waits for its
	// second miss, in 01 once it is admitted: it stays, so that when the
	// cache starts over (at a commit, past its bound) the requests it
	// held are kept again at their first miss, but gives way first.
	fp := uint32(h>>32) | 3
	free, given := -1, -1
	for j := range bucket {
		switch v := bucket[j].Load(); v {
		case fp:
			bucket[j].Store(fp &^ 2)
			return true
		case fp &^ 2:
			return true
		case 0:
			free = j
		default:
			if v&2 == 0 {
				given = j
			}
		}
	}
	switch {
	case free >= 0:
	case given >= 0:
		free = given
	default:
		free = rand.IntN(memoAdmitWays)
	}
	bucket[free].Store(fp)
	return false
}

// put keeps the decision of r, a translation that ended without error;
// h is m.key of its start key and uri.
func (m *memo) put(h uint64, r *run) {
	if r.req.Trace || r.work > MaxWork || r.serial == 0 || r.read.many || !m.admit(h, &r.req, &r.read) {
		return
	}
	// What the decision keeps (r.kept) and its largest strings are in its
	// entry at least once: a decision larger than an entry may be is
	// known before it is copied.
	d := &r.d
	least := r.kept + len(d.Proxy) + len(d.File) + len(d.Location) + len(d.Message)
	if d.Doc != nil {
		least += len(d.Doc.Body)
	}
	if least > maxMemoEntry {
		return
	}
	e := newMemoEntry(r)
	if e.size > maxMemoEntry || e.size > m.maxBytes {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.t.Load()
	switch {
	case e.serial < m.serial:
		return // a translation on a version already replaced
	case e.serial > m.serial:
		m.serial, t = e.serial, newTable[memoEntry](minTableSlots)
		m.t.Store(t)
	}
	s := t.find(h)
	if s == nil {
		if t.bytes+e.size > m.maxBytes {
			t = newTable[memoEntry](minTableSlots)
			m.t.Store(t)
		} else if t.full() {
			t = t.grown()
			m.t.Store(t)
		}
		t.insert(h, e)
		t.bytes += e.size
		return
	}
	head := s.e.Load()
	n := 0
	for o := head; o != nil; o = o.next {
		if o.serial == e.serial && o.key == e.key && o.uri == e.uri && o.sameReads(e) {
			return // kept meanwhile by another request
		}
		n++
	}
	if n == maxMemoVariants {
		// The oldest gives way: the others are copied into a new list
		// without it, since a list is not changed once stored.
		var last *memoEntry
		head, last = copyList(head, maxMemoVariants-1)
		t.bytes -= last.size
	}
	e.next = head
	if t.bytes += e.size; t.bytes > m.maxBytes {
		m.t.Store(newTable[memoEntry](minTableSlots))
		return
	}
	s.e.Store(e)
}

// copyList returns a copy of the first n entries of the list of head,
// and the entry that followed them.
func copyList(head *memoEntry, n int) (list, rest *memoEntry) {
	if n == 0 {
		return nil, head
	}
	c := *head
	c.next, rest = copyList(head.next, n-1)
	return &c, rest
}

// newMemoEntry returns the entry of r's decision, sharing no memory with
// r, its request or the mapping.
func newMemoEntry(r *run) *memoEntry {
	req := &r.req
	// The entry's JSON and strings, read by every hit, share one
	// allocation: the start key and uri, which a hit compares, then the
	// JSON it writes, then the other strings, whose bytes are fewer than
	// the JSON's for the decision's (each is in the JSON, escaped) plus
	// the request's.
	scratch := jsonScratch.Get().(*[]byte)
	written := r.d.AppendJSON((*scratch)[:0])
	n := 2*len(written) + len(r.startKey) + len(req.URI) + len(req.Args) + len(req.method()) +
		len(req.ClientIP) + len(req.Host)
	for _, name := range r.read.headers {
		v, _ := req.header(name)
		n += len(name) + len(v)
	}
	c := copier{arena: make([]byte, 0, n)}
	e := &memoEntry{serial: r.serial, key: c.str(r.startKey), uri: c.str(req.URI), mask: r.read.mask,
		nHeader: int64(r.read.nHeader), work: r.work, nRequest: len(req.Header)}
	json := c.bytes(written)
	if cap(written) <= maxMemoEntry {
		*scratch = written[:0]
	}
	jsonScratch.Put(scratch)
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
		c.n += len(e.headers) * int(unsafe.Sizeof(headerValue{}))
		for i, name := range r.read.headers {
			v, ok := req.header(name)
			e.headers[i] = headerValue{name: c.str(name), value: c.str(v), ok: ok}
		}
	}
	e.d = c.decision(&r.d)
	e.d.json = json
	// The entry, its memory, and its slots of the table, which is
	// between a quarter and a half full: at most four.
	e.size = int(unsafe.Sizeof(memoEntry{})) + cap(c.arena) + c.n + 4*int(unsafe.Sizeof(slot[memoEntry]{}))
	return e
}

// jsonScratch holds buffers that decisions are written into before
// they are copied into their entries.
var jsonScratch = sync.Pool{New: func() any { return new([]byte) }}

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

// A copier copies the strings of an entry into its arena, so that they
// share no memory with the run, the request or the mapping, and counts
// the bytes of the other memory it allocates (n). A string equal to one
// it copied before is shared: a decision repeats its key, uri and host
// in several fields. A copier without an arena allocates each string.
type copier struct {
	arena []byte
	n     int
	seen  [8]string
	next  int
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
	var t string
	if len(c.arena)+len(s) <= cap(c.arena) {
		off := len(c.arena)
		c.arena = append(c.arena, s...)
		t = unsafe.String(&c.arena[off], len(s))
	} else {
		t = strings.Clone(s)
		c.n += roundAlloc(len(s))
	}
	c.seen[c.next%len(c.seen)] = t
	c.next++
	return t
}

// roundAlloc is about what the allocator takes for n bytes.
func roundAlloc(n int) int { return (n + 15) &^ 15 }

// bytes copies b into the arena, or on its own.
func (c *copier) bytes(b []byte) []byte {
	if len(c.arena)+len(b) <= cap(c.arena) {
		off := len(c.arena)
		c.arena = append(c.arena, b...)
		return c.arena[off:len(c.arena):len(c.arena)]
	}
	c.n += roundAlloc(len(b))
	return bytes.Clone(b)
}

// decision returns a copy of d without its trace.
func (c *copier) decision(d *Decision) Decision {
	out := Decision{Generation: d.Generation, Key: c.str(d.Key), URI: c.str(d.URI), Status: d.Status,
		Location: c.str(d.Location), Message: c.str(d.Message), Proxy: c.str(d.Proxy), File: c.str(d.File),
		Handler: c.str(d.Handler), MatchedURI: c.str(d.MatchedURI), PathInfo: c.str(d.PathInfo),
		StartKey: c.str(d.StartKey), Rows: d.Rows}
	if d.Doc != nil {
		out.Doc = &Doc{ContentType: c.str(d.Doc.ContentType), Body: c.str(d.Doc.Body)}
		c.n += int(unsafe.Sizeof(Doc{}))
	}
	pairs := func(l [][2]string) [][2]string {
		if len(l) == 0 {
			return nil
		}
		o := make([][2]string, len(l))
		c.n += len(l) * int(unsafe.Sizeof(l[0]))
		for i, p := range l {
			o[i] = [2]string{c.str(p[0]), c.str(p[1])}
		}
		return o
	}
	out.Config, out.FixupConfig = pairs(d.Config), pairs(d.FixupConfig)
	if len(d.Notes) > 0 {
		out.Notes = make([]Note, len(d.Notes))
		c.n += len(d.Notes) * int(unsafe.Sizeof(Note{}))
		for i, note := range d.Notes {
			vs := make([]string, len(note.Values))
			c.n += len(vs) * int(unsafe.Sizeof(""))
			for j, v := range note.Values {
				vs[j] = c.str(v)
			}
			out.Notes[i] = Note{Name: c.str(note.Name), Values: vs}
		}
	}
	if len(d.CTX) > 0 {
		out.CTX = make([]Var, len(d.CTX))
		c.n += len(d.CTX) * int(unsafe.Sizeof(Var{}))
		for i, v := range d.CTX {
			out.CTX[i] = Var{Name: c.str(v.Name), Value: c.str(v.Value)}
		}
	}
	if len(d.Errors) > 0 {
		out.Errors = make([]RowError, len(d.Errors))
		c.n += len(d.Errors) * int(unsafe.Sizeof(RowError{}))
		for i, e := range d.Errors {
			out.Errors[i] = RowError{ID: e.ID, Action: c.str(e.Action), Error: c.str(e.Error)}
		}
	}
	return out
}
