package cli

import (
	"github.com/spf13/cobra"
)

// addCobraCommands adds cobra's own "help" and "completion" commands now,
// rather than when the tree first runs, so that they write to the factory's
// streams, appear in generated man pages, and carry an Example like every
// paratro command.
func addCobraCommands(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = `  $ paratro help version
  $ paratro help exit-codes`
		case "completion":
			describeCompletion(c)
		}
	}
}

// describeCompletion replaces the generic text of cobra's completion command
// and adds examples to its per-shell subcommands.
func describeCompletion(c *cobra.Command) {
	c.Short = "Print the shell completion script"
	c.Long = `Print the script that makes bash, zsh, fish or PowerShell complete paratro
commands, flags and flag values. Load it in the current shell, or save it
where your shell looks for completions; each shell's help says how.

Release archives also ship the scripts, in the completions directory.`
	c.Example = `  $ source <(paratro completion bash)
  $ paratro completion zsh > "${fpath[1]}/_paratro"
  $ paratro completion fish > ~/.config/fish/completions/paratro.fish
  PS> paratro completion powershell | Out-String | Invoke-Expression`
	for _, sub := range c.Commands() {
		switch sub.Name() {
		case "bash":
			sub.Example = "  $ source <(paratro completion bash)\n  $ paratro completion bash > /etc/bash_completion.d/paratro"
		case "zsh":
			sub.Example = "  $ source <(paratro completion zsh)\n  $ paratro completion zsh > \"${fpath[1]}/_paratro\""
		case "fish":
			sub.Example = "  $ paratro completion fish | source\n  $ paratro completion fish > ~/.config/fish/completions/paratro.fish"
		case "powershell":
			sub.Example = "  PS> paratro completion powershell | Out-String | Invoke-Expression"
		}
	}
}
