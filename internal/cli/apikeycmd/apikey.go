// Package apikeycmd implements "paratro apikey": API keys that let programs
// call the relay's wallet API (Authorization: Bearer <key>) as the
// operator who made them, with that operator's role.
package apikeycmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/relay"
)

// NewCmdAPIKey returns the "apikey" command group.
func NewCmdAPIKey(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey <command>",
		Short: "Make, list and revoke API keys for the relay's wallet API",
		Long: `An API key lets a program call the relay's HTTP API with
"Authorization: Bearer <key>", acting as the operator who made it, with
that operator's role (and losing it when the operator is removed).

The relay keeps only a hash of each key: the key is shown once, by
paratro apikey create, and never again. Keys are made with your identity,
not with another key. Operations that need a TOTP code still need one
with a key (the Paratro-OTP header).`,
		Example: `  $ paratro apikey create --name ci-payouts
  $ paratro apikey list
  $ paratro apikey revoke 3kq7x2m4p5r6s7t8`,
		Args: cmdutil.NoArgs,
	}
	cmd.AddCommand(newCmdCreate(f, nil), newCmdList(f, nil), newCmdRevoke(f, nil))
	return cmd
}

// keyJSON is an API key in --output json (never the key itself).
type keyJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Operator   string `json:"operator"` // fingerprint
	CreatedBy  string `json:"created_by"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at,omitempty"`
	RevokedAt  string `json:"revoked_at,omitempty"`
}

func toJSON(k relay.APIKey) keyJSON {
	return keyJSON{ID: k.ID, Name: k.Name, Operator: k.Operator, CreatedBy: k.CreatedBy,
		CreatedAt: rfc3339(&k.CreatedAt), LastUsedAt: rfc3339(k.LastUsedAt), RevokedAt: rfc3339(k.RevokedAt)}
}

// rfc3339 is t in UTC, or "" for nil or the zero time.
func rfc3339(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// when is t for a table cell: "2026-11-21 10:02" UTC, or "-".
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
