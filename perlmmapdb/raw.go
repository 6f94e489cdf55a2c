package perlmmapdb

import (
	"bufio"
	"encoding/hex"
	"io"
	"strconv"

	"transdb/mmapdb"
)

// AppendRaw appends a record as one line of a raw dump, the convention
// of the .expect.jsonl files that accompany the Perl samples:
//
//	{"id":N,"keys":["HEX",...],"sort":"HEX","data":"HEX"}
//
// with the lower-case hex of the raw bytes of every string and a final
// newline. Being hex, the line shows bytes that are not UTF-8 as they are.
func AppendRaw(dst []byte, id uint64, keys []string, sort, data []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"keys":[`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendHex(dst, k)
	}
	dst = append(dst, `],"sort":`...)
	dst = appendHex(dst, bstr(sort))
	dst = append(dst, `,"data":`...)
	dst = appendHex(dst, bstr(data))
	return append(dst, "}\n"...)
}

func appendHex(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = hex.AppendEncode(dst, []byte(s))
	return append(dst, '"')
}

// WriteRaw writes every record of s, of every base key, in ascending ID
// order, one AppendRaw line each, and returns the number of records. A
// database imported from a Perl file gives the lines that the module
// itself reads back from that file.
func WriteRaw(w io.Writer, s *mmapdb.Snapshot) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	n := 0
	for r, err := range s.IDOrder() {
		if err != nil {
			return n, err
		}
		keys, err := r.Keys()
		if err != nil {
			return n, err
		}
		line = AppendRaw(line[:0], r.ID, keys, r.Sort, r.Data)
		if _, err := bw.Write(line); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}
