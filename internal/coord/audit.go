package coord

import (
	"fmt"
	"strings"

	"github.com/paratro/paratro/internal/audit"
)

// auditEvents maps the party's events to the audit log's; others (progress,
// started, not-selected, error) are not recorded.
var auditEvents = map[string]string{
	"request":               audit.EventRequest,
	"approved":              audit.EventApproved,
	"rejected":              audit.EventRejected,
	"done":                  audit.EventOutcome,
	"failed":                audit.EventOutcome,
	"aborted-after-restart": audit.EventAbortedAfterRestart,
	"settled":               audit.EventSettled,
	"withdrawn":             audit.EventWithdrawn,
	"expired":               audit.EventExpired,
	"foreign-envelope":      audit.EventForeignEnvelope,
}

// audit appends e to the party's audit log, if it has one. A failure to
// append is reported as an error event; the ceremony goes on.
func (p *Party) audit(e Event) {
	event, ok := auditEvents[e.What]
	if p.Audit == nil || !ok {
		return
	}
	a := audit.Entry{Event: event, Actor: p.Home.ID.Name + " (" + p.Home.ID.Fingerprint() + ")",
		Ceremony: e.Ceremony, Outcome: e.What, Detail: e.Detail}
	if r := e.Request; r != nil {
		a.Wallet, a.Kind = r.WalletID, string(r.Kind)
		for _, q := range r.Parties {
			a.Parties = append(a.Parties, q.Name+" ("+q.Fingerprint()+")")
		}
		if e.What == "request" {
			a.Actor, a.Outcome = r.Initiator.Name+" ("+r.Initiator.Fingerprint()+")", ""
		}
	}
	if e.What == "done" || e.What == "failed" {
		a.Outcome, a.Culprits, a.Detail = outcomeText(e)
		a.Evidence = e.Evidence
	}
	if _, err := p.Audit.Append(a); err != nil && p.Events != nil {
		p.Events(Event{Ceremony: e.Ceremony, Request: e.Request, What: "error", Err: fmt.Errorf("audit log: %w", err)})
	}
}

// outcomeText is an outcome's result, culprits and public details: code,
// waiting parties, epoch, public key and signature (all public).
func outcomeText(e Event) (string, []string, string) {
	o := e.Outcome
	if o == nil {
		return "failed", nil, e.Detail
	}
	var d []string
	add := func(k, v string) {
		if v != "" {
			d = append(d, k+"="+v)
		}
	}
	add("code", o.Code)
	add("waiting", strings.Join(o.Waiting, ","))
	add("reported_by", o.ReportedBy)
	if o.Epoch > 0 {
		add("epoch", fmt.Sprint(o.Epoch))
	}
	add("public_key", o.PublicKey)
	add("signature", o.Signature)
	add("error", o.Error)
	result := "ok"
	if !o.OK {
		result = "failed"
	}
	return result, o.Culprits, strings.Join(d, " ")
}
