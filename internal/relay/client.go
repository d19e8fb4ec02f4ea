package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paratro/paratro/internal/identity"
)

// ClientOptions tune a Client. The zero value is fine for a relay whose
// certificate the system trusts, or a plain-HTTP relay on loopback.
type ClientOptions struct {
	// HTTPClient replaces the client's own; give it or CAFile, not both.
	HTTPClient *http.Client
	// CAFile is a PEM file of certificates to trust for an https relay
	// instead of the system's roots (a relay with a private CA or a
	// self-signed certificate).
	CAFile string
	// Now is the clock requests are signed with; nil means time.Now.
	Now func() time.Time
	// OnConnection, if set, is told when the relay first answers and
	// answers again (true), and when it stops answering (a transient
	// failure that will be retried: false). It is called only on changes,
	// from the calling goroutine, and must not block.
	OnConnection func(connected bool)
}

// Client talks to a relay as one identity. Every call signs its request
// and retries transient failures (connection refused or reset, 502, 503,
// 504, 429 with Retry-After) with backoff until its context ends, signing
// each attempt afresh, so parties ride through a relay restart. Posting is
// safe to retry: the relay recognises a message it already has. A Client
// keeps its connections alive and is safe for concurrent use.
type Client struct {
	base *url.URL
	id   *identity.Identity
	hc   *http.Client
	now  func() time.Time

	mu  sync.Mutex
	otp string // a TOTP code for the next state-changing call

	onConn func(bool)
	down   atomic.Bool
}

// NewClient returns a client of the relay at baseURL (http or https) that
// acts as id.
func NewClient(baseURL string, id *identity.Identity, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("relay: invalid relay URL %q: want http(s)://host:port", baseURL)
	}
	if id == nil {
		return nil, errors.New("relay: a client needs an identity")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	hc, err := httpClient(opts)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	c := &Client{base: u, id: id, hc: hc, now: now, onConn: opts.OnConnection}
	c.down.Store(true) // until the relay first answers
	return c, nil
}

// httpClient is opts.HTTPClient, or a client of its own with keep-alive
// connections and TLS 1.3 trusting opts.CAFile when given.
func httpClient(opts ClientOptions) (*http.Client, error) {
	if opts.HTTPClient != nil {
		if opts.CAFile != "" {
			return nil, errors.New("relay: give either an HTTP client or a CA file, not both")
		}
		return opts.HTTPClient, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32 // long-polls and posts of several ceremonies at once
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS13}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("relay: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("relay: no PEM certificate in %s", opts.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr}, nil
}

// Register puts the client's identity on the relay's roster. Registering
// again is harmless.
func (c *Client) Register(ctx context.Context) error {
	return c.do(ctx, http.MethodPut, "/v1/identities/self", nil, c.id.Public, nil)
}

// Roster returns the identities registered with the relay, by name.
func (c *Client) Roster(ctx context.Context) ([]identity.Public, error) {
	var out struct {
		Identities []identity.Public `json:"identities"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/identities", nil, nil, &out)
	return out.Identities, err
}

// CreateCeremony opens a ceremony and announces it in the other members'
// inboxes. Creating the same ceremony again is harmless; a different one
// under the same ID fails with a 409 *APIError.
func (c *Client) CreateCeremony(ctx context.Context, cc CreateCeremony) error {
	return c.do(ctx, http.MethodPost, "/v1/ceremonies", nil, cc, nil)
}

// Ceremony returns ceremony id; only its members may read it.
func (c *Client) Ceremony(ctx context.Context, id string) (*Ceremony, error) {
	var out Ceremony
	if err := c.do(ctx, http.MethodGet, "/v1/ceremonies/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Post appends a message of kind (KindControl or KindEnvelope) to ceremony
// id's log and returns its sequence number. Posting the same message
// again returns the same number; a different envelope for a slot already
// taken fails with a 409 *APIError whose Code is "equivocation".
func (c *Client) Post(ctx context.Context, ceremonyID, kind string, data []byte) (uint64, error) {
	var out seqResponse
	in := postRequest{Kind: kind, Data: data}
	err := c.do(ctx, http.MethodPost, "/v1/ceremonies/"+url.PathEscape(ceremonyID)+"/messages", nil, in, &out)
	return out.Seq, err
}

// Messages returns the messages of ceremony id after sequence number after
// that this identity may see. When there are none it waits up to wait for
// one (the relay caps a single wait at 30 s) and may return none.
func (c *Client) Messages(ctx context.Context, ceremonyID string, after uint64, wait time.Duration) ([]Message, error) {
	var out messagesResponse
	err := c.do(ctx, http.MethodGet, "/v1/ceremonies/"+url.PathEscape(ceremonyID)+"/messages", newPoll(after, wait), nil, &out)
	return out.Messages, err
}

// Inbox returns the ceremonies including this identity announced after
// sequence number after, waiting up to wait for one when there are none.
func (c *Client) Inbox(ctx context.Context, after uint64, wait time.Duration) ([]InboxItem, error) {
	var out inboxResponse
	err := c.do(ctx, http.MethodGet, "/v1/inbox", newPoll(after, wait), nil, &out)
	return out.Items, err
}

// Health checks that the relay answers.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// poll is a long-poll: items after a sequence number, waiting until end.
// Each attempt waits only for what is left, so retries do not stretch it.
type poll struct {
	after uint64
	end   time.Time
}

func newPoll(after uint64, wait time.Duration) *poll {
	return &poll{after: after, end: time.Now().Add(wait)}
}

// query is the query string of an attempt made now, and how long it waits.
func (p *poll) query() (string, time.Duration) {
	rem := max(time.Until(p.end), 0)
	return "after=" + strconv.FormatUint(p.after, 10) + "&wait=" + strconv.FormatFloat(rem.Seconds(), 'f', 3, 64), rem
}

// APIError is a request the relay refused.
type APIError struct {
	Status  int    // HTTP status
	Code    string // machine-readable reason, e.g. "forbidden", "equivocation"
	Message string // what happened and what to do, for people

	retryAfter time.Duration
}

// Error returns "relay: <message> (HTTP <status>)".
func (e *APIError) Error() string {
	return fmt.Sprintf("relay: %s (HTTP %d)", e.Message, e.Status)
}

// maxResponse caps a response body the client reads.
const maxResponse = 64 << 20

// attemptSlack is how long an attempt may take beyond its long-poll wait
// before the client gives up on the connection and retries.
const attemptSlack = time.Minute

// do sends one API call, retrying transient failures until ctx ends. in
// (when not nil) is sent as JSON; a 2xx answer is decoded into out (when
// not nil); p (when not nil) makes it a long-poll.
func (c *Client) do(ctx context.Context, method, path string, p *poll, in, out any) error {
	var otp string
	if method != http.MethodGet {
		c.mu.Lock()
		otp, c.otp = c.otp, ""
		c.mu.Unlock()
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	b := newBackoff()
	for {
		err := c.attempt(ctx, method, path, p, body, out, otp)
		retry, after := false, time.Duration(0)
		if err != nil {
			retry, after = transient(err)
		}
		if err == nil || ctx.Err() == nil { // a call given up by its caller says nothing about the relay
			c.noteConnection(err == nil || !retry)
		}
		if err == nil {
			return nil
		}
		if !retry || ctx.Err() != nil {
			return c.finalError(ctx, err)
		}
		t := time.NewTimer(max(b.next(), after))
		select {
		case <-ctx.Done():
			t.Stop()
			return c.finalError(ctx, err)
		case <-t.C:
		}
	}
}

// noteConnection tells OnConnection about a change: the relay answered
// (up, even with an error of its own) or an attempt failed in a way worth
// retrying (down).
func (c *Client) noteConnection(up bool) {
	if c.onConn == nil {
		return
	}
	if c.down.Swap(!up) == up { // it was down and is up, or the reverse
		c.onConn(up)
	}
}

// finalError is the error of a call that will not be retried.
func (c *Client) finalError(ctx context.Context, err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ctx.Err() == nil {
		return ae
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("relay %s: %w (last error: %v)", c.base.Host, ctx.Err(), err)
	}
	return fmt.Errorf("relay %s: %w", c.base.Host, err)
}

// attempt sends the call once, signed now.
func (c *Client) attempt(ctx context.Context, method, path string, p *poll, body []byte, out any, otp string) error {
	u := *c.base
	// A path may carry a query ("/v1/backup-exports?wallet=…"); the
	// request's signature covers it (SigningString takes RequestURI).
	path, u.RawQuery, _ = strings.Cut(path, "?")
	u.Path += path
	var wait time.Duration
	if p != nil {
		var q string
		q, wait = p.query()
		u.RawQuery = strings.TrimPrefix(u.RawQuery+"&"+q, "&")
	}
	actx, cancel := context.WithTimeout(ctx, wait+attemptSlack)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if otp != "" {
		req.Header.Set(HeaderOTP, otp)
	}
	SignRequest(req, c.id, body, c.now())
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp, raw)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("unreadable answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return nil
}

// readAPIError reads an error response; bodies that are not the relay's JSON
// (a proxy's error page) keep the status text.
func readAPIError(resp *http.Response, raw []byte) *APIError {
	e := &APIError{Status: resp.StatusCode}
	var eb errorBody
	if json.Unmarshal(raw, &eb) == nil && eb.Message != "" {
		e.Code, e.Message = eb.Error, eb.Message
	} else {
		e.Message = strings.ToLower(http.StatusText(resp.StatusCode))
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.retryAfter = time.Duration(s) * time.Second
		// The relay's own answer says it to the millisecond; never longer
		// than the header (a proxy may have set its own).
		if ms := time.Duration(eb.RetryAfterMS) * time.Millisecond; ms > 0 && ms < e.retryAfter {
			e.retryAfter = ms
		}
	}
	return e
}
