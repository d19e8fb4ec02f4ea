package walletcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/relay"
)

// destroyOptions are the inputs of destroyRun.
type destroyOptions struct {
	IO      *iostreams.IOStreams
	Open    func() (*cmdutil.Operator, error)
	ReadOTP func(who string) (string, error)
	Format  output.Format
	Confirm bool // ask for the wallet's name on the terminal (no --yes)
	// Timeout bounds the wait for the parties' erasure once the wallet is
	// destroyed; 0 does not wait.
	Timeout time.Duration

	Wallet string // ID or name
}

func newCmdDestroy(f *cmdutil.Factory, runF func(context.Context, *destroyOptions) error) *cobra.Command {
	opts := &destroyOptions{IO: f.IO}
	var yes bool
	cmd := &cobra.Command{
		Use:   "destroy WALLET",
		Short: "Approve destroying a wallet; two distinct owners must (with TOTP)",
		Long: `Approve destroying a wallet on the relay. It is destroyed once two
distinct owners have approved, each with a TOTP code: from then on the
relay refuses every ceremony of it (no signature, no rotation, no backup),
and it cannot be undone. The first approval leaves it pending; the second
owner runs the same command.

Only owners may do this, and each needs a TOTP code (paratro mfa enroll):
paratro asks on a terminal; scripts set PARATRO_OTP or pass --otp-stdin.
On a terminal paratro first asks you to type the wallet's name; --yes
skips that, for scripts. WALLET is a wallet ID or name.

Once destroyed, the relay asks every party of the wallet to erase its
share (a "destroy" request each holder approves, or its policy does with
kinds: [destroy]). The approval that destroys the wallet then waits, up
to --timeout, for the parties' answers and lists which erased and which
did not (yet); --timeout 0 does not wait. paratro wallet show WALLET
shows the answers later too.

Exit status 0 once destroyed and every party erased (or on a first
approval), 1 when a party failed or refused to erase, 124 when some
party had not answered within --timeout (the wallet stays destroyed in
both cases), 4 without a TOTP code, 5 when the code is rejected, 6 when
you are not an owner. Approving twice as the same owner is refused.`,
		Example: `  $ paratro wallet destroy ops
  $ PARATRO_OTP=123456 paratro wallet destroy wal_7hq2mzk4t6a3bx5c --yes --timeout 5m --output json`,
		Args: cmdutil.ExactArgs(1, "the wallet ID or name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes && !f.IO.CanPrompt() {
				return cmdutil.FlagErrorf("give --yes to destroy without a terminal to confirm on")
			}
			opts.Wallet, opts.Confirm = args[0], !yes
			opts.Format = cmdutil.OutputFormat(cmd)
			opts.Open = func() (*cmdutil.Operator, error) { return cmdutil.OpenOperator(cmd, f) }
			opts.ReadOTP = func(who string) (string, error) { return cmdutil.ReadOTP(cmd, f, who) }
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return destroyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for the wallet's name (for scripts)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 2*time.Minute, "how long to wait for the parties to erase their shares once destroyed (0: do not wait)")
	cmdutil.AddOTPStdinFlag(cmd)
	return cmd
}

// destroyAnswer is the relay's answer to POST /v1/wallets/{id}/destroy.
type destroyAnswer struct {
	Status    string        `json:"status"` // destroy_pending or destroyed
	Approvals approvalNames `json:"approvals"`
	Needed    int           `json:"needed"`
	Erasure   *erasureView  `json:"erasure,omitempty"`
}

// approvalNames reads the approvals as names, whether the relay lists
// names or approval objects with a name.
type approvalNames []string

// UnmarshalJSON implements json.Unmarshaler.
func (a *approvalNames) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err == nil {
		*a = names
		return nil
	}
	var objs []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &objs); err != nil {
		return err
	}
	names = nil // the failed attempt may have left entries
	for _, o := range objs {
		names = append(names, o.Name)
	}
	*a = names
	return nil
}

// destroyJSON is the --output json of wallet destroy.
type destroyJSON struct {
	Wallet    string   `json:"wallet"`
	Name      string   `json:"name,omitempty"`
	Status    string   `json:"status"`
	Approvals []string `json:"approvals"`
	Needed    int      `json:"needed,omitempty"`
	// Erasure, once destroyed: the relay's erasure status (running, done,
	// incomplete) when wallet destroy stopped waiting, and the parties by
	// answer.
	Erasure *erasureJSON `json:"erasure,omitempty"`
}

// erasureJSON is the parties' erasure in --output json.
type erasureJSON struct {
	Status    string   `json:"status"`
	Erased    []string `json:"erased"`
	NotErased []string `json:"not_erased"`
	Waiting   []string `json:"waiting"`
}

func destroyRun(ctx context.Context, opts *destroyOptions) error {
	return cmdutil.WithOperator(ctx, opts.Open, func(rctx context.Context, op *cmdutil.Operator) error {
		id, name := walletOf(rctx, op, opts.Wallet)
		if opts.Confirm {
			if err := confirmName(opts.IO, id, name); err != nil {
				return err
			}
		}
		code, err := opts.ReadOTP(op.Name())
		if err != nil {
			return err
		}
		// A fresh RelayTimeout from ctx: the prompts may have taken a while.
		rctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
		defer cancel()
		op.Client.SetOTP(code)
		var ans destroyAnswer
		if err := op.Client.Do(rctx, http.MethodPost, "/v1/wallets/"+url.PathEscape(id)+"/destroy", struct{}{}, &ans); err != nil {
			return cmdutil.RelayHint(fmt.Errorf("wallet destroy %s: %w", opts.Wallet, destroyHint(err)), op.URL)
		}
		if ans.Status != "destroyed" || ans.Erasure == nil || opts.Timeout <= 0 {
			return printDestroy(opts, id, name, &ans)
		}
		fmt.Fprintf(opts.IO.ErrOut, "wallet %s destroyed; waiting up to %s for its parties to erase their shares\n", id, opts.Timeout)
		er, werr := awaitErasure(ctx, opts.IO, op, id, ans.Erasure, opts.Timeout)
		ans.Erasure = er
		if err := printDestroy(opts, id, name, &ans); err != nil {
			return err
		}
		if werr != nil {
			return werr
		}
		return erasureError(id, er)
	})
}

// walletOf finds the wallet's ID and name: in this home, or from the
// relay (GET /v1/wallets/{id}); failing both, arg stands for both.
func walletOf(ctx context.Context, op *cmdutil.Operator, arg string) (id, name string) {
	if w, err := op.Home.Wallet(arg); err == nil {
		return w.ID, w.Name
	}
	var w struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := op.Client.Do(ctx, http.MethodGet, "/v1/wallets/"+url.PathEscape(arg), nil, &w); err == nil && w.ID != "" {
		return w.ID, w.Name
	}
	return arg, ""
}

// confirmName asks for the wallet's name (its ID when the name is not
// known) to be typed on the terminal.
func confirmName(ios *iostreams.IOStreams, id, name string) error {
	want, what := name, "name"
	if want == "" {
		want, what = id, "ID"
	}
	fmt.Fprintf(ios.ErrOut, "Destroying wallet %s (%s) cannot be undone once two owners approve.\nType the wallet's %s to confirm: ", name, id, what)
	line, _ := cmdutil.ReadLine(ios.In, 256)
	if strings.TrimSpace(line) != want {
		return fmt.Errorf("not destroyed: the %s typed does not match %q", what, want)
	}
	return nil
}

// destroyHint explains the refusal that is specific to destroying.
func destroyHint(err error) error {
	var api *relay.APIError
	if errors.As(err, &api) && api.Code == "duplicate_approval" {
		return cmdutil.WithHint(err, "you approved already: another owner must run paratro wallet destroy with their own TOTP code")
	}
	return err
}

func printDestroy(opts *destroyOptions, id, name string, ans *destroyAnswer) error {
	if opts.Format == output.FormatJSON {
		approvals := []string(ans.Approvals)
		if approvals == nil {
			approvals = []string{}
		}
		j := destroyJSON{Wallet: id, Name: name, Status: ans.Status, Approvals: approvals, Needed: ans.Needed}
		if ans.Erasure != nil {
			erased, notErased, waiting := erasureGroups(ans.Erasure)
			j.Erasure = &erasureJSON{Status: ans.Erasure.Status, Erased: nonNil(erased), NotErased: nonNil(notErased), Waiting: nonNil(waiting)}
		}
		return output.JSON(opts.IO.Out, j)
	}
	which := id
	if name != "" && name != id {
		which = name + " (" + id + ")"
	}
	switch ans.Status {
	case "destroyed":
		fmt.Fprintf(opts.IO.Out, "wallet %s destroyed: the relay refuses every ceremony of it from now on\n", which)
		if ans.Erasure != nil {
			erased, notErased, waiting := erasureGroups(ans.Erasure)
			fmt.Fprintf(opts.IO.Out, "shares erased by: %s\n", listOrNone(erased))
			for i := range waiting {
				waiting[i] += " (no answer yet)"
			}
			fmt.Fprintf(opts.IO.Out, "not erased by:    %s\n", listOrNone(append(notErased, waiting...)))
		}
	case "destroy_pending":
		fmt.Fprintf(opts.IO.Out, "destroying wallet %s: approved by %s (%d of %d owners)\n", which, strings.Join(ans.Approvals, ", "), len(ans.Approvals), ans.Needed)
		fmt.Fprintln(opts.IO.ErrOut, "another owner approves with paratro wallet destroy and their own TOTP code")
	default:
		fmt.Fprintf(opts.IO.Out, "wallet %s: %s\n", which, ans.Status)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
