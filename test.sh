#!/usr/bin/env bash
# The test command: formatting, vet, the race-enabled test suite, and short
# fuzz runs of every fuzz target. Usage: ./test.sh   (FUZZTIME=30s ./test.sh for longer fuzzing)
set -euo pipefail
cd "$(dirname "$0")"

fuzztime="${FUZZTIME:-10s}"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -race -count=1 ./...
# What a compiled program keeps in memory differs with the race detector:
# the test of its estimate runs without it.
go test -count=1 -run '^TestFootprintIsAboveWhatAProgramKeeps$' ./engine/expr/

# The benchmark module (its own go.mod, for the peers' dependencies):
# vetted and its tests run, so the benchmarks cannot rot.
(cd bench && go vet ./... && go test -count=1 ./...)

# fuzz runs one target for $fuzztime. Go's fuzzing coordinator can fail a
# run that found nothing with "context deadline exceeded" when -fuzztime
# expires while a worker is busy (a race between the deadline and the
# coordinator's own cancellation, seen on loaded machines). Such a run wrote
# no failing input; it is retried once. A run that found a failing input
# (written under testdata/fuzz/<target>/) or failed any other way fails
# the suite at once.
fuzz() {
	local pkg=$1 dir=$2 target=$3 out attempt
	out=$(mktemp)
	for attempt in 1 2; do
		echo "fuzz $pkg $target for $fuzztime"
		if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1 | tee "$out"; then
			rm -f "$out"
			return 0
		fi
		if [ "$attempt" = 2 ] || grep -q 'Failing input written to' "$out" ||
			! grep -qx '    context deadline exceeded' "$out" ||
			[ -n "$(git -C "$dir" status --porcelain -- "testdata/fuzz/$target" 2>/dev/null)" ]; then
			rm -f "$out"
			return 1
		fi
		echo "fuzz $target: the fuzzing deadline raced the coordinator, no failing input; running it again"
	done
}

# Each fuzz target runs briefly; the seed corpus runs in the suite above too.
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		fuzz "$pkg" "$dir" "$target"
	done
done
