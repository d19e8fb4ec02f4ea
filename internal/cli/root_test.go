package cli_test

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli"
	"github.com/paratro/paratro/internal/cli/clitest"
)

func TestEveryCommandIsDocumented(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" || c.Long == "" || c.Example == "" {
			t.Errorf("%q needs Short, Long and Example", c.CommandPath())
		}
		if c.Short != "" && (strings.HasSuffix(c.Short, ".") || strings.ToUpper(c.Short[:1]) != c.Short[:1]) {
			t.Errorf("%q: Short %q should start upper case and end without a period", c.CommandPath(), c.Short)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cli.NewCmdRoot(f))
}

func TestRootHelpListsOnlyGroupsInUse(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	stdout, _, err := clitest.Run(t, f, "--help")
	if err != nil {
		t.Fatal(err)
	}
	root := cli.NewCmdRoot(f)
	for _, g := range root.Groups() {
		used := false
		for _, c := range root.Commands() {
			used = used || c.GroupID == g.ID
		}
		if !used {
			t.Errorf("group %q has no command but is listed", g.Title)
		}
	}
	for _, want := range []string{"version", "completion", "exit-codes", "--output", "--quiet"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("root help does not mention %q:\n%s", want, stdout)
		}
	}
}

func TestCompletionWritesToTheFactoryStreams(t *testing.T) {
	f, _, _ := clitest.NewFactory(t)
	stdout, stderr, err := clitest.Run(t, f, "completion bash")
	if err != nil || stderr != "" || !strings.HasPrefix(stdout, "# bash completion V2 for paratro") {
		t.Errorf("err=%v stderr=%q stdout starts %.40q", err, stderr, stdout)
	}
}
