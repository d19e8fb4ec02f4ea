package iostreams

import (
	"os"
	"testing"
)

func TestSystemDecidesColourFromEnvironment(t *testing.T) {
	allTerminals := func(*os.File) bool { return true }
	tests := []struct {
		name      string
		env       map[string]string
		wantColor bool
	}{
		{"colour on a terminal by default", map[string]string{"TERM": "xterm-256color"}, true},
		{"NO_COLOR turns colour off", map[string]string{"TERM": "xterm", "NO_COLOR": "1"}, false},
		{"an empty NO_COLOR is ignored", map[string]string{"TERM": "xterm", "NO_COLOR": ""}, true},
		{"TERM=dumb turns colour off", map[string]string{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSystem(func(k string) string { return tt.env[k] }, allTerminals)
			if got := s.ColorEnabled(); got != tt.wantColor {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.wantColor)
			}
		})
	}
}

func TestSystemAsksEachStreamOnce(t *testing.T) {
	asked := map[*os.File]int{}
	s := newSystem(func(string) string { return "" }, func(f *os.File) bool {
		asked[f]++
		return f == os.Stderr
	})
	for range 3 {
		if s.IsStdinTTY() || s.IsStdoutTTY() || !s.IsStderrTTY() {
			t.Fatalf("TTY flags = %v %v %v, want false false true", s.IsStdinTTY(), s.IsStdoutTTY(), s.IsStderrTTY())
		}
	}
	for _, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		if asked[f] != 1 {
			t.Errorf("%s asked %d times, want once", f.Name(), asked[f])
		}
	}
}

func TestTestStreamsStartAsPipes(t *testing.T) {
	s, in, out, errOut := Test()
	if s.IsStdinTTY() || s.IsStdoutTTY() || s.IsStderrTTY() || s.ColorEnabled() || s.CanPrompt() {
		t.Fatal("Test() streams must start as non-terminals without colour or prompts")
	}
	in.WriteString("typed")
	buf := make([]byte, 5)
	if _, err := s.In.Read(buf); err != nil || string(buf) != "typed" {
		t.Errorf("In read %q, %v; want %q", buf, err, "typed")
	}
	s.Out.Write([]byte("data"))
	s.ErrOut.Write([]byte("people"))
	if out.String() != "data" || errOut.String() != "people" {
		t.Errorf("out=%q errOut=%q, want data and people", out, errOut)
	}
}

func TestSettersFlipTheFacts(t *testing.T) {
	tests := []struct {
		name                   string
		stdin, stdout, stderr  bool
		wantColor, wantPrompts bool
	}{
		{"an interactive terminal colours and prompts", true, true, true, true, true},
		{"stdout piped to a program: no colour, still prompts on stderr", true, false, true, false, true},
		{"stdin piped: no prompts", false, true, true, true, false},
		{"stderr redirected: no prompts", true, true, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetStdinTTY(tt.stdin)
			s.SetStdoutTTY(tt.stdout)
			s.SetStderrTTY(tt.stderr)
			if s.ColorEnabled() != tt.wantColor || s.CanPrompt() != tt.wantPrompts {
				t.Errorf("ColorEnabled()=%v CanPrompt()=%v, want %v %v", s.ColorEnabled(), s.CanPrompt(), tt.wantColor, tt.wantPrompts)
			}
		})
	}
}
