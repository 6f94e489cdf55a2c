// Package httpload drives HTTP load at transdbd and checks what it
// answers: the load generator of the HTTP benchmark (bench/cmd/httpbench)
// and of the tests of version switches under load.
//
// A [Conn] is one keep-alive HTTP/1.1 connection that costs its client
// little; [Run] runs a [Round] of requests over several of them, in a
// closed loop, and returns the throughput and the sorted latencies.
// [Expected] checks a lookup answer of transdbd byte for byte at any
// generation, [Table] checks the first answers against the generated
// table, and a [Switcher] commits one-record changes whose marker lets
// every answer be checked for coming from exactly one committed version.
package httpload
