package failpoint

import (
	"strings"
	"testing"
)

// PARATRO_FAILPOINT=panic:<point> panics at that point only; unset, or
// naming another point, Hit does nothing. (A kill at a point is tested by
// the e2e crash tests: it would end this process.)
func TestHitPanics(t *testing.T) {
	defer func(old func() string) { armed = old }(armed)
	for _, c := range []struct {
		env, hit string
		panics   bool
	}{
		{"", "sign:after-mark", false},
		{"panic:sign:after-mark", "sign:after-mark", true},
		{"panic:sign:after-mark", "sign:after-send", false},
		{"panic:sign:after-mark", "sign:after-mar", false},
		{"panic:sign:after-mark", "mark", false},
		{"sign:after-mark", "panic:sign:after-mark", false},
	} {
		armed = func() string { return c.env }
		if Armed() != (c.env != "") {
			t.Errorf("%q: Armed() = %v", c.env, Armed())
		}
		var got any
		func() {
			defer func() { got = recover() }()
			Hit(c.hit)
		}()
		if (got != nil) != c.panics {
			t.Errorf("PARATRO_FAILPOINT=%q, Hit(%q): panic %v, want a panic: %v", c.env, c.hit, got, c.panics)
		}
		if s, _ := got.(string); got != nil && !strings.Contains(s, "failpoint "+c.hit+": induced panic") {
			t.Errorf("panic value %q", got)
		}
	}
}
