//go:build unix

package e2e_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// environSnap is one /proc/<pid>/environ snapshot: its name (the pid and
// what the process is), its text (NULs as newlines) and what it shows of
// the secret variables.
type environSnap struct {
	name, text string
	state      envState
}

type envState int

const (
	// envClean: no secret variable in the block at all.
	envClean envState = iota
	// envLive: a secret variable with its value, none blanked: the
	// process has not scrubbed yet (or never does).
	envLive
	// envScrubbed: a secret variable whose value is blanked (NUL bytes):
	// the process ran hygiene.ScrubEnviron.
	envScrubbed
)

// scrubState says what a raw environ block shows of cmdutil.SecretEnv.
func scrubState(block []byte) envState {
	st := envClean
	for kv := range bytes.SplitSeq(block, []byte{0}) {
		for _, k := range cmdutil.SecretEnv {
			v, ok := bytes.CutPrefix(kv, []byte(k+"="))
			switch {
			case !ok:
			case len(v) == 0:
				return envScrubbed
			default:
				st = envLive
			}
		}
	}
	return st
}

// mustScrubAfter is how long a process may live before it must have been
// seen with its secret variables blanked: paratro blanks them as Main
// starts, milliseconds after exec, and the snapshots are 200 ms apart.
const mustScrubAfter = 2 * time.Second

// environFindings searches the /proc/<pid>/environ snapshots for the
// secrets meant to be passed by environment (the passphrases, TOTP codes;
// every other secret is a failure in any snapshot) and sorts what it finds:
//
//   - early: found in a snapshot taken before the process blanked its
//     secret variables (hygiene.ScrubEnviron, as Main starts): the
//     kernel's copy holds them from exec until then, a few milliseconds.
//     A snapshot is "before" when it shows a secret variable with its
//     value and none blanked, and a later snapshot of the same process
//     shows them blanked, or the process was a command that ended within
//     mustScrubAfter (too soon to be sure to be seen again).
//   - failures: found in any other snapshot; and every process that lived
//     longer than that (the parties, the relay, long commands) but was
//     never seen with its secret variables blanked.
//
// scrubbed counts the processes seen blanked.
func (h *hygiene) environFindings(ok []secret) (failures, early []string, scrubbed int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var order []string
	byProc := map[string][]environSnap{}
	for _, s := range h.environs {
		if byProc[s.name] == nil {
			order = append(order, s.name)
		}
		byProc[s.name] = append(byProc[s.name], s)
	}
	for _, name := range order {
		snaps := byProc[name]
		seen := slices.ContainsFunc(snaps, func(s environSnap) bool { return s.state == envScrubbed })
		if seen {
			scrubbed++
		}
		ran, isCommand := h.ran[name]
		blanked := false
		for _, s := range snaps {
			hits := scan(s.name, []byte(s.text), ok)
			blanked = blanked || s.state == envScrubbed
			switch {
			case len(hits) == 0:
			case s.state == envLive && !blanked && (seen || isCommand && ran < mustScrubAfter):
				early = append(early, hits...)
			default:
				failures = append(failures, hits...)
			}
		}
		if !seen && slices.ContainsFunc(snaps, func(s environSnap) bool { return s.state == envLive }) && (!isCommand || ran >= mustScrubAfter) {
			what := "a long-running process"
			if isCommand {
				what = fmt.Sprintf("a command that ran %s", ran.Round(time.Millisecond))
			}
			failures = append(failures, fmt.Sprintf("%s: %s, never seen with its secret variables (%s) blanked in %d snapshots",
				name, what, strings.Join(cmdutil.SecretEnv, ", "), len(snaps)))
		}
	}
	return failures, early, scrubbed
}
