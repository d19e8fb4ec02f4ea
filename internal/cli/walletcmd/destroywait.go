package walletcmd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/cli/cmdutil"
	"github.com/paratro/paratro/internal/iostreams"
)

// erasureView is the relay's record of the parties' erasure of a
// destroyed wallet's shares (the wallet's "erasure").
type erasureView struct {
	Status     string             `json:"status"` // running, done, incomplete
	CeremonyID string             `json:"ceremony_id,omitempty"`
	Deadline   time.Time          `json:"deadline"`
	Parties    []erasurePartyView `json:"parties"`
	Error      string             `json:"error,omitempty"`
}

// erasurePartyView is one party's answer.
type erasurePartyView struct {
	Name   string `json:"name"`
	Status string `json:"status"` // waiting, erased, failed, rejected
	Error  string `json:"error,omitempty"`
}

// erasurePoll is how often wallet destroy asks the relay how the erasure
// goes.
const erasurePoll = 500 * time.Millisecond

// errNotErased is a destroyed wallet some of whose parties answered that
// they did not erase their share.
var errNotErased = errors.New("not every party erased its share")

// awaitErasure follows the parties' erasure of wallet id on the relay
// until it is no longer running or timeout passes, telling stderr about
// each party's answer. It returns the last record seen.
func awaitErasure(ctx context.Context, ios *iostreams.IOStreams, op *cmdutil.Operator, id string, er *erasureView, timeout time.Duration) (*erasureView, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	told := map[string]string{}
	for {
		tellErasure(ios, er, told)
		if er != nil && er.Status != "running" {
			return er, nil
		}
		select {
		case <-ctx.Done():
			return er, nil
		case <-time.After(erasurePoll):
		}
		var w struct {
			Erasure *erasureView `json:"erasure"`
		}
		rctx, rcancel := context.WithTimeout(ctx, cmdutil.RelayTimeout)
		err := op.Client.Do(rctx, http.MethodGet, "/v1/wallets/"+url.PathEscape(id), nil, &w)
		rcancel()
		switch {
		case err == nil:
			er = w.Erasure
		case ctx.Err() != nil:
			return er, nil
		default:
			return er, fmt.Errorf("follow the erasure of %s: %w", id, err)
		}
	}
}

// tellErasure prints each party's new answer on stderr.
func tellErasure(ios *iostreams.IOStreams, er *erasureView, told map[string]string) {
	if er == nil {
		return
	}
	for _, q := range er.Parties {
		if q.Status == "waiting" || told[q.Name] == q.Status {
			continue
		}
		told[q.Name] = q.Status
		line := fmt.Sprintf("erasure: %s %s its share", ceremony.Sanitize(q.Name), q.Status)
		if q.Status != "erased" {
			line = fmt.Sprintf("erasure: %s did not erase its share (%s): %s", ceremony.Sanitize(q.Name), q.Status, ceremony.SanitizeN(q.Error, 300))
		}
		fmt.Fprintln(ios.ErrOut, line)
	}
}

// erasureGroups sorts the parties by answer: erased, not erased (failed or
// rejected) and waiting.
func erasureGroups(er *erasureView) (erased, notErased, waiting []string) {
	if er == nil {
		return nil, nil, nil
	}
	for _, q := range er.Parties {
		switch q.Status {
		case "erased":
			erased = append(erased, q.Name)
		case "waiting":
			waiting = append(waiting, q.Name)
		default:
			notErased = append(notErased, q.Name)
		}
	}
	return erased, notErased, waiting
}

// erasureError is how wallet destroy ends when not every party erased: a
// timeout (exit 124) while some never answered, otherwise a failure.
func erasureError(id string, er *erasureView) error {
	if er == nil {
		return nil
	}
	_, notErased, waiting := erasureGroups(er)
	switch {
	case er.Error != "":
		return fmt.Errorf("wallet %s is destroyed, but %s: %w", id, er.Error, errNotErased)
	case len(waiting) > 0:
		return cmdutil.WithHint(fmt.Errorf("wallet %s is destroyed, but %s did not report erasing their share in time: %w",
			id, strings.Join(waiting, ", "), ceremony.ErrTimeout),
			"paratro wallet show "+id+" shows the parties' answers as they come, until the relay's deadline "+er.Deadline.UTC().Format(time.RFC3339))
	case len(notErased) > 0:
		return cmdutil.WithHint(fmt.Errorf("wallet %s is destroyed, but %s did not erase their share: %w", id, strings.Join(notErased, ", "), errNotErased),
			"their shares remain on their machines: the relay asks once; a party policy needs a rule with kinds: [destroy] (docs/destroy.md)")
	}
	return nil
}
