package mfa

import (
	"bytes"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestEnrollSecretAndURI(t *testing.T) {
	e, err := Enroll("alice@wallet", "paratro")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret())
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret is %d bytes (%v), want 20 (160 bits)", len(raw), err)
	}
	u, err := url.Parse(e.URI())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/paratro:alice@wallet" ||
		q.Get("secret") != e.Secret() || q.Get("issuer") != "paratro" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Fatalf("uri %s", e.URI())
	}
	e2, err := Enroll("alice@wallet", "paratro")
	if err != nil || e2.Secret() == e.Secret() {
		t.Fatalf("two enrollments share a secret (%v)", err)
	}
	if _, err := Enroll("", "paratro"); err == nil {
		t.Fatal("empty account accepted")
	}
}

// Every fmt verb, on the value, the pointer and inside other values, prints
// the enrollment without its secret.
func TestEnrollmentRedacted(t *testing.T) {
	e, err := Enroll("alice@wallet", "paratro")
	if err != nil {
		t.Fatal(err)
	}
	secret := e.Secret()
	lower := strings.ToLower(secret)
	type holder struct{ E Enrollment }
	values := []any{e, *e, []*Enrollment{e}, holder{*e}, map[string]Enrollment{"a": *e}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		for _, v := range values {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, secret) || strings.Contains(strings.ToLower(out), lower) ||
				strings.Contains(out, fmt.Sprintf("%x", secret)) || strings.Contains(out, fmt.Sprintf("%X", secret)) {
				t.Fatalf("%s of %T prints the secret: %s", verb, v, out)
			}
		}
	}
	if got := fmt.Sprintf("%v", e); !strings.Contains(got, "paratro:alice@wallet") || !strings.Contains(got, "redacted") {
		t.Fatalf("%%v = %q", got)
	}
	if got := fmt.Sprintf("%#v", *e); !strings.Contains(got, "REDACTED") {
		t.Fatalf("%%#v = %q", got)
	}
}

// The QR code is plain half-block text (no escape sequences), and it is a
// QR code: a square symbol with the three finder patterns.
func TestQRHalfBlocks(t *testing.T) {
	e, err := Enroll("alice@wallet", "paratro")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := e.QR(&buf); err != nil {
		t.Fatal(err)
	}
	text := strings.TrimRight(buf.String(), "\n")
	if strings.ContainsRune(text, '\x1b') {
		t.Fatal("QR output has escape sequences")
	}
	// Each character is two modules, top and bottom; a filled half is light.
	var grid [][]bool // true = dark
	for _, line := range strings.Split(text, "\n") {
		var top, bottom []bool
		for _, r := range line {
			switch r {
			case '█':
				top, bottom = append(top, false), append(bottom, false)
			case '▀':
				top, bottom = append(top, false), append(bottom, true)
			case '▄':
				top, bottom = append(top, true), append(bottom, false)
			case ' ':
				top, bottom = append(top, true), append(bottom, true)
			default:
				t.Fatalf("unexpected rune %q in QR output", r)
			}
		}
		grid = append(grid, top, bottom)
	}
	// Drop all-dark padding rows (the half-block layout pads to even rows).
	allDark := func(row []bool) bool {
		for _, d := range row {
			if !d {
				return false
			}
		}
		return true
	}
	for len(grid) > 0 && allDark(grid[0]) {
		grid = grid[1:]
	}
	for len(grid) > 0 && allDark(grid[len(grid)-1]) {
		grid = grid[:len(grid)-1]
	}
	n := len(grid) - 2 // quiet zone of one module each side
	if n < 21 || (n-21)%4 != 0 {
		t.Fatalf("symbol is %d modules high, not a QR version size\n%s", n, text)
	}
	for _, row := range grid {
		if len(row) != n+2 {
			t.Fatalf("row width %d, height %d\n%s", len(row), n+2, text)
		}
	}
	finder := func(r0, c0 int) {
		for r := 0; r < 7; r++ {
			for c := 0; c < 7; c++ {
				ring := r == 0 || r == 6 || c == 0 || c == 6
				core := r >= 2 && r <= 4 && c >= 2 && c <= 4
				if grid[1+r0+r][1+c0+c] != (ring || core) {
					t.Fatalf("no finder pattern at (%d,%d)\n%s", r0, c0, text)
				}
			}
		}
	}
	finder(0, 0)
	finder(0, n-7)
	finder(n-7, 0)
}
