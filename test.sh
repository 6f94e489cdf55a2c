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

# The benchmark module (its own go.mod, for the peers' dependencies):
# vetted and its tests run, so the benchmarks cannot rot.
(cd bench && go vet ./... && go test -count=1 ./...)

# Each fuzz target runs briefly; the seed corpus runs in the suite above too.
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		echo "fuzz $pkg $target for $fuzztime"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
	done
done
