package httpprovider

import (
	"bufio"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// Log files after Kamailio's db_flatstore: lines of fields separated by
// "|", appended (O_APPEND) to a file. Every write call holds complete
// lines only, so that the lines of several processes appending to one
// journal never interleave or tear. With flush, lines reach the file at
// once: an access log line with a write call of its own, the lines of a
// journaled commit with as few calls as fit in logChunk. Without flush
// they are buffered, and the buffer is written out before it would have
// to split a line. rotate closes the file; it is opened again, under its
// name, when the next line comes.

// logChunk is the size of the buffer of a log file without flush, and
// the most a journal commit writes with one call.
const logChunk = 64 << 10

// timeLayout is the time field of the log lines: UTC, microseconds.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// A logFile is one append-only log file.
type logFile struct {
	path  string
	flush bool
	log   *slog.Logger

	mu      sync.Mutex
	f       *os.File      // nil until the next line after rotate
	bw      *bufio.Writer // without flush
	line    []byte        // the lines being built
	closed  bool
	failing bool // the last write failed; logged once until one succeeds
}

func newLogFile(path string, flush bool, log *slog.Logger) *logFile {
	return &logFile{path: path, flush: flush, log: log}
}

// open opens the file now.
func (l *logFile) open() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.openLocked()
}

func (l *logFile) openLocked() error {
	if l.f != nil {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	l.f = f
	if !l.flush {
		if l.bw == nil {
			l.bw = bufio.NewWriterSize(f, logChunk)
		} else {
			l.bw.Reset(f)
		}
	}
	return nil
}

// writeLocked writes b, complete lines, to the file, opening it if
// needed. A failure is logged, the first of a run only; the file is
// closed then, so that the next line tries to open it again.
func (l *logFile) writeLocked(b []byte) {
	if l.closed || len(b) == 0 {
		return
	}
	err := l.openLocked()
	if err == nil {
		if l.flush {
			_, err = l.f.Write(b)
		} else {
			if l.bw.Available() < len(b) {
				err = l.bw.Flush()
			}
			if err == nil {
				_, err = l.bw.Write(b)
			}
		}
		if err != nil {
			l.f.Close()
			l.f = nil
		}
	}
	switch {
	case err != nil && !l.failing:
		l.log.Error("httpprovider: cannot write log file; lines are lost", "file", l.path, "err", err)
		l.failing = true
	case err == nil && l.failing:
		l.log.Info("httpprovider: log file is written again", "file", l.path)
		l.failing = false
	}
}

// closeLocked writes buffered lines and closes the file.
func (l *logFile) closeLocked() error {
	if l.f == nil {
		return nil
	}
	var err error
	if l.bw != nil {
		err = l.bw.Flush()
	}
	err = errors.Join(err, l.f.Close())
	l.f = nil
	return err
}

// sync writes the buffered lines to the file, so that a reader of the
// file sees every line written so far. A failure is left for the next
// write to report.
func (l *logFile) sync() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bw != nil && l.f != nil {
		_ = l.bw.Flush()
	}
}

// rotate closes the file; the next line opens it again.
func (l *logFile) rotate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closeLocked()
}

// close closes the file for good: later lines are dropped.
func (l *logFile) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return l.closeLocked()
}

// appendField appends s as a field: a backslash, "|", newline and
// carriage return are escaped as \\, \|, \n and \r, so that a line
// splits into its fields at every unescaped "|", and the other control
// characters but tab, the C1 ones of UTF-8 too, as \xNN, so that a
// request cannot put terminal escapes into a log that someone reads.
func appendField(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '|':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < ' ' && c != '\t' || c == 0x7f:
			b = append(b, '\\', 'x', upperHex[c>>4], upperHex[c&15])
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			// U+0080..U+009F, the C1 controls (CSI among them), which a
			// UTF-8 terminal obeys as well.
			b = append(b, '\\', 'x', 'C', '2', '\\', 'x', upperHex[s[i+1]>>4], upperHex[s[i+1]&15])
			i++
		default:
			b = append(b, c)
		}
	}
	return b
}

// writeAccess writes the access log line of a request:
//
//	time|remote|method|path|key|uri|status|blocks|microseconds
//
// key and uri are those of a lookup (empty when the request had none),
// blocks the number of blocks it found (empty for other requests).
func (l *logFile) writeAccess(now time.Time, x *exchange, status int, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := now.UTC().AppendFormat(l.line[:0], timeLayout)
	b = append(b, '|')
	b = appendField(b, x.r.RemoteAddr)
	b = append(b, '|')
	b = appendField(b, x.r.Method)
	b = append(b, '|')
	b = appendField(b, x.r.URL.Path)
	b = append(b, '|')
	b = appendField(b, x.key)
	b = append(b, '|')
	b = appendField(b, x.uri)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, '|')
	if x.lookup {
		b = strconv.AppendInt(b, int64(x.blocks), 10)
	}
	b = append(b, '|')
	b = strconv.AppendInt(b, d.Microseconds(), 10)
	b = append(b, '\n')
	l.line = b
	l.writeLocked(b)
}

// writeChanges journals the changes of a commit, one line each:
//
//	time|generation|op|id|key|uri|block|order|action
//
// op is insert (with the new record's id and fields), delete (the
// deleted record's id, key, uri, block and order; the action is empty)
// or clear (all other fields empty). An update is a delete followed by
// an insert. Notes are not journaled.
func (l *logFile) writeChanges(now time.Time, gen uint64, changes []change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.line[:0]
	for _, c := range changes {
		b = now.UTC().AppendFormat(b, timeLayout)
		b = append(b, '|')
		b = strconv.AppendUint(b, gen, 10)
		b = append(b, '|')
		b = append(b, c.op...)
		b = append(b, '|')
		if c.op != "clear" {
			r := &c.rec
			b = strconv.AppendUint(b, r.ID, 10)
			b = append(b, '|')
			b = appendField(b, r.Key)
			b = append(b, '|')
			b = appendField(b, r.URI)
			b = append(b, '|')
			b = strconv.AppendUint(b, uint64(r.Block), 10)
			b = append(b, '|')
			b = strconv.AppendUint(b, uint64(r.Order), 10)
			b = append(b, '|')
			b = appendField(b, r.Action)
		} else {
			b = append(b, "|||||"...)
		}
		b = append(b, '\n')
		if len(b) >= logChunk {
			l.writeLocked(b)
			b = b[:0]
		}
	}
	l.writeLocked(b)
	if cap(b) <= logChunk*2 {
		l.line = b[:0]
	}
}
