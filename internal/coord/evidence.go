package coord

import (
	"fmt"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/audit"
)

// keepEvidence keeps the culprits' envelopes of a failed ceremony beside
// the party's audit log, for its outcome entry to name (SECURITY.md (c)
// case 12: signed evidence in the audit). Each is kept exactly as the
// relay served it, its sender's signature included: whoever has the
// sender's public identity can check that the sender sealed it. A party
// without an audit log keeps none; an envelope that cannot be written is
// reported as an error event, and the outcome is still recorded.
func (p *Party) keepEvidence(id string, req *Request, envs []*Received) []audit.Evidence {
	if p.Audit == nil || len(envs) == 0 {
		return nil
	}
	var out []audit.Evidence
	for _, r := range envs {
		sum, file, err := p.Audit.KeepEvidence(r.Raw)
		if err != nil {
			if p.Events != nil {
				p.Events(Event{Ceremony: id, Request: req, What: "error", Err: fmt.Errorf("audit log: %w", err)})
			}
			continue
		}
		sender := r.Header.From
		if m, ok := req.member(sender); ok {
			sender = m.Label()
		}
		out = append(out, audit.Evidence{Sender: sender, Type: ceremony.MessageType(r.Header.Type).String(), Round: r.Header.Round,
			To: r.Header.To, Seq: r.Seq, SHA256: sum, Size: len(r.Raw), File: file})
	}
	return out
}
