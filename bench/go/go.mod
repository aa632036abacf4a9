// Go's side of gort's benchmarks. Built offline against Debian's sources:
// the replace lines point at /usr/share/gocode (golang-golang-x-sync-dev,
// golang-golang-x-time-dev), and bench.mk runs go with GOPROXY=off and
// GOFLAGS=-mod=mod, so nothing is ever fetched.
module gort.invalid/bench

go 1.19

require (
	golang.org/x/sync v0.1.0
	golang.org/x/time v0.3.0
)

replace golang.org/x/sync => /usr/share/gocode/src/golang.org/x/sync

replace golang.org/x/time => /usr/share/gocode/src/golang.org/x/time
