package main

import (
	"encoding/binary"
	"errors"
	"hash/maphash"

	"transdb/internal/httpload"
)

// The throughput part checks every answer, of transdbd and of the bare
// handler alike, by its fingerprint: a hash of its status, generation
// header, X-Transdb-* header lines and body, compared with the one
// expected for its target. The load generator shares the machine's two
// cores with the server it measures, so it must do about the same work
// per answer whichever server it measures: comparing each answer of
// transdbd with the expected body of its target, one of 69,905 mostly
// out of the processor's caches, cost it more per answer than comparing
// the bare handler's answers with one constant body, CPU time taken
// from transdbd's side only. A fingerprint per target is 8 bytes. An
// answer whose fingerprint differs is compared whole, for the error's
// message.

// printSeed seeds the fingerprints of one run.
var printSeed = maphash.MakeSeed()

// answerPrint returns the fingerprint of an answer.
func answerPrint(status int, generation, headers, body []byte) uint64 {
	var h maphash.Hash
	h.SetSeed(printSeed)
	var n [32]byte
	binary.LittleEndian.PutUint64(n[0:], uint64(status))
	binary.LittleEndian.PutUint64(n[8:], uint64(len(generation)))
	binary.LittleEndian.PutUint64(n[16:], uint64(len(headers)))
	binary.LittleEndian.PutUint64(n[24:], uint64(len(body)))
	h.Write(n[:])
	h.Write(generation)
	h.Write(headers)
	h.Write(body)
	return h.Sum64()
}

// printCheck returns the check of the answer to target i: its
// fingerprint is prints[i], or prints[0] for all when there is one, the
// answer of a constant server. whole checks an answer whose fingerprint
// differs, for the message of its error.
func printCheck(prints []uint64, whole func(i int, r httpload.Response) error) func(int, httpload.Response) error {
	return func(i int, r httpload.Response) error {
		if answerPrint(r.Status, r.Generation, r.Headers, r.Body) == prints[i%len(prints)] {
			return nil
		}
		if err := whole(i, r); err != nil {
			return err
		}
		return errors.New("the answer differs from the expected one in its generation header or its other headers")
	}
}
