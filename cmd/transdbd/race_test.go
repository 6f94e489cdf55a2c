//go:build race

package main

// raceEnabled tells TestMain to build transdbd with the race detector too.
const raceEnabled = true
