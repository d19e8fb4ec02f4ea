package clitest

import (
	"fmt"
	"testing"
)

func TestSplitLikeAShell(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"", nil},
		{"version", []string{"version"}},
		{"  wallet   create\t--name hot ", []string{"wallet", "create", "--name", "hot"}},
		{`--name 'hot wallet'`, []string{"--name", "hot wallet"}},
		{`--name "hot \"eth\" wallet"`, []string{"--name", `hot "eth" wallet`}},
		{`--message 'a\b'`, []string{"--message", `a\b`}},
		{`a\ b`, []string{"a b"}},
		{`--output ''`, []string{"--output", ""}},
		{`x"y"'z'`, []string{"xyz"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := Split(tt.line)
			if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("Split(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := Split(bad); err == nil {
			t.Errorf("Split(%q) accepted an unterminated line", bad)
		}
	}
}

func TestRunUsesTheRealRootAndFreshBuffers(t *testing.T) {
	f, stdout, _ := NewFactory(t)
	stdout.WriteString("left over")
	out, errOut, err := Run(t, f, "version -o json")
	if err != nil || errOut != "" || out == "" || out[0] != '{' {
		t.Errorf("out=%q errOut=%q err=%v", out, errOut, err)
	}
	if got := f.Now(); !got.Equal(Now) {
		t.Errorf("clock says %v, want %v", got, Now)
	}
}
