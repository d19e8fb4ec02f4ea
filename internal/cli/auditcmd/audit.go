// Package auditcmd implements "paratro audit": reading and verifying the
// hash-chained audit logs kept by each party (<home>/audit.log) and by the
// relay (<data>/audit.log).
package auditcmd

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
)

// NewCmdAudit returns the "audit" command group.
func NewCmdAudit(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit <command>",
		Short: "Read and verify the tamper-evident audit log",
		Long: `Read and verify the audit log: an append-only file of JSON lines in which
every entry names the SHA-256 of the line before it, so that editing,
removing, reordering or cutting entries is detected by "audit verify".

"paratro party run" appends each request it receives, its decision
(approved or rejected, with the reason) and each ceremony's outcome to
<home>/audit.log. The relay appends identities registered, ceremonies
created, access refused to non-members and equivocations refused to
<data>/audit.log. The log holds no secrets: names, fingerprints, wallet
and ceremony ids, outcomes, public keys and signatures.

Both commands read <home>/audit.log unless --file names another log.`,
		Example: `  $ paratro audit log --wallet 5f1c…
  $ paratro audit verify
  $ paratro audit verify --file ~/.local/share/paratro/relay/audit.log`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdLog(f, nil), newCmdVerify(f, nil))
	return cmd
}

// logFile is --file, or the home's audit.log.
func logFile(cmd *cobra.Command, f *cmdutil.Factory, file string) (string, error) {
	if file != "" {
		return file, nil
	}
	dir, err := cmdutil.HomeDir(cmd, f)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "audit.log"), nil
}
