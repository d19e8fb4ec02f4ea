package walletcmd

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/home"
)

// erasedHere reports when this home's party erased its share of wallet
// id, from the home's audit log (which is kept: the wallet's record and
// share are not).
func erasedHere(h *home.Home, id string) (time.Time, bool) {
	entries, err := audit.ReadAll(filepath.Join(h.Dir, "audit.log"))
	if err != nil {
		return time.Time{}, false
	}
	for _, e := range entries {
		if e.Event == audit.EventShareErased && e.Wallet == id && e.Outcome == "ok" {
			return e.Time, true
		}
	}
	return time.Time{}, false
}

// destroyedHereError explains a wallet this home no longer knows because
// its share was erased after the wallet was destroyed.
func destroyedHereError(id string, at time.Time) error {
	return cmdutil.WithHint(fmt.Errorf("wallet %s was destroyed: this home's share of it was erased on %s", id, at.UTC().Format(time.RFC3339)),
		"the relay refuses every ceremony of a destroyed wallet; paratro audit log --wallet "+id+" shows the erasure")
}
