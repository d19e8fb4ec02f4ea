package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/output"
)

// NoArgs is a cobra.PositionalArgs that refuses any argument with a FlagError.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return FlagErrorf("%s takes no arguments, got %q", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// ExactArgs returns a cobra.PositionalArgs that wants exactly n arguments,
// described as what in the message ("a wallet name", "two party names").
func ExactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return FlagErrorf("%s needs %s", cmd.CommandPath(), what)
		case len(args) > n:
			return FlagErrorf("%s takes %s, got %d arguments", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

// Names of the persistent flags owned by the root command.
const (
	outputFlag = "output"
	quietFlag  = "quiet"
)

// AddOutputFlag adds --output/-o to cmd's persistent flags, writing into f
// (which holds the default), and lets shells complete its values.
func AddOutputFlag(cmd *cobra.Command, f *output.Format) {
	cmd.PersistentFlags().VarP(f, outputFlag, "o", "output format: table or json")
	_ = cmd.RegisterFlagCompletionFunc(outputFlag, cobra.FixedCompletions([]string{
		string(output.FormatTable) + "\taligned columns for people",
		string(output.FormatJSON) + "\tindented JSON for programs",
	}, cobra.ShellCompDirectiveNoFileComp))
}

// AddQuietFlag adds --quiet/-q to cmd's persistent flags.
func AddQuietFlag(cmd *cobra.Command, quiet *bool) {
	cmd.PersistentFlags().BoolVarP(quiet, quietFlag, "q", false, "suppress progress on stderr")
}

// OutputFormat returns the --output value seen by cmd, or table when the
// command tree has no such flag.
func OutputFormat(cmd *cobra.Command) output.Format {
	if fl := cmd.Flag(outputFlag); fl != nil {
		return output.Format(fl.Value.String())
	}
	return output.FormatTable
}

// Quiet returns the --quiet value seen by cmd (false without such a flag).
func Quiet(cmd *cobra.Command) bool {
	fl := cmd.Flag(quietFlag)
	return fl != nil && fl.Value.String() == "true"
}
