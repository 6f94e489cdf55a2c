package httpprovider

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
)

// Reading the journal back: GET /v1/journal answers who changed a block
// list when, as far as the journal of its file records it, reading the
// file from its end so that the recent lines of a long journal cost
// little.

// Bounds of GET /v1/journal.
const (
	defaultJournalLimit = 100
	maxJournalLimit     = 1000
	// journalScan is the most of a journal's end that one request
	// reads; older lines are not looked at.
	journalScan = 64 << 20
	// journalChunk is the size of one read, backwards from the end.
	journalChunk = 64 << 10
)

// A journalEntry is one line of a journal (see writeChanges).
type journalEntry struct {
	time         string
	generation   uint64
	op           string // insert, delete or clear
	id           uint64
	key, uri     string
	block, order uint32
	action       string
}

// parseJournalLine parses a journal line without its newline. It
// reports false for a line that is not one: torn, or of another format.
func parseJournalLine(line []byte) (journalEntry, bool) {
	var fields [9]string
	n := 0
	var b []byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			switch line[i] {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 'x':
				if v, err := strconv.ParseUint(string(line[i+1:min(i+3, len(line))]), 16, 8); err == nil && i+2 < len(line) {
					b = append(b, byte(v))
					i += 2
					break
				}
				b = append(b, 'x')
			default:
				b = append(b, line[i])
			}
		case c == '|':
			if n == len(fields)-1 {
				return journalEntry{}, false
			}
			fields[n] = string(b)
			n++
			b = b[:0]
		default:
			b = append(b, c)
		}
	}
	if n != len(fields)-1 {
		return journalEntry{}, false
	}
	fields[n] = string(b)
	e := journalEntry{time: fields[0], op: fields[2]}
	var err error
	if e.generation, err = strconv.ParseUint(fields[1], 10, 64); err != nil {
		return journalEntry{}, false
	}
	switch e.op {
	case "clear":
		return e, true
	case "insert", "delete":
	default:
		return journalEntry{}, false
	}
	id, err1 := strconv.ParseUint(fields[3], 10, 64)
	block, err2 := strconv.ParseUint(fields[6], 10, 32)
	order, err3 := strconv.ParseUint(fields[7], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return journalEntry{}, false
	}
	e.id, e.key, e.uri, e.block, e.order, e.action = id, fields[4], fields[5], uint32(block), uint32(order), fields[8]
	return e, true
}

// tailJournal returns the last entries of the journal at path that match
// keep, at most limit, newest first, reading at most scan bytes from the
// end. truncated reports that it stopped there, before the start of the
// file, with fewer than limit entries: older lines may match too. A
// missing journal has no entries. Lines that do not parse, such as one
// torn by a crash, are skipped.
func tailJournal(path string, limit int, scan int64, keep func(*journalEntry) bool) (entries []journalEntry, truncated bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	pos := fi.Size() // data starts at pos in the file
	var data []byte  // read, not yet taken apart into lines
	tail := true     // data may end in a line without its newline
	for pos > 0 && fi.Size()-pos < scan {
		n := min(int64(journalChunk), pos, scan-(fi.Size()-pos))
		pos -= n
		buf := make([]byte, int(n)+len(data))
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return nil, false, err
		}
		copy(buf[n:], data)
		data = buf
		if tail {
			// A line without its newline is being written, or was
			// torn: it is not a line yet.
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				continue
			}
			data, tail = data[:i+1], false
		}
		// data ends with a newline; each line that starts after another
		// newline in data, or at the start of the file, is whole.
		for len(data) > 0 {
			body := data[:len(data)-1]
			i := bytes.LastIndexByte(body, '\n')
			if i < 0 && pos > 0 {
				break
			}
			if e, ok := parseJournalLine(body[i+1:]); ok && keep(&e) {
				entries = append(entries, e)
				if len(entries) == limit {
					return entries, false, nil
				}
			}
			data = data[:i+1]
		}
	}
	return entries, pos > 0, nil
}

// handleJournal serves GET /v1/journal[?key=K[&uri=U]][&limit=N]: the
// recent changes of a table as the journal of its database file records
// them, newest first:
//
//	{"generation":G,"entries":[{"time":T,"generation":G,"op":"insert","id":N,
//	  "key":K,"uri":U,"block":B,"order":O,"action":A},...],"truncated":false}
//
// With key (and uri), only the changes of that key (and uri) and the
// clears of the table; at most limit entries (1..1000, default 100). A
// delete has no action, a clear only time, generation and op. The
// journal does not name base keys: the changes of every base key of the
// file are in it. Only the last 64 MiB of the journal are read;
// truncated says that older lines were left unread. A journal rotated
// away is not read.
func (s *Server) handleJournal(x *exchange) error {
	q, err := x.params()
	if err != nil {
		return err
	}
	var key, uri string
	for _, p := range []struct {
		name string
		dst  *string
	}{{"key", &key}, {"uri", &uri}} {
		v, ok, err := single(q, p.name)
		if err != nil {
			return err
		}
		if ok {
			if err := checkKeyURI(p.name, v); err != nil {
				return err
			}
			*p.dst = v
		}
	}
	x.key, x.uri = key, uri
	limit, err := intParam(q, "limit", defaultJournalLimit, maxJournalLimit)
	if err != nil {
		return err
	}
	pr, err := x.selectProvider()
	if err != nil {
		return err
	}
	gen := s.generation(pr)
	x.setGeneration(gen)
	journal := pr.file.journal
	journal.sync()
	entries, truncated, err := tailJournal(journal.path, limit, journalScan, func(e *journalEntry) bool {
		return e.op == "clear" || (key == "" || e.key == key) && (uri == "" || e.uri == uri)
	})
	if err != nil {
		return err
	}
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"generation":`)
		j.uint(gen)
		j.raw(`,"entries":`)
		j.array(len(entries), func(i int) {
			e := &entries[i]
			j.raw(`{"time":`)
			j.str(e.time)
			j.raw(`,"generation":`)
			j.uint(e.generation)
			j.raw(`,"op":`)
			j.str(e.op)
			if e.op != "clear" {
				j.raw(`,"id":`)
				j.uint(e.id)
				j.raw(`,"key":`)
				j.str(e.key)
				j.raw(`,"uri":`)
				j.str(e.uri)
				j.raw(`,"block":`)
				j.uint(uint64(e.block))
				j.raw(`,"order":`)
				j.uint(uint64(e.order))
				if e.op == "insert" {
					j.raw(`,"action":`)
					j.str(e.action)
				}
			}
			j.raw("}")
		})
		j.raw(`,"truncated":`)
		j.bool(truncated)
		j.raw("}\n")
	})
}
