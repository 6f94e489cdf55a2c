package httpprovider

import (
	"bufio"
	"io"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"transdb/internal/jsontext"
	"transdb/translation"
)

// The JSON bodies are written by hand, straight from the records into a
// pooled bufio.Writer on the response: no intermediate structures, no
// reflection. Strings are escaped exactly as an encoding/json Encoder
// with SetEscapeHTML(false) escapes them: <, > and & are written as they
// are, since actions hold Perl and shell code ($r->connection, a && b)
// that should read as it is stored, and the responses are
// application/json, not HTML.

const contentTypeJSON = "application/json"

// contentTypeJSONValue is the Content-Type header value of JSON
// responses, shared by all of them: net/http only reads header values,
// and replaces them.
var contentTypeJSONValue = []string{contentTypeJSON}

// writerPool holds jsonWriters, each with its bufio.Writer, for the
// responses.
var writerPool = sync.Pool{New: func() any { return &jsonWriter{bw: bufio.NewWriterSize(nil, 4096)} }}

// A jsonWriter appends JSON pieces to a buffered writer. Write errors
// are sticky in the bufio.Writer and reported by writeJSON.
type jsonWriter struct {
	bw  *bufio.Writer
	err error // set by fail
}

// fail abandons the body: writeJSON discards what is still buffered and
// returns err.
func (j *jsonWriter) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

// raw writes s as it is: punctuation and field names.
func (j *jsonWriter) raw(s string) { j.bw.WriteString(s) }

// str writes s as a JSON string.
func (j *jsonWriter) str(s string) { j.bw.Write(jsontext.AppendString(j.bw.AvailableBuffer(), s)) }

// uint writes n as a JSON number.
func (j *jsonWriter) uint(n uint64) { j.bw.Write(strconv.AppendUint(j.bw.AvailableBuffer(), n, 10)) }

// float writes f as a JSON number with three decimals.
func (j *jsonWriter) float(f float64) {
	j.bw.Write(strconv.AppendFloat(j.bw.AvailableBuffer(), f, 'f', 3, 64))
}

// respondJSON sends a 200 response with a JSON body written by fn.
func (x *exchange) respondJSON(fn func(j *jsonWriter)) error {
	x.Header()["Content-Type"] = contentTypeJSONValue
	return writeJSON(x, fn)
}

// writeJSON runs fn on a pooled jsonWriter over w and flushes it, unless
// fn failed: then it returns that error, and what fn wrote reaches w
// only if it filled the buffer.
func writeJSON(w io.Writer, fn func(j *jsonWriter)) error {
	j := writerPool.Get().(*jsonWriter)
	j.bw.Reset(w)
	j.err = nil
	fn(j)
	err := j.err
	if err == nil {
		err = j.bw.Flush()
	}
	j.bw.Reset(nil)
	j.err = nil
	writerPool.Put(j)
	return err
}

// inPlace returns b as a string without copying it. The string aliases
// b: it is only for reading while b is valid and unchanged, as the
// blocks of a pinned snapshot are while a response is written.
func inPlace(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// array writes a JSON array of n elements, each written by elem.
func (j *jsonWriter) array(n int, elem func(i int)) {
	j.raw("[")
	for i := range n {
		if i > 0 {
			j.raw(",")
		}
		elem(i)
	}
	j.raw("]")
}

// block writes one element of a block list as a JSON object; an empty
// note is left out.
func (j *jsonWriter) block(block, order uint32, id uint64, action, note string) {
	j.raw(`{"block":`)
	j.uint(uint64(block))
	j.raw(`,"order":`)
	j.uint(uint64(order))
	j.raw(`,"action":`)
	j.str(action)
	j.raw(`,"id":`)
	j.uint(id)
	if note != "" {
		j.raw(`,"note":`)
		j.str(note)
	}
	j.raw("}")
}

// blocks writes a block list as a JSON array.
func (j *jsonWriter) blocks(list []translation.Record) {
	j.array(len(list), func(i int) {
		r := &list[i]
		j.block(r.Block, r.Order, r.ID, r.Action, r.Note)
	})
}

// fetchHead writes the start of a fetch body, up to the blocks.
func (j *jsonWriter) fetchHead(key, uri string, generation uint64) {
	j.raw(`{"key":`)
	j.str(key)
	j.raw(`,"uri":`)
	j.str(uri)
	j.raw(`,"generation":`)
	j.uint(generation)
	j.raw(`,"blocks":`)
}

// WriteFetch writes the body of GET /v1/fetch, followed by a newline:
//
//	{"key":K,"uri":U,"generation":G,"blocks":[{"block":B,"order":O,"action":A,"id":I,"note":N},...]}
//
// blocks is always an array; "note" is left out for a record without
// one. Strings are escaped as encoding/json escapes them without its
// HTML escaping (<, > and & stay as they are), and bytes of an action or
// note that are not valid UTF-8 become U+FFFD, as encoding/json does.
// transdbd fetch prints the same.
func WriteFetch(w io.Writer, key, uri string, generation uint64, blocks []translation.Record) error {
	return writeJSON(w, func(j *jsonWriter) {
		j.fetchHead(key, uri, generation)
		j.blocks(blocks)
		j.raw("}\n")
	})
}

// WriteResolution writes the body of GET /v1/resolve, followed by a
// newline:
//
//	{"key":K,"uri":U,"generation":G,"pre":[BLOCK...],"matches":[{"uri":U,"path_info":P,"blocks":[BLOCK...]},...]}
//
// with the blocks as in WriteFetch; pre, matches and blocks are always
// arrays. transdbd resolve prints the same.
func WriteResolution(w io.Writer, res translation.Resolution) error {
	return writeJSON(w, func(j *jsonWriter) {
		r := resolutionJSON{j: j}
		r.begin(res.Key, res.URI, res.Generation)
		for i := range res.Pre {
			b := &res.Pre[i]
			r.block(b.Block, b.Order, b.ID, b.Action, b.Note)
		}
		for i := range res.Matches {
			m := &res.Matches[i]
			r.match(m.URI, m.PathInfo)
			for k := range m.Blocks {
				b := &m.Blocks[k]
				r.block(b.Block, b.Order, b.ID, b.Action, b.Note)
			}
		}
		r.end()
	})
}

// resolutionJSON writes the body of WriteResolution as its parts come:
// begin, the blocks of pre, then each match followed by its blocks, and
// end. GET /v1/resolve streams the blocks from the mapping through it.
type resolutionJSON struct {
	j       *jsonWriter
	blocks  int    // blocks written, in all
	inMatch bool   // a match is open
	uri     string // the open match's uri
	inList  int    // blocks written in the open list
}

func (r *resolutionJSON) begin(key, uri string, generation uint64) {
	r.j.raw(`{"key":`)
	r.j.str(key)
	r.j.raw(`,"uri":`)
	r.j.str(uri)
	r.j.raw(`,"generation":`)
	r.j.uint(generation)
	r.j.raw(`,"pre":[`)
}

// match closes the list before it and opens the match of uri.
func (r *resolutionJSON) match(uri, pathInfo string) {
	if r.inMatch {
		r.j.raw("]},")
	} else {
		r.j.raw(`],"matches":[`)
	}
	r.j.raw(`{"uri":`)
	r.j.str(uri)
	r.j.raw(`,"path_info":`)
	r.j.str(pathInfo)
	r.j.raw(`,"blocks":[`)
	r.inMatch, r.uri, r.inList = true, uri, 0
}

// block writes one block of the open list: pre's or the open match's.
func (r *resolutionJSON) block(block, order uint32, id uint64, action, note string) {
	if r.inList++; r.inList > 1 {
		r.j.raw(",")
	}
	r.blocks++
	r.j.block(block, order, id, action, note)
}

func (r *resolutionJSON) end() {
	if r.inMatch {
		r.j.raw("]}]}\n")
	} else {
		r.j.raw(`],"matches":[]}` + "\n")
	}
}

// WriteStats writes the body of GET /v1/stats, followed by a newline:
//
//	{"generation":G,"records":N,"stored_records":N,"file_bytes":N,"reads":N,"writes":N,"creates":N,"deletes":N,"reloads":N}
//
// records is the number of actions in the table, stored_records the
// number of records the file stores (actions and notes of every base
// key), reads the lookups the provider served, writes, creates and
// deletes the provider's commits in this process and the actions they
// inserted and deleted, and reloads the versions of the file switched to;
// see translation.Stats. transdbd stats prints the same.
func WriteStats(w io.Writer, st translation.Stats) error {
	return writeStats(w, st, nil)
}

// writeStats is WriteStats with the replication of the file, when it
// has one, as "replication" (see jsonWriter.replication).
func writeStats(w io.Writer, st translation.Stats, repl *ReplicationStatus) error {
	return writeJSON(w, func(j *jsonWriter) {
		j.raw(`{"generation":`)
		j.uint(st.Generation)
		j.raw(`,"records":`)
		j.uint(uint64(st.Records))
		j.raw(`,"stored_records":`)
		j.uint(st.StoredRecords)
		j.raw(`,"file_bytes":`)
		j.uint(uint64(st.FileSize))
		j.raw(`,"reads":`)
		j.uint(st.Reads)
		j.raw(`,"writes":`)
		j.uint(st.Commits)
		j.raw(`,"creates":`)
		j.uint(st.Creates)
		j.raw(`,"deletes":`)
		j.uint(st.Deletes)
		j.raw(`,"reloads":`)
		j.uint(st.Reloads)
		if repl != nil {
			j.raw(`,"replication":`)
			j.replication(repl, time.Now())
		}
		j.raw("}\n")
	})
}
