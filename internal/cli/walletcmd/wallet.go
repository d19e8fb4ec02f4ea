// Package walletcmd implements "paratro wallet" (create, sign, list, show,
// destroy) and "paratro rotate-keys": the ceremonies an operator asks the
// parties to run through the relay, and the wallet records kept in the
// home.
package walletcmd

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/progress"
	"github.com/paratro/paratro/internal/relay"
)

// NewCmdWallet returns the "wallet" command group.
func NewCmdWallet(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wallet <command>",
		Short: "Create wallets, sign with them, list them",
		Long: `Ask the wallet's parties, through the relay, to create a wallet (DKG),
sign, or rotate keys; and list the wallets this home knows.

Every party must be running "paratro party run" and must trust this
operator's identity and each other's (paratro identity add).`,
		Example: `  $ paratro wallet create --name ops --chain ethereum --threshold 2-of-3 --parties ana,ben,vault
  $ paratro wallet sign ops --digest 5c2f...e1
  $ paratro wallet list
  $ paratro wallet address ops --index 7`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdCreate(f), newCmdSign(f), newCmdList(f), newCmdShow(f), newCmdAddress(f), NewCmdRotateKeys(f), newCmdDestroy(f, nil))
	return cmd
}

// session is what a ceremony command needs: the home and a relay client.
type session struct {
	op     *cmdutil.Operator
	home   *home.Home
	relay  *relay.Client
	f      *cmdutil.Factory
	quiet  bool
	status *statusLine
	otp    string // a TOTP code for the ceremony's creation, when it needs one
}

// openSession opens the home and a relay client; it does not contact the
// relay.
func openSession(cmd *cobra.Command, f *cmdutil.Factory) (*session, error) {
	op, err := cmdutil.OpenOperator(cmd, f)
	if err != nil {
		return nil, err
	}
	s := &session{op: op, home: op.Home, relay: op.Client, f: f, quiet: cmdutil.Quiet(cmd)}
	s.status = &statusLine{w: f.IO.ErrOut, tty: f.IO.IsStderrTTY(), quiet: s.quiet}
	return s, nil
}

func (s *session) close() { s.op.Close() }

// register puts this operator on the relay's roster (harmless when done
// before), so that an owner can admit operators who never ran party run.
func (s *session) register(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	return s.op.Register(ctx)
}

// initiate runs one ceremony and shows its progress on stderr. It
// registers first, and gives the relay s.otp with the ceremony's creation.
func (s *session) initiate(ctx context.Context, req *coord.Request) (*coord.Report, error) {
	if err := s.register(ctx); err != nil {
		return nil, err
	}
	if s.otp != "" {
		s.relay.SetOTP(s.otp) // taken by the ceremony's creation, the first POST
	}
	started := time.Now()
	rep, err := coord.Initiate(ctx, s.relay, s.home.ID, req, func(st coord.Status) {
		s.status.show(req.Kind, st, time.Since(started))
	})
	s.status.end()
	if err != nil {
		return nil, explain(err)
	}
	return rep, nil
}

// explain adds what to do next to the common failures.
func explain(err error) error {
	var rej *coord.RejectedError
	var fail *coord.FailedError
	var api *relay.APIError
	switch {
	case errors.As(err, &rej):
		return err
	case errors.As(err, &fail):
		if b := fail.Blamed(); len(b) > 0 {
			hint := "check that " + strings.Join(b, ", ") + " is running paratro party run"
			if errors.Is(err, ceremony.ErrMisbehaviour) {
				// Not a party that is down: one that sent what the others refused.
				hint = strings.Join(b, ", ") + " sent messages the other parties refused; the evidence is in their audit logs (paratro audit log); find out why before signing with " + strings.Join(b, ", ") + " again"
			}
			if fail.Kind == ceremony.KindSign {
				hint += "; or sign with other parties: --signers"
			}
			return cmdutil.WithHint(err, hint)
		}
		return err
	case errors.As(err, &api):
		return cmdutil.RelayHint(err, "")
	}
	return err
}

// statusLine draws the initiator's view: approvals, then the run.
type statusLine struct {
	w     io.Writer
	tty   bool
	quiet bool
	last  string
	drawn bool
	sas   bool
}

func (l *statusLine) show(kind any, st coord.Status, elapsed time.Duration) {
	if l.quiet {
		return
	}
	if !l.sas && st.SAS != "" {
		l.sas = true
		fmt.Fprintf(l.w, "SAS %s: the holders' approval screens must show the same code\n", st.SAS)
	}
	var b strings.Builder
	switch st.Phase {
	case "approvals":
		b.WriteString("waiting for approvals:")
	default:
		fmt.Fprintf(&b, "%v running:", kind)
	}
	done := st.Finished // once running, a tick means finished, not approved
	if st.Phase == "approvals" {
		done = st.Approved
	}
	for _, n := range done {
		b.WriteString(" " + n + " ✔")
	}
	for _, n := range st.Rejected {
		b.WriteString(" " + n + " ✘")
	}
	for _, n := range st.Waiting {
		b.WriteString(" " + n + " …")
	}
	line := b.String()
	if line == l.last {
		return
	}
	l.last = line
	if l.tty {
		fmt.Fprintf(l.w, "\r\033[K%s  %s", line, progress.Duration(elapsed))
		l.drawn = true
		return
	}
	fmt.Fprintln(l.w, line)
}

func (l *statusLine) end() {
	if l.drawn {
		fmt.Fprintln(l.w)
		l.drawn = false
	}
}

func hexOrEmpty(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}
