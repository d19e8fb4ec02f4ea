package identitycmd

import (
	"bufio"
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
	cmd := &cobra.Command{
		Use:   "add FILE|-",
		Short: "Trust a co-holder's identity, after checking its fingerprint",
		Long: `Trust a co-holder's identity: read the JSON that their
"paratro identity show --output json" printed (from FILE, or - for stdin)
and add it to the identities this home trusts.

Check the fingerprint with its owner over another channel first. Give it
with --fingerprint (spaces allowed), and paratro refuses an identity whose
keys do not match it; on a terminal without --fingerprint, paratro shows
the fingerprint and asks.`,
		Example: `  $ paratro identity add ben.json --fingerprint "8c1e 40d2 a9b3 f761"
  $ ssh ben@vault paratro identity show --output json | paratro identity add - --fingerprint 8c1e40d2a9b3f761`,
		Args: cmdutil.ExactArgs(1, "the identity file (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			want := strings.ReplaceAll(strings.ToLower(fingerprint), " ", "")
			if want == "" && !f.IO.CanPrompt() {
				return cmdutil.FlagErrorf("give --fingerprint FP: the fingerprint its owner read to you (there is no terminal to ask)")
			}
			var r io.Reader = f.IO.In
			if args[0] != "-" {
				file, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer file.Close()
				r = file
			}
			var pub identity.Public
			if err := json.NewDecoder(io.LimitReader(r, 64<<10)).Decode(&pub); err != nil {
				return fmt.Errorf("%s is not an identity (from paratro identity show --output json): %w", args[0], err)
			}
			if want != "" && want != pub.Fingerprint() {
				return fmt.Errorf("the identity of %s has fingerprint %s, not %s: do not trust it; ask %s to send it again",
					pub.Name, pub.DisplayFingerprint(), identity.GroupFingerprint(want), pub.Name)
			}
			if want == "" {
				fmt.Fprintf(f.IO.ErrOut, "%s's fingerprint is %s\nDoes it match what %s read to you? [y/N] ", pub.Name, pub.DisplayFingerprint(), pub.Name)
				line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return fmt.Errorf("not trusted: %s", pub.Name)
				}
			}
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
		},
	}
	cmd.Flags().StringVar(&fingerprint, "fingerprint", "", "the fingerprint its owner read to you; the identity must match it")
	return cmd
}
