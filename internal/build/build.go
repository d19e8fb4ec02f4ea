// Package build holds the version stamp of the paratro binary.
//
// Release builds set the variables with the linker, as goreleaser.yaml does:
//
//	go build -ldflags "-X github.com/paratro/paratro/internal/build.Version=1.2.3 \
//	  -X github.com/paratro/paratro/internal/build.Commit=abc1234 \
//	  -X github.com/paratro/paratro/internal/build.Date=2026-11-21T00:00:00Z" ./cmd/paratro
//
// They are variables, not constants, only so that the linker can set them;
// nothing else writes them.
package build

// Version is the release version, without a leading "v" ("dev" for local builds).
var Version = "dev"

// Commit is the git commit the binary was built from ("none" for local builds).
var Commit = "none"

// Date is when the binary was built, in RFC 3339 ("unknown" for local builds).
var Date = "unknown"
