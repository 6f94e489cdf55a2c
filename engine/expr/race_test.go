//go:build race

package expr

// raceEnabled is set when the tests run with the race detector, which
// changes what compiled programs keep in memory.
const raceEnabled = true
