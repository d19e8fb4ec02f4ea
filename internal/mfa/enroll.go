// Package mfa is paratro's second factor for admin operations: TOTP
// (RFC 6238, SHA-1, 6 digits, 30 s steps, github.com/pquerna/otp).
//
//   - Enroll makes a fresh secret, its otpauth:// URI and a terminal QR code.
//   - Verifier checks codes with one step of skew either side, accepts each
//     code once (the last accepted step is persisted, so a restart does not
//     reopen a window), and locks an operator out after repeated failures.
//   - Seal and Open keep secrets encrypted at rest (AES-256-GCM).
//
// A TOTP secret is never put in an error, and an Enrollment prints redacted.
package mfa

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/mdp/qrterminal/v3"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters paratro uses everywhere (the defaults of
// authenticator apps and of oathtool --totp).
const (
	Period = 30 // seconds per time step
	Digits = 6
	// Skew is how many time steps either side of the current one are accepted.
	Skew = 1
	// SecretSize is the size of a generated secret in bytes (160 bits).
	SecretSize = 20
)

func validateOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: Period, Skew: Skew, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
}

// Enrollment is a freshly generated TOTP secret for one operator. It formats
// as a redacted description with every fmt verb; Secret and URI give the
// secret itself, to be shown once to the operator and then sealed.
type Enrollment struct {
	Account string
	Issuer  string
	secret  string // base32, unpadded
	uri     string // otpauth://totp/...; contains the secret
}

// Enroll generates a new 160-bit secret for account at issuer.
func Enroll(account, issuer string) (*Enrollment, error) {
	if account == "" || issuer == "" {
		return nil, errors.New("mfa: enroll needs an account and an issuer")
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Rand:        rand.Reader,
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: generating a TOTP secret: %w", err)
	}
	return &Enrollment{Account: account, Issuer: issuer, secret: key.Secret(), uri: key.URL()}, nil
}

// Secret returns the base32 secret (unpadded), for operators who cannot
// scan the QR code and for sealing.
func (e Enrollment) Secret() string { return e.secret }

// URI returns the otpauth:// URI. It contains the secret.
func (e Enrollment) URI() string { return e.uri }

// QR draws the URI as a QR code with Unicode half blocks (no escape
// sequences; a full block is a light module, so it suits dark terminals).
// It returns the first write error.
func (e Enrollment) QR(w io.Writer) error { return DrawQR(w, e.uri) }

// DrawQR draws uri as a QR code in Unicode half blocks (no escape
// sequences, so it survives a plain terminal, a log and a golden file). It
// returns the first write error.
func DrawQR(w io.Writer, uri string) error {
	ew := &errWriter{w: w}
	qrterminal.GenerateWithConfig(uri, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         ew,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		QuietZone:      1,
	})
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) Write(p []byte) (int, error) {
	if ew.err != nil {
		return 0, ew.err
	}
	n, err := ew.w.Write(p)
	ew.err = err
	return n, err
}

// String describes the enrollment without the secret.
func (e Enrollment) String() string {
	return fmt.Sprintf("TOTP enrollment %s:%s (secret redacted)", e.Issuer, e.Account)
}

// GoString is used by %#v; it leaves the secret out too.
func (e Enrollment) GoString() string {
	return fmt.Sprintf("mfa.Enrollment{Account:%q, Issuer:%q, secret:REDACTED}", e.Account, e.Issuer)
}

// Format makes every verb (%v, %+v, %d, %x, ...) print the redacted form:
// without it, verbs that ignore String would print the fields.
func (e Enrollment) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, e.GoString())
		return
	}
	io.WriteString(f, e.String())
}
