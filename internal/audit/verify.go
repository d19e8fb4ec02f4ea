package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// VerifyError names the first entry of a log that breaks the chain.
type VerifyError struct {
	Path    string
	Line    int    // 1-based line number in the file
	Seq     uint64 // the entry's seq as written (0 if unreadable)
	Problem string
}

func (e *VerifyError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("audit log %s: line %d: %s", e.Path, e.Line, e.Problem)
	}
	return fmt.Sprintf("audit log %s: line %d (seq %d): %s", e.Path, e.Line, e.Seq, e.Problem)
}

// Verify checks the whole chain of the log at path: every line is an
// entry in canonical form whose hash matches its contents, whose Prev is
// the hash of the line before (ZeroHash for the first) and whose Seq is
// one more than the previous. It returns the number of entries checked
// and, at the first bad one, a *VerifyError naming it.
func Verify(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("verify audit log: %w", err)
	}
	lines := bytes.Split(b, []byte("\n"))
	last := lines[len(lines)-1]
	lines = lines[:len(lines)-1] // "" after the final newline, or a cut line
	prev, n := ZeroHash, 0
	for i, line := range lines {
		e, problem := check(line, prev, uint64(n+1))
		if problem != "" {
			return n, &VerifyError{Path: path, Line: i + 1, Seq: e.Seq, Problem: problem}
		}
		prev, n = lineHash(line), n+1
	}
	if len(last) > 0 {
		var e Entry
		_ = json.Unmarshal(last, &e)
		return n, &VerifyError{Path: path, Line: len(lines) + 1, Seq: e.Seq,
			Problem: "truncated last line: the entry has no end (cut short, or a write interrupted)"}
	}
	return n, nil
}

// check returns what is wrong with one line, or "".
func check(line []byte, prev string, seq uint64) (Entry, string) {
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return e, "unreadable entry: the line was edited or damaged"
	}
	want, err := e.computeHash()
	canon, _ := json.Marshal(e)
	switch {
	case err != nil || want != e.Hash || !bytes.Equal(canon, line):
		return e, "the entry was edited: its hash does not match its contents"
	case e.Prev != prev && seq == 1:
		return e, "broken link: the first entry does not start a chain (entries before it were removed)"
	case e.Prev != prev:
		return e, "broken link: prev does not match the line before (an entry was removed, inserted or reordered)"
	case e.Seq != seq:
		return e, fmt.Sprintf("seq gap: expected seq %d (an entry was removed or reordered)", seq)
	}
	return e, ""
}

// ReadAll returns the log's entries in order, without checking the chain
// (see Verify). A missing file is an empty log.
func ReadAll(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	var out []Entry
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return out, fmt.Errorf("read audit log %s: line %d is unreadable (run paratro audit verify)", path, i+1)
		}
		out = append(out, e)
	}
	return out, nil
}
