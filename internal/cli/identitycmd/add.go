package identitycmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/identity"
	"github.com/paratro/paratro/internal/output"
)

func newCmdAdd(f *cmdutil.Factory) *cobra.Command {
	var fingerprint string
	var fromRelay bool
	cmd := &cobra.Command{
		Use:   "add FILE|- | --from-relay",
		Short: "Trust a co-holder's identity, after checking its fingerprint",
		Long: `Trust a co-holder's identity: read the JSON that their
"paratro identity show --output json" printed (from FILE, or - for stdin)
and add it to the identities this home trusts.

Check the fingerprint with its owner over another channel first. Give it
with --fingerprint (spaces allowed), and paratro refuses an identity whose
keys do not match it; on a terminal without --fingerprint, paratro shows
the fingerprint and asks.

--from-relay trusts the relay's own identity instead, fetched from the
relay (--relay or PARATRO_RELAY): the relay signs the ceremonies it starts
on requests to its wallet API, and a party approves them only if it
trusts that identity. The relay host's administrator reads its fingerprint
from the relay serve startup lines ("relay identity ..."); check it just
the same, since the answer comes over the network.`,
		Example: `  $ paratro identity add ben.json --fingerprint "8c1e 40d2 a9b3 f761"
  $ ssh ben@vault paratro identity show --output json | paratro identity add - --fingerprint 8c1e40d2a9b3f761
  $ paratro identity add --from-relay --fingerprint 5d2e9a0b17c4f386 --relay https://relay.example:8700`,
		Args: func(cmd *cobra.Command, args []string) error {
			if fromRelay {
				if len(args) > 0 {
					return cmdutil.FlagErrorf("give FILE or --from-relay, not both")
				}
				return nil
			}
			return cmdutil.ExactArgs(1, "the identity file (or - for stdin), or --from-relay")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			want := strings.ReplaceAll(strings.ToLower(fingerprint), " ", "")
			if want == "" && !f.IO.CanPrompt() {
				return cmdutil.FlagErrorf("give --fingerprint FP: the fingerprint its owner read to you (there is no terminal to ask)")
			}
			var pub identity.Public
			var err error
			if fromRelay {
				pub, err = relayIdentity(cmd, f)
			} else {
				pub, err = readIdentity(f, args[0])
			}
			if err != nil {
				return err
			}
			if err := checkFingerprint(f, pub, want); err != nil {
				return err
			}
			return trust(cmd, f, pub)
		},
	}
	cmd.Flags().StringVar(&fingerprint, "fingerprint", "", "the fingerprint its owner read to you; the identity must match it")
	cmd.Flags().BoolVar(&fromRelay, "from-relay", false, "trust the relay's own identity (GET /v1/relay), which signs ceremonies started on API requests")
	return cmd
}

// readIdentity reads a public identity from the file name, or stdin for "-".
func readIdentity(f *cmdutil.Factory, name string) (identity.Public, error) {
	var r io.Reader = f.IO.In
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return identity.Public{}, err
		}
		defer file.Close()
		r = file
	}
	var pub identity.Public
	if err := json.NewDecoder(io.LimitReader(r, 64<<10)).Decode(&pub); err != nil {
		return identity.Public{}, fmt.Errorf("%s is not an identity (from paratro identity show --output json): %w", name, err)
	}
	return pub, nil
}

// relayIdentity fetches the relay's own identity from GET /v1/relay.
func relayIdentity(cmd *cobra.Command, f *cmdutil.Factory) (identity.Public, error) {
	op, err := cmdutil.OpenOperator(cmd, f)
	if err != nil {
		return identity.Public{}, err
	}
	defer op.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), cmdutil.RelayTimeout)
	defer cancel()
	info, err := op.Client.Info(ctx)
	if err != nil {
		return identity.Public{}, cmdutil.RelayHint(fmt.Errorf("read the relay's identity: %w", err), op.URL)
	}
	if info.Identity == nil {
		return identity.Public{}, fmt.Errorf("the relay at %s has no identity of its own to trust", op.URL)
	}
	return *info.Identity, nil
}

// checkFingerprint compares pub with want, or asks on the terminal.
func checkFingerprint(f *cmdutil.Factory, pub identity.Public, want string) error {
	if want != "" {
		if want != pub.Fingerprint() {
			return fmt.Errorf("the identity of %s has fingerprint %s, not %s: do not trust it; ask %s to send it again",
				pub.Name, pub.DisplayFingerprint(), identity.GroupFingerprint(want), pub.Name)
		}
		return nil
	}
	fmt.Fprintf(f.IO.ErrOut, "%s's fingerprint is %s\nDoes it match what %s read to you? [y/N] ", pub.Name, pub.DisplayFingerprint(), pub.Name)
	line, _ := cmdutil.ReadLine(f.IO.In, 16)
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return fmt.Errorf("not trusted: %s", pub.Name)
	}
	return nil
}

// trust adds pub to the home's trusted identities and reports it.
func trust(cmd *cobra.Command, f *cmdutil.Factory, pub identity.Public) error {
	h, closeKR, err := cmdutil.OpenHome(cmd, f)
	if err != nil {
		return err
	}
	defer closeKR()
	added, err := h.Trust(pub)
	if err != nil {
		return err
	}
	if cmdutil.OutputFormat(cmd) == output.FormatJSON {
		return output.JSON(f.IO.Out, map[string]any{"name": pub.Name, "fingerprint": pub.Fingerprint(), "added": added})
	}
	if added {
		fmt.Fprintf(f.IO.Out, "trusted %s (%s)\n", pub.Name, pub.DisplayFingerprint())
	} else {
		fmt.Fprintf(f.IO.Out, "%s (%s) was already trusted\n", pub.Name, pub.DisplayFingerprint())
	}
	return nil
}
