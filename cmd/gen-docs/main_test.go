package main

import (
	"bytes"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCommittedDocsAreCurrent regenerates the man pages and completions and
// compares them byte for byte with the committed man/ and completions/.
func TestCommittedDocsAreCurrent(t *testing.T) {
	tmp := t.TempDir()
	if err := run([]string{"--man", filepath.Join(tmp, "man"), "--completions", filepath.Join(tmp, "completions")}, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"man", "completions"} {
		compareDirs(t, filepath.Join(tmp, dir), filepath.Join("..", "..", dir), dir)
	}
}

// TestGenerationIsReproducible generates twice and expects the same bytes.
func TestGenerationIsReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := run([]string{"--man", dir, "--completions", dir}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	compareDirs(t, a, b, "output")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"extra"}, {"--bogus"}} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded, want a usage error", args)
		}
	}
}

// compareDirs reports every file that differs, is missing from committed or
// is extra in committed, naming it as name/<file>.
func compareDirs(t *testing.T, generated, committed, name string) {
	t.Helper()
	gen, com := readDir(t, generated), readDir(t, committed)
	for _, f := range slices.Sorted(maps.Keys(gen)) {
		want, ok := com[f]
		switch {
		case !ok:
			t.Errorf("%s/%s is missing: run scripts/gen-docs.sh and commit the result", name, f)
		case !bytes.Equal(gen[f], want):
			t.Errorf("%s/%s is out of date: run scripts/gen-docs.sh and commit the result", name, f)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(com)) {
		if _, ok := gen[f]; !ok {
			t.Errorf("%s/%s is no longer generated: run scripts/gen-docs.sh and commit the result", name, f)
		}
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v: run scripts/gen-docs.sh", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}
