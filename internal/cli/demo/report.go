package demo

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/paratro/paratro/internal/output"
	"github.com/paratro/paratro/internal/progress"
)

// demoReport is the --output json form of the demo. Its field names follow
// the command map (wallet create: id, address, public_key; wallet sign:
// signature, digest, signers), and every signature object carries the key
// that verifies it, so a script can check it without knowing the demo.
type demoReport struct {
	Wallets    []walletReport `json:"wallets"`
	Homes      string         `json:"homes,omitempty"`
	StartedAt  string         `json:"started_at"`
	DurationMS int64          `json:"duration_ms"`
}

type walletReport struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Scheme     string            `json:"scheme"`
	Chain      string            `json:"chain"`
	Threshold  thresholdJSON     `json:"threshold"`
	Parties    []string          `json:"parties"`
	Address    string            `json:"address,omitempty"`
	PublicKey  string            `json:"public_key"`
	Epoch      uint64            `json:"epoch"`
	Keygen     keygenReport      `json:"keygen"`
	Signatures []signatureReport `json:"signatures"`
	Rotation   rotationReport    `json:"rotation"`
}

type thresholdJSON struct {
	Required int `json:"required"`
	Total    int `json:"total"`
}

type keygenReport struct {
	DurationMS  int64    `json:"duration_ms"`
	ConfirmedBy []string `json:"confirmed_by"`
}

type signatureReport struct {
	Epoch      uint64   `json:"epoch"`
	Signers    []string `json:"signers"`
	Message    string   `json:"message"`
	Digest     string   `json:"digest"`
	Signature  string   `json:"signature"`
	Address    string   `json:"address,omitempty"`
	PublicKey  string   `json:"public_key"`
	Scheme     string   `json:"scheme"`
	VerifiedBy string   `json:"verified_by"`
	DurationMS int64    `json:"duration_ms"`
}

type rotationReport struct {
	FromEpoch       uint64 `json:"from_epoch"`
	ToEpoch         uint64 `json:"to_epoch"`
	AddressBefore   string `json:"address_before,omitempty"`
	AddressAfter    string `json:"address_after,omitempty"`
	PublicKeyBefore string `json:"public_key_before"`
	PublicKeyAfter  string `json:"public_key_after"`
	Unchanged       bool   `json:"unchanged"`
	DurationMS      int64  `json:"duration_ms"`
}

// identity is how people recognise the wallet: its address, or its x-only
// key for Schnorr wallets.
func (w *walletReport) identity() string {
	if w.Address != "" {
		return w.Address
	}
	return w.PublicKey
}

func (w *walletReport) identityKind() string {
	if w.Address != "" {
		return "address"
	}
	return "public key"
}

// printTable prints one row per step of every wallet's life.
func printTable(out io.Writer, r *demoReport) error {
	header := []string{"SCHEME", "STEP", "PARTIES", "EPOCH", "RESULT", "TIME"}
	var rows [][]string
	for _, w := range r.Wallets {
		all := strings.Join(w.Parties, " ")
		rows = append(rows, []string{w.Scheme, fmt.Sprintf("create %d-of-%d", w.Threshold.Required, w.Threshold.Total),
			all, "1", w.ID + " " + w.identity(), ms(w.Keygen.DurationMS)})
		for i, s := range w.Signatures {
			if i == 1 {
				rows = append(rows, rotationRow(&w, all))
			}
			rows = append(rows, []string{w.Scheme, "sign", strings.Join(s.Signers, " "), fmt.Sprint(s.Epoch),
				"signature " + short(s.Signature) + " verified by " + s.VerifiedBy, ms(s.DurationMS)})
		}
	}
	return output.Table(out, header, rows)
}

func rotationRow(w *walletReport, parties string) []string {
	rot := w.Rotation
	return []string{w.Scheme, "rotate keys", parties, fmt.Sprint(rot.ToEpoch),
		fmt.Sprintf("%s unchanged %s", w.identityKind(), w.identity()), ms(rot.DurationMS)}
}

func short(hexs string) string {
	if len(hexs) <= 16 {
		return hexs
	}
	return hexs[:10] + "…" + hexs[len(hexs)-6:]
}

func ms(v int64) string { return progress.Duration(time.Duration(v) * time.Millisecond) }
