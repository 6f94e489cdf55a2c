package httpload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Conn is one keep-alive HTTP/1.1 client connection. It sends GET
// requests one at a time, without pipelining, and reads each response
// whole before the next request goes out. It understands exactly what a
// load generator needs (a status line, Content-Length or chunked bodies,
// Connection: close) and allocates nothing per request once its buffers
// have grown, so that the client's own cost stays small beside the
// server's. A Conn is not safe for concurrent use.
type Conn struct {
	addr string
	nc   net.Conn
	br   *bufio.Reader
	req  []byte // the request being sent
	body []byte // the body of the last response
	gen  []byte // the generation header of the last response
	hdr  []byte // the decision header lines of the last response
}

// Response is what a Conn read for one request. Body and Generation
// alias the Conn's buffers: they are valid until its next Get.
type Response struct {
	Status int
	// Generation is the value of the X-Transdb-Generation header; nil
	// when the response has none.
	Generation []byte
	// Headers are the header lines of the decision of /v1/auth, as they
	// came: those named X-Transdb-* but X-Transdb-Generation, and
	// Location, each "Name: value" and a "\n", in the order received;
	// empty when the response has none.
	Headers []byte
	Body    []byte
}

// maxBody bounds the body of a response the Conn accepts.
const maxBody = 16 << 20

// ErrProtocol reports a response the Conn cannot read: a malformed status
// line, header or chunk, or a body without length.
var ErrProtocol = errors.New("httpload: malformed HTTP response")

// Dial opens a connection to the server at addr (host:port).
func Dial(addr string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &Conn{addr: addr, nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

// Close closes the connection, if it is open.
func (c *Conn) Close() error {
	if c.nc == nil {
		return nil
	}
	err := c.nc.Close()
	c.nc = nil
	return err
}

// Get sends "GET target HTTP/1.1" and reads the response. A target may
// carry header lines of its own after its path, each after a "\r\n"
// ("/v1/auth?key=k\r\nX-Original-URI: /a"): they are sent after Host. A response
// that announces Connection: close ends the connection after it is read;
// the next Get dials again. Any error leaves the connection closed, and
// the next Get dials again too.
func (c *Conn) Get(target string) (Response, error) {
	if c.nc == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
		if err != nil {
			return Response{}, err
		}
		c.nc = nc
		c.br.Reset(nc)
	}
	target, extra, _ := strings.Cut(target, "\r\n")
	c.req = append(c.req[:0], "GET "...)
	c.req = append(c.req, target...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, c.addr...)
	if extra != "" {
		c.req = append(c.req, "\r\n"...)
		c.req = append(c.req, extra...)
	}
	c.req = append(c.req, "\r\nUser-Agent: httpload\r\n\r\n"...)
	resp, closeAfter, err := c.roundTrip()
	if err != nil || closeAfter {
		c.nc.Close()
		c.nc = nil
	}
	return resp, err
}

func (c *Conn) roundTrip() (resp Response, closeAfter bool, err error) {
	if _, err := c.nc.Write(c.req); err != nil {
		return resp, false, err
	}
	line, err := c.line()
	if err != nil {
		return resp, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return resp, false, fmt.Errorf("%w: status line %q", ErrProtocol, line)
	}
	status, ok := atoi(line[9:12])
	if !ok {
		return resp, false, fmt.Errorf("%w: status line %q", ErrProtocol, line)
	}
	resp.Status = status
	length, chunked := -1, false
	c.gen = c.gen[:0]
	c.hdr = c.hdr[:0]
	for {
		line, err := c.line()
		if err != nil {
			return resp, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return resp, false, fmt.Errorf("%w: header line %q", ErrProtocol, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := atoi(value)
			if !ok || n > maxBody {
				return resp, false, fmt.Errorf("%w: Content-Length %q", ErrProtocol, value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("chunked")) {
				return resp, false, fmt.Errorf("%w: Transfer-Encoding %q", ErrProtocol, value)
			}
			chunked = true
		case bytes.EqualFold(name, []byte("Connection")):
			closeAfter = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("X-Transdb-Generation")):
			c.gen = append(c.gen, value...)
			resp.Generation = c.gen
		case len(name) > len(transdbPrefix) && bytes.EqualFold(name[:len(transdbPrefix)], []byte(transdbPrefix)),
			bytes.EqualFold(name, []byte("Location")):
			c.hdr = append(c.hdr, name...)
			c.hdr = append(c.hdr, ": "...)
			c.hdr = append(c.hdr, value...)
			c.hdr = append(c.hdr, '\n')
			resp.Headers = c.hdr
		}
	}
	switch {
	case chunked:
		err = c.readChunked()
	case length >= 0:
		err = c.readBody(length)
	case resp.Status == 204 || resp.Status == 304 || resp.Status/100 == 1:
		c.body = c.body[:0]
	default:
		return resp, false, fmt.Errorf("%w: a body of %d without length", ErrProtocol, resp.Status)
	}
	resp.Body = c.body
	return resp, closeAfter, err
}

// transdbPrefix starts the names of the decision headers of /v1/auth.
const transdbPrefix = "X-Transdb-"

// line reads one header line without its CRLF. The slice aliases the
// reader's buffer: valid until the next read.
func (c *Conn) line() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: header line longer than %d bytes", ErrProtocol, c.br.Size())
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// readBody reads a body of n bytes into c.body.
func (c *Conn) readBody(n int) error {
	if cap(c.body) < n {
		c.body = make([]byte, n)
	}
	c.body = c.body[:n]
	_, err := io.ReadFull(c.br, c.body)
	return err
}

// readChunked reads a chunked body into c.body.
func (c *Conn) readChunked() error {
	c.body = c.body[:0]
	for {
		line, err := c.line()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 32)
		if err != nil || len(c.body)+int(n) > maxBody {
			return fmt.Errorf("%w: chunk size %q", ErrProtocol, line)
		}
		if n == 0 {
			// Trailers, up to the empty line.
			for {
				line, err := c.line()
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		start := len(c.body)
		c.body = slices.Grow(c.body, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.br, c.body[start:]); err != nil {
			return err
		}
		if line, err := c.line(); err != nil || len(line) != 0 {
			return fmt.Errorf("%w: no CRLF after a chunk", ErrProtocol)
		}
	}
}

// atoi parses a non-negative decimal number of at most 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
