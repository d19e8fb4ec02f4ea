package control

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/coord"
	"github.com/paratro/paratro/internal/relay"
)

// postTimeout bounds how long a request waits for its ceremony to be
// posted to the relay before answering.
const postTimeout = 30 * time.Second

// result is how a ceremony the plane ran ended.
type result struct {
	ceremony string
	report   *coord.Report // on success
	err      error
}

// launch runs req in the background as the relay, for the record with id
// rec, and returns once the relay holds the ceremony (its id), or with
// the error that kept it from being posted; then done is called with the
// result, unless the plane stopped first (the record is settled later
// from the parties' outcomes or its deadline).
func (p *Plane) launch(rec string, req *coord.Request, done func(result)) (string, error) {
	return p.launchFunc(rec, func(ctx context.Context, r coord.Relay) (func(id string), error) {
		rep, err := coord.Initiate(ctx, r, p.self, req, nil)
		return func(id string) { done(result{ceremony: id, report: rep, err: err}) }, err
	})
}

// launchFunc is launch for any initiator's run: run posts the ceremony
// through r and follows it; the function it returns is called with the
// ceremony's id once run ended, unless the ceremony was never posted or
// the plane stopped first.
func (p *Plane) launchFunc(rec string, run func(ctx context.Context, r coord.Relay) (func(id string), error)) (string, error) {
	ctx, cancel := context.WithCancel(p.ctx)
	w := &postWatch{Relay: p.local, posted: make(chan posted, 1)}
	p.track(rec, true)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		defer p.track(rec, false)
		finish, err := run(ctx, w)
		id := w.send("", err)
		if id == "" || p.ctx.Err() != nil {
			return // never posted (launch reports why), or the relay is stopping
		}
		finish(id)
	}()
	select {
	case r := <-w.posted:
		return r.id, postError(r.err)
	case <-time.After(postTimeout):
		cancel()
		return "", relay.Error(http.StatusServiceUnavailable, "busy", "the relay could not post the ceremony in time: try again shortly")
	case <-p.ctx.Done():
		return "", relay.Error(http.StatusServiceUnavailable, "stopping", "the relay is stopping: try again once it is back")
	}
}

// postError turns the relay's refusal of a ceremony into the caller's
// API error; other errors stay internal.
func postError(err error) error {
	var ae *relay.APIError
	if errors.As(err, &ae) {
		return relay.Error(ae.Status, ae.Code, "the relay could not start the ceremony: "+ae.Message)
	}
	return err
}

// track notes that this process runs (or no longer runs) the ceremony of
// record rec, so the sweeper leaves it alone.
func (p *Plane) track(rec string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.running[rec] = true
	} else {
		delete(p.running, rec)
	}
}

func (p *Plane) isRunning(rec string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running[rec]
}

// postWatch is the relay client of one ceremony: it reports when the
// ceremony is posted (or fails to be).
type postWatch struct {
	coord.Relay
	once   sync.Once
	posted chan posted
	id     string
}

type posted struct {
	id  string
	err error
}

func (w *postWatch) CreateCeremony(ctx context.Context, c relay.CreateCeremony) error {
	err := w.Relay.CreateCeremony(ctx, c)
	w.send(c.ID, err)
	return err
}

// send reports the first posting result and returns the posted id ("" if
// the ceremony was never posted).
func (w *postWatch) send(id string, err error) string {
	w.once.Do(func() {
		if err == nil {
			w.id = id
		}
		w.posted <- posted{id: w.id, err: err}
	})
	return w.id
}

// failure is why a ceremony failed, for people: the message and the
// parties it points at.
type failure struct {
	msg      string
	blamed   []string
	rejected bool
}

// failureOf explains an error of coord.Initiate.
func failureOf(err error) failure {
	var rej *coord.RejectedError
	var fail *coord.FailedError
	f := failure{msg: ceremony.SanitizeN(err.Error(), 1000)}
	switch {
	case errors.As(err, &rej):
		f.rejected = true
		f.blamed = strings.Split(rej.By, ", ")
	case errors.As(err, &fail):
		f.blamed = fail.Blamed()
	case errors.Is(err, context.Canceled):
		f.msg = "the ceremony was abandoned before it finished"
	}
	return f
}
