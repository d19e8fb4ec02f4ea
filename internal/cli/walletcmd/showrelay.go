package walletcmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/output"
)

// relayWalletView is the part of the relay's wallet record (GET
// /v1/wallets/{id}) wallet show prints for a wallet this home does not
// keep: a destroyed wallet whose share was erased here, or one held by
// other parties.
type relayWalletView struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Chain       string       `json:"chain"`
	Scheme      string       `json:"scheme"`
	Status      string       `json:"status"`
	Address     string       `json:"address,omitempty"`
	PublicKey   string       `json:"public_key,omitempty"`
	DestroyedAt *time.Time   `json:"destroyed_at,omitempty"`
	Erasure     *erasureView `json:"erasure,omitempty"`
}

// showFromRelay prints the relay's record of wallet arg, as JSON (the
// relay's fields above) or as key-value lines with the parties' erasure.
func showFromRelay(ctx context.Context, op *cmdutil.Operator, arg string, out io.Writer, format output.Format) error {
	ctx, cancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
	defer cancel()
	var w relayWalletView
	if err := op.Client.Do(ctx, http.MethodGet, "/v1/wallets/"+url.PathEscape(arg), nil, &w); err != nil {
		return err
	}
	if format == output.FormatJSON {
		return output.JSON(out, w)
	}
	pairs := [][2]string{{"wallet", w.ID}, {"name", w.Name}, {"chain", w.Chain + " (" + w.Scheme + ")"}, {"status", w.Status + " (from the relay)"}}
	if w.DestroyedAt != nil {
		pairs = append(pairs, [2]string{"destroyed", w.DestroyedAt.UTC().Format(time.RFC3339)})
	}
	if er := w.Erasure; er != nil {
		erased, _, waiting := erasureGroups(er)
		pairs = append(pairs, [2]string{"erasure", er.Status}, [2]string{"erased by", listOrNone(erased)})
		for _, q := range er.Parties {
			if q.Status == "failed" || q.Status == "rejected" {
				pairs = append(pairs, [2]string{"not erased", fmt.Sprintf("%s (%s: %s)", q.Name, q.Status, q.Error)})
			}
		}
		if len(waiting) > 0 {
			pairs = append(pairs, [2]string{"no answer", strings.Join(waiting, ", ")})
		}
	}
	return output.KeyValues(out, pairs)
}
