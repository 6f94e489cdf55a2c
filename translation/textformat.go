package translation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Format names a text format for tables of records. All three can be
// read with NewReader and written with NewWriter; readers and writers
// stream, holding one record at a time. FORMATS.md in this directory is
// their specification; in short:
//
//   - FormatText is the lossless dump format, meant to be read and edited
//     by people: per record a separator line of 70 '#', a header line
//     "KEY & URI BLOCK/ORDER/ID", and the action and note on lines
//     prefixed "action> " and "note> ".
//   - FormatFile is the format of Apache2::Translation::File: a line
//     ">>> ID KEY URI BLOCK ORDER", then the action's lines. It has no
//     notes.
//   - FormatJSONL has one JSON object per record, decoded strictly by
//     JSONRecord.
//
// Text and file dumps start with the comment line
// "# transdb dump generation=G records=N". The generation is
// informational; the record count is binding: a reader fails on a dump
// that holds more or fewer records than it declares, or that ends in the
// middle of a line, so a dump cut short is never loaded as the whole
// table. In every format the key and uri must be non-empty and free of
// white space (see ValidateKeyURI); readers report malformed input as a
// *ParseError naming the line, which matches ErrFormat. Dumping and
// loading again is lossless for text and jsonl.
type Format string

// The supported formats.
const (
	FormatText  Format = "text"  // lossless dump format, the default
	FormatFile  Format = "file"  // Apache2::Translation::File format, no notes
	FormatJSONL Format = "jsonl" // one JSON object per line
)

// ParseFormat returns the Format named by s, ignoring case. The empty
// string means FormatText, the default. Any other name is an error
// wrapping ErrUnknownFormat.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "":
		return FormatText, nil
	case FormatText, FormatFile, FormatJSONL:
		return f, nil
	}
	return "", fmt.Errorf("translation: format %q (want text, file or jsonl): %w", s, ErrUnknownFormat)
}

// A Reader reads records one at a time from a table in one of the
// formats. A Reader is not safe for concurrent use.
type Reader interface {
	// Next returns the next record, or io.EOF after the last one.
	// Malformed input gives a *ParseError; errors are sticky.
	Next() (Record, error)

	// Generation returns the generation from the "# transdb dump"
	// comment before the first record, and whether there was one. Only
	// the text and file formats carry it. It may read ahead up to the
	// first record; a read error is then returned by the next call of
	// Next.
	Generation() (uint64, bool)

	// Records returns the number of records that the "# transdb dump"
	// comment declares ("records=N"), and whether it declares one. The
	// reader holds the input to it: a record beyond the count, or an
	// end of input before it, is a *ParseError. Like Generation it may
	// read ahead up to the first record.
	Records() (int, bool)
}

// NewReader returns a Reader for a table in format f read from r. The
// reader buffers r; it holds at most one record and one line of look-ahead
// in memory.
func NewReader(r io.Reader, f Format) (Reader, error) {
	lines := lineReader{r: bufio.NewReader(r), format: f}
	switch f {
	case FormatText:
		return &textReader{blockReader{lines: lines, isStart: isTextSeparator}}, nil
	case FormatFile:
		return &fileReader{blockReader{lines: lines, isStart: isFileHeader}}, nil
	case FormatJSONL:
		return &jsonlReader{lines: lines}, nil
	}
	return nil, fmt.Errorf("translation: format %q: %w", string(f), ErrUnknownFormat)
}

// A Writer writes records one at a time as a table in one of the formats.
// A Writer is not safe for concurrent use.
type Writer interface {
	// Write writes one record. A record the format cannot hold (white
	// space in key or uri; for jsonl, text that is not valid UTF-8) is
	// refused with an error wrapping ErrInvalidRecord and nothing is
	// written for it; the writer stays usable. Write errors of the
	// underlying writer are sticky.
	Write(Record) error

	// Close flushes the buffered output. It does not close the
	// underlying writer. It reports an error if a record count was
	// announced to NewWriter and a different number of records was
	// written.
	Close() error
}

// NewWriter returns a Writer for format f writing to w through a
// bufio.Writer. For the text and file formats it first writes the
// comment line
//
//	# transdb dump generation=G records=N
//
// with the given generation and number of records; records < 0 means the
// number is not known, and "records=N" is left out. The jsonl format has
// no such line; there the record count serves only the check in Close.
func NewWriter(w io.Writer, f Format, generation uint64, records int) (Writer, error) {
	tw := &tableWriter{w: bufio.NewWriter(w), format: f, records: records}
	switch f {
	case FormatText:
		tw.write = tw.writeText
	case FormatFile:
		tw.write = tw.writeFile
	case FormatJSONL:
		tw.write = tw.writeJSONL
		tw.enc = json.NewEncoder(tw.w)
		tw.enc.SetEscapeHTML(false)
		return tw, nil
	default:
		return nil, fmt.Errorf("translation: format %q: %w", string(f), ErrUnknownFormat)
	}
	tw.str(dumpComment)
	tw.str(" generation=")
	tw.str(strconv.FormatUint(generation, 10))
	if records >= 0 {
		tw.str(" records=")
		tw.str(strconv.Itoa(records))
	}
	if f == FormatText {
		tw.str(" end=1")
	}
	tw.str("\n")
	if tw.err != nil {
		return nil, tw.err
	}
	return tw, nil
}

// dumpComment starts the comment line that text and file dumps begin
// with.
const dumpComment = "# transdb dump"

// endLine is the last line of a text dump whose dump comment says
// end=1: the text format's records run to the next record or the end of
// the input, so only such a line tells a dump cut short at the end of a
// line of its last record from a whole one. (The file format has no line
// that an action could not hold, so it has none.)
const endLine = "# transdb dump end"

// tableWriter implements Writer for all formats.
type tableWriter struct {
	w        *bufio.Writer
	format   Format
	write    func(Record) error // the format's encoder
	enc      *json.Encoder      // jsonl only
	records  int                // announced number of records, < 0 if unknown
	written  int
	err      error // sticky: the first write error, or errWriterClosed
	closeErr error
}

var errWriterClosed = errors.New("translation: write to a closed Writer")

func (tw *tableWriter) Write(rec Record) error {
	if tw.err != nil {
		return tw.err
	}
	if err := tw.write(rec); err != nil {
		return err
	}
	if tw.err != nil {
		return tw.err
	}
	tw.written++
	return nil
}

func (tw *tableWriter) Close() error {
	if tw.err == errWriterClosed {
		return tw.closeErr
	}
	if tw.format == FormatText {
		tw.str(endLine + "\n")
	}
	err := tw.err
	if err == nil {
		err = tw.w.Flush()
		if err != nil {
			err = fmt.Errorf("translation: writing %s: %w", tw.format, err)
		}
	}
	if err == nil && tw.records >= 0 && tw.written != tw.records {
		err = fmt.Errorf("translation: %s header announced %d records, %d were written", tw.format, tw.records, tw.written)
	}
	tw.err, tw.closeErr = errWriterClosed, err
	return err
}

// str writes s unless an earlier write failed; the first error is kept
// in tw.err.
func (tw *tableWriter) str(s string) {
	if tw.err != nil {
		return
	}
	if _, err := tw.w.WriteString(s); err != nil {
		tw.err = fmt.Errorf("translation: writing %s: %w", tw.format, err)
	}
}

// lines writes s split on "\n", each piece on its own line after prefix.
// escape, if not nil, may return a prefix of its own for a piece.
func (tw *tableWriter) lines(prefix, s string, escape func(piece string) string) {
	for {
		piece, rest, more := strings.Cut(s, "\n")
		tw.str(prefix)
		if escape != nil {
			tw.str(escape(piece))
		}
		tw.str(piece)
		tw.str("\n")
		if !more {
			return
		}
		s = rest
	}
}

// invalidRecord wraps an error about a record the writer refuses.
func (tw *tableWriter) invalidRecord(err error) error {
	return fmt.Errorf("translation: cannot write %s record: %w", tw.format, err)
}

// lineReader splits its input into lines and counts them. Only "\n" ends
// a line; a "\r" stays part of its line. A last line without "\n" is a
// line too.
type lineReader struct {
	r      *bufio.Reader
	format Format
	n      int    // number of the line last returned, 1-based
	long   []byte // holds a line longer than the bufio buffer
	err    error  // sticky read error

	// unterminated reports that the line last returned ended the input
	// without a "\n".
	unterminated bool
}

// next returns the next line without its "\n", or io.EOF after the last
// line. The slice is valid until the next call. Other errors are read
// errors of the underlying reader.
func (l *lineReader) next() ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	line, err := l.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = l.r.ReadSlice('\n')
			l.long = append(l.long, line...)
		}
		line = l.long
	}
	switch {
	case err == io.EOF && len(line) == 0:
		l.err = io.EOF
		return nil, io.EOF
	case err != nil && err != io.EOF:
		l.err = fmt.Errorf("translation: reading %s input: %w", l.format, err)
		return nil, l.err
	}
	l.n++
	l.unterminated = err == io.EOF
	return bytes.TrimSuffix(line, []byte{'\n'}), nil
}

// errorf returns a *ParseError for line n.
func (l *lineReader) errorf(n int, format string, args ...any) error {
	return &ParseError{Format: l.format, Line: n, Err: fmt.Errorf(format, args...)}
}

// blockReader is the part shared by the text and file readers: both have
// a preamble of blank and comment lines, then records that each start
// with a recognisable line and run to the next such line.
type blockReader struct {
	lines   lineReader
	isStart func(line []byte) bool // whether a line starts a record

	begun  bool   // the preamble has been read
	start  string // the pending start line of the next record
	startN int    // its line number
	more   bool   // a start line is pending
	gen    uint64
	hasGen bool
	err    error // sticky

	// The record count of the dump comment, if it has one, and the
	// number of its line; started counts the records begun so far.
	count, countN int
	hasCount      bool
	started       int
	// wantEnd: the dump comment says end=1, so the input must end with
	// endLine; ended: it did, on line endN.
	wantEnd, ended bool
	endN, commentN int
}

// Generation implements Reader.
func (b *blockReader) Generation() (uint64, bool) {
	b.begin()
	return b.gen, b.hasGen
}

// Records implements Reader.
func (b *blockReader) Records() (int, bool) {
	b.begin()
	return b.count, b.hasCount
}

// begin reads the preamble up to the first start line, once.
func (b *blockReader) begin() {
	if b.begun {
		return
	}
	b.begun = true
	for {
		line, err := b.lines.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.err = err
			return
		}
		switch {
		case b.isStart(line):
			b.setStart(line)
			return
		case b.wantEnd && string(line) == endLine:
			b.err = b.end()
			return
		case len(bytes.TrimSpace(line)) == 0:
		case b.isStart(bytes.TrimSuffix(line, []byte{'\r'})):
			b.err = b.lines.errorf(b.lines.n, "record start %s", quoteLine(line))
			return
		case line[0] == '#':
			if err := b.parseDumpComment(string(line)); err != nil {
				b.err = err
				return
			}
		default:
			b.err = b.lines.errorf(b.lines.n, "expected a comment or the first record, found %s", quoteLine(line))
			return
		}
	}
}

// parseDumpComment takes the generation and the record count from the
// first comment line of the form "# transdb dump generation=G ...". A
// comment that does not parse so is an ordinary comment; in the one
// that does, a "records=" field that is not a count is an error, as a
// garbled count would otherwise turn its check off.
func (b *blockReader) parseDumpComment(line string) error {
	rest, ok := strings.CutPrefix(line, dumpComment)
	if !ok || b.hasGen {
		return nil
	}
	var count string
	var hasCount bool
	for _, field := range strings.Fields(rest) {
		if v, ok := strings.CutPrefix(field, "generation="); ok && !b.hasGen {
			g, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil
			}
			b.gen, b.hasGen = g, true
		} else if v, ok := strings.CutPrefix(field, "records="); ok && !hasCount {
			count, hasCount = v, true
		} else if field == "end=1" {
			b.wantEnd, b.commentN = true, b.lines.n
		}
	}
	if !b.hasGen || !hasCount {
		return nil
	}
	n, err := strconv.ParseUint(count, 10, 31)
	if err != nil {
		return b.lines.errorf(b.lines.n, "record count %s is not an integer in 0..%d", quoteShort(count), math.MaxInt32)
	}
	b.count, b.countN, b.hasCount = int(n), b.lines.n, true
	return nil
}

func (b *blockReader) setStart(line []byte) {
	b.start, b.startN, b.more = string(line), b.lines.n, true
}

// nextStart returns the start line of the next record and its number,
// or io.EOF. It holds the input to the record count of the dump
// comment: a record beyond it is an error, and so is the end of the
// input before it or in the middle of a line.
func (b *blockReader) nextStart() (string, int, error) {
	b.begin()
	if b.err != nil {
		return "", 0, b.err
	}
	if !b.more {
		if err := b.checkEnd(); err != nil {
			b.err = err
			return "", 0, err
		}
		return "", 0, io.EOF
	}
	if b.hasCount && b.started == b.count {
		b.err = b.lines.errorf(b.startN, "record %d, but the dump comment on line %d declares records=%d; "+
			"after adding records by hand, correct the count or remove it", b.started+1, b.countN, b.count)
		return "", 0, b.err
	}
	b.more = false
	b.started++
	return b.start, b.startN, nil
}

// checkEnd reports an input that ends before the record count of the
// dump comment is reached, or in the middle of a line: a dump always
// ends with a complete line, so either means the input was cut short.
func (b *blockReader) checkEnd() error {
	if !b.hasCount && !b.wantEnd {
		return nil
	}
	if b.hasCount && b.started != b.count {
		return b.lines.errorf(b.countN, "the dump comment declares records=%d, the input ends after %d (truncated?); "+
			"after removing records by hand, correct the count or remove it", b.count, b.started)
	}
	if b.lines.unterminated {
		return b.lines.errorf(b.lines.n, "the input ends in the middle of a line (truncated?): "+
			"a dump that declares its record count ends with a newline")
	}
	if b.wantEnd && !b.ended {
		return b.lines.errorf(b.lines.n, "the input ends without the end line %q that the dump comment on line %d announces "+
			"(end=1): the dump was cut short, in its last record or after it", endLine, b.commentN)
	}
	return nil
}

// body returns the next line of the current record, or ok == false when
// the record ends at the next start line (which is kept) or at the end
// of the input.
func (b *blockReader) body() (line []byte, ok bool, err error) {
	line, err = b.lines.next()
	if err == io.EOF {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if b.isStart(line) {
		b.setStart(line)
		return nil, false, nil
	}
	if b.wantEnd && string(line) == endLine {
		if err := b.end(); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	return line, true, nil
}

// end reads what follows the end line, which may be blank lines only.
func (b *blockReader) end() error {
	b.ended, b.endN = true, b.lines.n
	for {
		line, err := b.lines.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) != 0 {
			return b.lines.errorf(b.lines.n, "%s after the end line %q of the dump on line %d", quoteLine(line), endLine, b.endN)
		}
	}
}

// fail records err as the sticky error and returns it.
func (b *blockReader) fail(err error) (Record, error) {
	b.err = err
	return Record{}, err
}

// quoteLine quotes a line for an error message, shortened if long, with
// a hint when it ends in "\r".
func quoteLine(line []byte) string {
	q := quoteShort(string(line))
	if bytes.HasSuffix(line, []byte{'\r'}) {
		q += ` (a line ending in \r: only \n ends a line)`
	}
	return q
}

// quoteShort quotes s for an error message, shortened if long.
func quoteShort(s string) string {
	const max = 60
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// parseUint32 parses a block or order number.
func parseUint32(what, s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %s is not an integer in 0..4294967295", what, quoteShort(s))
	}
	return uint32(n), nil
}

// parseID parses a record ID.
func parseID(what, s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %s is not an integer in 0..18446744073709551615", what, quoteShort(s))
	}
	return n, nil
}
