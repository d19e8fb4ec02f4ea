package relay

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Backoff between attempts: doubling from minBackoff to maxBackoff, plus
// up to half again of random jitter so that parties retrying together
// after a relay restart do not arrive in lockstep.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: minBackoff} }

// next returns the delay before the next attempt.
func (b *backoff) next() time.Duration {
	d := b.d
	b.d = min(2*b.d, maxBackoff)
	return d + rand.N(d/2+1)
}

// transient reports whether a failed attempt is worth retrying, and the
// least delay the relay asked for.
func transient(err error) (bool, time.Duration) {
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusBadGateway, ae.Status == http.StatusServiceUnavailable,
			ae.Status == http.StatusGatewayTimeout:
			return true, ae.retryAfter
		case ae.Status == http.StatusTooManyRequests:
			// a rate limit says when to come back; a quota (no Retry-After) does not pass by retrying
			return ae.retryAfter > 0, ae.retryAfter
		case ae.Status == http.StatusUnauthorized && ae.Code == codePredatesStart:
			return true, 0 // the relay restarted just now, or this clock is a little behind it
		}
		return false, 0
	}
	return transientNet(err), 0
}

// transientNet reports whether a transport error may pass: the relay is
// restarting or a connection broke. Certificate, DNS "no such host" and
// other configuration errors are not retried.
func transientNet(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		io.EOF, io.ErrUnexpectedEOF, net.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true // one attempt's own deadline; the caller's context decides when to stop
	}
	msg := err.Error()
	return strings.Contains(msg, "server closed idle connection") || strings.Contains(msg, "GOAWAY") ||
		strings.Contains(msg, "connection reset")
}
