package relay

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/paratro/paratro/internal/audit"
	"github.com/paratro/paratro/internal/envelope"
)

// Kinds of ceremony message.
const (
	KindControl  = "control"  // signed statements the relay does not read: approvals, start, outcomes
	KindEnvelope = "envelope" // an envelope.Seal'd protocol message
)

// postRequest is the body of POST /v1/ceremonies/{id}/messages.
type postRequest struct {
	Kind string `json:"kind"`
	Data []byte `json:"data"`
}

// seqResponse is the answer to a post.
type seqResponse struct {
	Seq uint64 `json:"seq"`
}

// postMessage is POST /v1/ceremonies/{id}/messages.
func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, c *call) error {
	rec, err := s.memberOf(r, c)
	if err != nil {
		return err
	}
	var req postRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if len(req.Data) == 0 {
		return &apiError{status: http.StatusBadRequest, code: "bad_message", msg: "message data is empty"}
	}
	m := Message{Kind: req.Kind, From: c.fp(), Data: req.Data, ReceivedAt: s.cfg.Now().UTC()}
	var sl slot
	switch req.Kind {
	case KindControl:
		sl = controlSlot(m.From, m.Data)
	case KindEnvelope:
		h, err := checkEnvelope(&rec, c.fp(), req.Data)
		if err != nil {
			return err
		}
		m.To, sl = h.To, envelopeSlot(h)
	default:
		return &apiError{status: http.StatusBadRequest, code: "bad_message", msg: `message kind must be "control" or "envelope"`}
	}
	res, err := s.store.appendMessage(rec.ID, m, sl, s.cfg.MaxMessages)
	if err != nil {
		return s.postFailure(err)
	}
	if m.Kind == KindControl && !res.duplicate {
		m.Seq = res.seq
		s.hooks.MessagePosted(&rec, m)
	}
	return s.posted(w, c, rec.ID, res)
}

// posted answers a post that the store took (or recognised).
func (s *Server) posted(w http.ResponseWriter, c *call, id string, res appendResult) error {
	if ev := res.equivocation; ev != nil {
		s.log.Warn("equivocation", "ceremony", id, "identity", c.fp(), "name", c.caller.Name,
			"type", ev.Type, "round", ev.Round, "to", ev.To, "first_seq", ev.FirstSeq,
			"first", envelope.Digest(ev.First), "second", envelope.Digest(ev.Second))
		s.audit(audit.Entry{Event: audit.EventEquivocation, Actor: c.caller.Label(), Ceremony: id, Outcome: "refused",
			Culprits: []string{c.caller.Label()}, Detail: fmt.Sprintf("type %d round %d to %s: a second envelope (digest %s) for the slot of seq %d (digest %s)",
				ev.Type, ev.Round, ev.To, envelope.Digest(ev.Second), ev.FirstSeq, envelope.Digest(ev.First))})
		return &apiError{status: http.StatusConflict, code: "equivocation", seq: res.seq,
			msg: fmt.Sprintf("a different envelope for this type, round and recipient is already stored (seq %d): a sender may post only one; both are kept as evidence", res.seq)}
	}
	if res.duplicate {
		writeJSON(w, http.StatusOK, seqResponse{Seq: res.seq})
		return nil
	}
	s.hub.notify(ceremonyTopic(id))
	writeJSON(w, http.StatusCreated, seqResponse{Seq: res.seq})
	return nil
}

// checkEnvelope inspects an envelope posted to ceremony rec by from: its
// signature verifies with the sender's member identity, it belongs to this
// ceremony, comes from the caller and goes to everyone or to one member.
func checkEnvelope(rec *Ceremony, from string, data []byte) (envelope.Header, error) {
	bad := func(format string, args ...any) error {
		return &apiError{status: http.StatusBadRequest, code: "bad_envelope", msg: fmt.Sprintf(format, args...)}
	}
	h, err := envelope.Inspect(data, rec.member)
	if err != nil {
		return h, bad("%s", err)
	}
	switch {
	case h.Ceremony != rec.ID:
		return h, bad("envelope belongs to ceremony %q, not this one", h.Ceremony)
	case h.From != from:
		return h, bad("envelope is from %s, not from the identity that posts it (%s)", h.From, from)
	case h.To == from:
		return h, bad("envelope is addressed to its own sender")
	}
	if _, ok := rec.member(h.To); h.To != "" && !ok {
		return h, bad("envelope is addressed to %s, who is not a member of this ceremony", h.To)
	}
	return h, nil
}

// postFailure turns a store error of appendMessage into its API error.
func (s *Server) postFailure(err error) error {
	switch {
	case errors.Is(err, errQuota):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "quota_exceeded",
			msg: fmt.Sprintf("ceremony message quota exceeded: a ceremony holds at most %d messages", s.cfg.MaxMessages)}
	case errors.Is(err, errNotFound):
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such ceremony on this relay"}
	}
	return err
}

// messagesResponse is the answer to GET /v1/ceremonies/{id}/messages.
type messagesResponse struct {
	Messages []Message `json:"messages"`
	LastSeq  uint64    `json:"last_seq"`
}

// listMessages is GET /v1/ceremonies/{id}/messages?after=N&wait=SECONDS:
// the messages after N the caller may see, waiting for one if there is none.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, c *call) error {
	rec, err := s.memberOf(r, c)
	if err != nil {
		return err
	}
	after, wait, err := s.pollParams(r)
	if err != nil {
		return err
	}
	me := c.fp()
	visible := func(m *Message) bool {
		return m.Kind == KindControl || m.To == "" || m.To == me || m.From == me
	}
	var out []Message
	err = s.longPoll(r, ceremonyTopic(rec.ID), wait, func() (bool, error) {
		var err error
		out, after, err = s.store.messages(rec.ID, after, visible, maxBatchMessages, maxBatchBytes)
		return len(out) > 0, err
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []Message{}
	}
	writeJSON(w, http.StatusOK, messagesResponse{Messages: out, LastSeq: after})
	return nil
}

// inboxResponse is the answer to GET /v1/inbox.
type inboxResponse struct {
	Items   []InboxItem `json:"items"`
	LastSeq uint64      `json:"last_seq"`
}

// inbox is GET /v1/inbox?after=N&wait=SECONDS: the ceremonies that include
// the caller, announced after N.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request, c *call) error {
	after, wait, err := s.pollParams(r)
	if err != nil {
		return err
	}
	var out []InboxItem
	err = s.longPoll(r, inboxTopic(c.fp()), wait, func() (bool, error) {
		var err error
		out, err = s.store.inbox(c.fp(), after, maxBatchMessages)
		return len(out) > 0, err
	})
	if err != nil {
		return err
	}
	if len(out) > 0 {
		after = out[len(out)-1].Seq
	} else {
		out = []InboxItem{}
	}
	writeJSON(w, http.StatusOK, inboxResponse{Items: out, LastSeq: after})
	return nil
}

// pollParams reads after=N and wait=SECONDS (decimals allowed, capped).
func (s *Server) pollParams(r *http.Request) (after uint64, wait time.Duration, err error) {
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "bad_request", msg: "after must be a sequence number"}
		}
	}
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs != secs {
			return 0, 0, &apiError{status: http.StatusBadRequest, code: "bad_request", msg: "wait must be a number of seconds"}
		}
		wait = min(time.Duration(secs*float64(time.Second)), s.cfg.MaxWait)
	}
	return after, wait, nil
}

// longPoll calls read until it finds something, waiting up to wait for an
// append to topic between calls. It subscribes before each read so that an
// append between the read and the wait still wakes it. When the relay
// shuts down it answers 503, which clients retry.
func (s *Server) longPoll(r *http.Request, topic string, wait time.Duration, read func() (bool, error)) error {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		woken, release := s.hub.subscribe(topic)
		found, err := read()
		if err != nil || found || wait <= 0 {
			release()
			return err
		}
		select {
		case <-woken:
			release()
		case <-timer.C:
			release()
			return nil
		case <-r.Context().Done():
			release()
			return nil
		case <-s.stopping:
			release()
			return &apiError{status: http.StatusServiceUnavailable, code: "shutting_down", msg: "relay is shutting down: retry"}
		}
	}
}
