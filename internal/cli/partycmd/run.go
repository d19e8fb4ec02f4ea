package partycmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/home"
	"github.com/paratro/paratro/internal/hygiene"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/policy"
	"github.com/paratro/paratro/internal/relay"
)

// RunOptions are the inputs of partyRun.
type RunOptions struct {
	IO     *iostreams.IOStreams
	Now    func() time.Time
	Output output.Format

	PolicyFile string
	NoTUI      bool
	// Presign is how many presignatures to keep ready per wallet and
	// signer set (0: none); PresignWith limits the signer sets to these
	// parties (names or fingerprints).
	Presign     int
	PresignWith []string
	Hygiene     string // what hygiene.Harden did, for the start line

	Home  *home.Home
	Relay coord.Relay
	URL   string
	// WalletStatus asks the relay for a wallet's status, before a destroyed
	// wallet's share is erased.
	WalletStatus coord.WalletStatusFunc
}

// NewCmdRun returns "party run". runF replaces partyRun in tests.
func NewCmdRun(f *cmdutil.Factory, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: f.IO, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "run [--policy FILE] [--no-tui]",
		Short: "Run this holder's party: answer requests, take part in ceremonies",
		Long: `Run this holder's share party until interrupted. It registers this
identity with the relay, waits for ceremony requests (wallet create, sign,
rotate-keys) addressed to it, and for each one decides:

  - with --policy FILE, by the policy's rules (for unattended machines and
    CI; anything no rule approves is rejected at once and audited; see
    docs/policy.md);
  - otherwise by asking its holder. When stdin and stderr are terminals
    this is the approvals screen: an inbox of requests, a detail view
    (enter) with the signer set, what is signed as this party decoded it,
    and the request's SAS, a short code the initiator and every holder see
    alike (compare it by voice or chat before approving); the running
    ceremonies with their round and who is awaited; and a log. Keys: a then
    y approves, r rejects with an optional reason, ? help, q quit (asks
    first while a ceremony runs). --no-tui asks with a y/N prompt instead.

Requests are withdrawn from the screen when they become moot: enough
other holders answered, the initiator withdrew it (too many rejected), or
its deadline passed. Ceremonies keep running while you read a request.

A request is rejected without asking when its initiator or one of its
parties is not a trusted identity here (paratro identity add), or when it
does not match this holder's share (wallet, epoch, parties).

Approved ceremonies run here; new shares are stored in this home, sealed,
and become active only when every party has confirmed the same result.
If the relay goes away, the party reconnects with backoff. If this process
is killed during a ceremony, the next "party run" tells the others at once
that it gave up (a party cannot resume a ceremony), so they stop instead of
waiting for the deadline.

Before it opens the home, the party turns core dumps off (and, on Linux,
makes itself undumpable) and locks its memory where the OS allows, so
shares are not written to a core file or swap; its first line says which.

With --presign N (env PARATRO_PRESIGN) the party keeps N presignatures
ready for each ECDSA wallet and signer set it keeps, so that a sign needs
one round and milliseconds of compute instead of the full protocol. It
makes them with presign ceremonies while it is idle. It keeps the sets of
signers that include it and in which its fingerprint is the lowest, so
each set has exactly one keeper; --presign-with NAMES narrows them to sets
made of this party and the named parties. The other signers approve presign
requests by their policy (a rule that names the presign kind) or, on the
approvals screen, once for a whole batch. A presignature is used at most
once: each signer marks it used on disk before it computes its signature
share. Rotating keys or restoring a backup drops every presignature of the
old shares, and the pool refills. See docs/presignatures.md.

Requests, decisions and outcomes are also appended to the home's
hash-chained audit log (audit.log; see paratro audit). Events go to
stderr, one line each; with --output json they go to stdout as
one JSON object per line.`,
		Example: `  $ paratro party run --relay http://127.0.0.1:8700
  $ paratro party run --no-tui
  $ paratro party run --presign 40 --presign-with vault
  $ PARATRO_KEYRING=file PARATRO_KEYRING_PASSPHRASE=... paratro party run --no-tui --policy ci-policy.yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Output = cmdutil.OutputFormat(cmd)
			if opts.PolicyFile == "" && !f.IO.CanPrompt() {
				return cmdutil.FlagErrorf("no terminal to ask for approvals: give --policy FILE for unattended runs")
			}
			if !cmd.Flags().Changed("presign") && f.Getenv("PARATRO_PRESIGN") != "" {
				n, err := strconv.Atoi(f.Getenv("PARATRO_PRESIGN"))
				if err != nil {
					return cmdutil.FlagErrorf("PARATRO_PRESIGN must be a number of presignatures, not %q", f.Getenv("PARATRO_PRESIGN"))
				}
				opts.Presign = n
			}
			if opts.Presign < 0 || opts.Presign > maxPresign {
				return cmdutil.FlagErrorf("--presign must be between 0 and %d, not %d", maxPresign, opts.Presign)
			}
			if len(opts.PresignWith) > 0 && opts.Presign == 0 {
				return cmdutil.FlagErrorf("--presign-with needs --presign N")
			}
			var pol *policy.Policy
			if opts.PolicyFile != "" {
				var err error
				if pol, err = policy.Load(opts.PolicyFile); err != nil {
					return cmdutil.FlagErrorf("invalid --policy: %v", err)
				}
			}
			rl, err := cmdutil.RelayOf(cmd, f)
			if err != nil {
				return err
			}
			// No core dumps, memory locked where allowed: before any secret is loaded.
			hy, err := hygiene.Harden()
			if err != nil {
				return err
			}
			opts.Hygiene = hy.String()
			h, closeKR, err := cmdutil.OpenHome(cmd, f)
			if err != nil {
				return err
			}
			defer closeKR()
			opts.Home, opts.URL = h, rl.URL
			var screen *tui
			if pol == nil && !opts.NoTUI {
				screen = newTUI(opts, f.IO.In, f.IO.ErrOut, f.IO.NoColor())
				fmt.Fprintln(f.IO.ErrOut, "party: "+opts.Hygiene)
			}
			copts := relay.ClientOptions{CAFile: rl.CAFile}
			if screen != nil {
				copts.OnConnection = screen.connection
			}
			client, err := relay.NewClient(rl.URL, h.ID, copts)
			if err != nil {
				return err
			}
			opts.Relay, opts.WalletStatus = client, coord.RelayWalletStatus(client)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if screen != nil {
				return partyRun(cmd.Context(), opts, screen)
			}
			return partyRun(cmd.Context(), opts, lineUI{opts: opts, decider: decider(opts, pol)})
		},
	}
	cmd.Flags().StringVar(&opts.PolicyFile, "policy", "", "decide requests by this policy file instead of asking (implies --no-tui)")
	cmd.Flags().BoolVar(&opts.NoTUI, "no-tui", false, "plain line output and a y/N prompt instead of the full-screen approvals inbox")
	cmd.Flags().IntVar(&opts.Presign, "presign", 0, "keep N presignatures ready per ECDSA wallet and signer set, for one-round signing (env PARATRO_PRESIGN; 0: none)")
	cmd.Flags().StringSliceVar(&opts.PresignWith, "presign-with", nil, "keep presignatures only for signer sets made of this party and these parties (names or fingerprints)")
	return cmd
}

// ui is how a party shows itself and asks: the full-screen inbox or lines.
type ui interface {
	decide(context.Context, *coord.Proposal) (coord.Decision, error)
	event(coord.Event)
	run(ctx context.Context, party func(context.Context) error) error
}

func partyRun(ctx context.Context, opts *RunOptions, u ui) error {
	log, err := audit.Open(filepath.Join(opts.Home.Dir, "audit.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	ev := &eventWriter{opts: opts}
	_, fullScreen := u.(*tui)
	events := func(e coord.Event) {
		if !fullScreen || (opts.Output == output.FormatJSON && !opts.IO.IsStdoutTTY()) {
			ev.write(e) // beside the screen only as JSON lines to a file or pipe
		}
		u.event(e)
	}
	pool, err := poolOf(opts)
	if err != nil {
		return err
	}
	stopPprof, err := relay.StartPprof()
	if err != nil {
		return err
	}
	defer stopPprof()
	p := &coord.Party{Home: opts.Home, Relay: opts.Relay, Decide: u.decide, Events: events, Audit: log, WalletStatus: opts.WalletStatus, Pool: pool}
	err = u.run(ctx, p.Run)
	if err == nil && (ctx.Err() != nil || fullScreen) { // interrupted, or the holder quit the screen
		fmt.Fprintln(opts.IO.ErrOut, "party stopped")
		return nil
	}
	return err
}

// maxPresign bounds --presign: each presignature costs a presign ceremony
// (about a second of CPU) and a sealed file.
const maxPresign = 1000

// poolOf turns --presign and --presign-with into the party's pool,
// resolving names among the trusted identities.
func poolOf(opts *RunOptions) (coord.Pool, error) {
	pool := coord.Pool{Keep: opts.Presign}
	if len(opts.PresignWith) == 0 {
		return pool, nil
	}
	for _, w := range opts.PresignWith {
		p, err := opts.Home.Resolve(strings.ReplaceAll(strings.TrimSpace(w), " ", ""))
		if err != nil {
			return pool, cmdutil.FlagErrorf("--presign-with: %v (paratro identity list)", err)
		}
		pool.With = append(pool.With, p.Fingerprint())
	}
	return pool, nil
}

// lineUI is the plain mode: one line per event on stderr, and decisions by
// policy or a y/N prompt.
type lineUI struct {
	opts    *RunOptions
	decider coord.Decider
}

func (l lineUI) decide(ctx context.Context, p *coord.Proposal) (coord.Decision, error) {
	return l.decider(ctx, p)
}

func (l lineUI) event(coord.Event) {}

func (l lineUI) run(ctx context.Context, party func(context.Context) error) error {
	line := fmt.Sprintf("party %s (%s) connecting to %s", l.opts.Home.ID.Name, l.opts.Home.ID.DisplayFingerprint(), l.opts.URL)
	if l.opts.Hygiene != "" {
		line += "; " + l.opts.Hygiene
	}
	fmt.Fprintln(l.opts.IO.ErrOut, line)
	return party(ctx)
}

// decider asks the policy, or the operator on the terminal (one question
// at a time).
func decider(opts *RunOptions, pol *policy.Policy) coord.Decider {
	if pol != nil {
		return func(_ context.Context, p *coord.Proposal) (coord.Decision, error) {
			r := p.Request
			opName, opFP := r.OperatorIdentity()
			pr := policy.Request{Kind: r.Kind, WalletID: r.WalletID, Chain: r.Chain,
				InitiatorName: r.Initiator.Name, InitFP: r.Initiator.Fingerprint(), OperatorName: opName, OperatorFP: opFP,
				Time: opts.Now()}
			if t := p.Transfer; t != nil {
				pr.Transfer = &policy.Transfer{Asset: t.Asset, Amount: t.Amount, Fee: t.Fee, To: t.To, DataSize: t.DataSize}
			}
			ok, why := pol.Decide(pr)
			return coord.Decision{Approve: ok, Reason: why}, nil
		}
	}
	var mu sync.Mutex
	lines := make(chan string)
	go func() { // one reader for the whole run, so an abandoned question leaves no reader behind
		r := bufio.NewReader(opts.IO.In)
		for {
			s, err := r.ReadString('\n')
			if s != "" || err == nil {
				lines <- s
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	return func(ctx context.Context, p *coord.Proposal) (coord.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return coord.Decision{}, ctx.Err()
		}
		fmt.Fprint(opts.IO.ErrOut, Describe(p))
		fmt.Fprint(opts.IO.ErrOut, "approve? [y/N] ")
		select {
		case <-ctx.Done():
			fmt.Fprintln(opts.IO.ErrOut, "(no longer needed)")
			return coord.Decision{}, ctx.Err()
		case line, ok := <-lines:
			if !ok {
				return coord.Decision{Approve: false, Reason: "no answer: the operator's input was closed"}, nil
			}
			if a := strings.ToLower(strings.TrimSpace(line)); a == "y" || a == "yes" {
				return coord.Decision{Approve: true}, nil
			}
			return coord.Decision{Approve: false, Reason: "rejected by " + opts.Home.ID.Name + " at the prompt"}, nil
		}
	}
}

// Describe says what a request asks, for the approver.
func Describe(p *coord.Proposal) string {
	r := p.Request
	var b strings.Builder
	var names []string
	for _, p := range r.Parties {
		names = append(names, p.Name)
	}
	fmt.Fprintf(&b, "\nrequest    %s from %s (%s)\n", what(r), r.Initiator.Name, r.Initiator.DisplayFingerprint())
	if r.Operator != "" {
		fmt.Fprintf(&b, "for        %s (through the relay's API)\n", ceremony.Sanitize(r.Operator))
	}
	fmt.Fprintf(&b, "wallet     %s %s\n", r.WalletID, r.WalletName)
	fmt.Fprintf(&b, "parties    %s (%d of %d must sign)\n", strings.Join(names, ", "), r.Required, len(r.Parties))
	if r.Kind == coord.KindDestroy {
		fmt.Fprintf(&b, "erasing    %s\n", p.Summary)
	}
	if r.Kind == ceremony.KindPresign {
		fmt.Fprintf(&b, "signers    %s (a presignature signs nothing yet: it lets them sign later in one round)\n", strings.Join(signerNamesOf(r), ", "))
		if r.Batch != nil && r.Batch.Size > 1 {
			fmt.Fprintf(&b, "batch      %s of %d presign requests: approving this one approves the batch\n", r.Batch.ID, r.Batch.Size)
		}
	}
	if r.Kind == ceremony.KindSign {
		fmt.Fprintf(&b, "digest     0x%s\n", r.Digest)
		if p.Summary != "" {
			fmt.Fprintf(&b, "signing    %s\n", p.Summary)
		}
	}
	if p.SAS != "" {
		fmt.Fprintf(&b, "SAS        %s (compare with the other holders)\n", p.SAS)
	}
	fmt.Fprintf(&b, "deadline   %s\n", r.Deadline.UTC().Format("2006-01-02 15:04:05 UTC"))
	return b.String()
}

func what(r *coord.Request) string {
	switch r.Kind {
	case ceremony.KindKeygen:
		return fmt.Sprintf("create a %d-of-%d %s wallet (%s)", r.Required, len(r.Parties), r.Chain, r.Scheme)
	case ceremony.KindRefresh:
		return fmt.Sprintf("rotate keys (refresh epoch %d)", r.Epoch)
	case ceremony.KindSign:
		return "sign"
	case ceremony.KindPresign:
		return "make a presignature for one-round signing"
	case coord.KindDestroy:
		return "erase this party's share: the wallet was destroyed"
	}
	return string(r.Kind)
}

// eventWriter prints party events for people (stderr) or scripts (JSON lines).
type eventWriter struct {
	opts *RunOptions
	mu   sync.Mutex
}

type eventJSON struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Ceremony string    `json:"ceremony"`
	Kind     string    `json:"kind,omitempty"`
	Wallet   string    `json:"wallet,omitempty"`
	From     string    `json:"from,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Error    string    `json:"error,omitempty"`
}

func (w *eventWriter) write(e coord.Event) {
	if e.What == "progress" && e.Progress.Phase != ceremony.PhaseDone {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	j := eventJSON{Time: w.opts.Now().UTC(), Event: e.What, Ceremony: e.Ceremony, Detail: e.Detail}
	if e.Request != nil {
		j.Kind, j.Wallet, j.From = string(e.Request.Kind), e.Request.WalletID, e.Request.Initiator.Name
	}
	if e.Err != nil {
		j.Error = e.Err.Error()
	}
	if w.opts.Output == output.FormatJSON {
		b, _ := json.Marshal(j)
		fmt.Fprintf(w.opts.IO.Out, "%s\n", b)
		return
	}
	if e.What == "progress" {
		return
	}
	line := fmt.Sprintf("%s  %-12s %-8s %s", j.Time.Format("15:04:05"), j.Event, j.Kind, j.Wallet)
	if j.From != "" && e.What == "request" {
		line += " from " + j.From
	}
	// Details and errors can carry another party's words (an abort's or a
	// rejection's reason): the line shows them on one line, without control
	// characters, cut short (SECURITY.md release case 16). JSON escapes them.
	if j.Detail != "" {
		line += "  " + ceremony.SanitizeN(j.Detail, maxLineText)
	}
	if j.Error != "" {
		line += "  " + ceremony.SanitizeN(j.Error, maxLineText)
	}
	fmt.Fprintln(w.opts.IO.ErrOut, line+"  ["+short(e.Ceremony)+"]")
}

// maxLineText bounds an event line's detail and error, in characters.
const maxLineText = 600

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
