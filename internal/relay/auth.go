package relay

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/paratro/paratro/internal/identity"
)

// Headers of a signed relay request.
const (
	HeaderKey       = "Paratro-Key"       // hex Ed25519 public key of the caller
	HeaderTimestamp = "Paratro-Timestamp" // unix milliseconds
	HeaderNonce     = "Paratro-Nonce"     // 32 hex characters (16 random bytes)
	HeaderSignature = "Paratro-Signature" // hex Ed25519 signature over SigningString
)

// requestDomain starts every signed request, so the signature cannot be
// taken for any other paratro signature.
const requestDomain = "paratro-relay-request/v1\n"

// nonceLen is the length of a nonce in hex characters.
const nonceLen = 32

// SigningString is what a request's signature covers:
//
//	"paratro-relay-request/v1\n" METHOD "\n" RequestURI "\n" timestamp "\n" nonce "\n" hex(sha256(body))
//
// requestURI is the path and query exactly as sent on the request line.
func SigningString(method, requestURI, timestamp, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	s := requestDomain + method + "\n" + requestURI + "\n" + timestamp + "\n" + nonce + "\n" + hex.EncodeToString(sum[:])
	return []byte(s)
}

// SignRequest sets the four authentication headers on req, whose body is
// body, signing as id at time now with a fresh nonce. req.URL.RequestURI()
// must be what goes on the request line.
func SignRequest(req *http.Request, id *identity.Identity, body []byte, now time.Time) {
	var n [nonceLen / 2]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never fails
	nonce := hex.EncodeToString(n[:])
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	sig := id.Sign(SigningString(req.Method, req.URL.RequestURI(), ts, nonce, body))
	req.Header.Set(HeaderKey, hex.EncodeToString(id.SigningKey))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, hex.EncodeToString(sig))
}

// authError is why a request's signature was refused; its code is sent.
type authError struct{ code, msg string }

func (e *authError) Error() string { return e.msg }

var errNonceCacheFull = errors.New("nonce cache full")

// authenticator checks signed requests: the signature, the timestamp
// window and that no nonce is used twice.
type authenticator struct {
	now     func() time.Time
	skew    time.Duration
	started int64 // unix ms: requests signed earlier are refused (they may be replays from before a restart)
	nonces  *nonceCache
}

func newAuthenticator(now func() time.Time, skew time.Duration) *authenticator {
	return &authenticator{now: now, skew: skew, started: now().UnixMilli(),
		nonces: newNonceCache(maxNonces)}
}

// verify checks the headers of r against body and returns the caller's
// signing key.
func (a *authenticator) verify(r *http.Request, body []byte) (ed25519.PublicKey, error) {
	h := r.Header
	keyHex, tsStr, nonce, sigHex := h.Get(HeaderKey), h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature)
	if keyHex == "" || tsStr == "" || nonce == "" || sigHex == "" {
		return nil, &authError{"unauthenticated", "request is not signed: send the Paratro-Key, Paratro-Timestamp, Paratro-Nonce and Paratro-Signature headers (the paratro client does)"}
	}
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, &authError{"bad_signature", "Paratro-Key is not a hex Ed25519 public key"}
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, &authError{"bad_signature", "Paratro-Signature is not a hex Ed25519 signature"}
	}
	if len(nonce) != nonceLen || !isLowerHex(nonce) {
		return nil, &authError{"bad_signature", "Paratro-Nonce must be 32 lower-case hex characters"}
	}
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return nil, &authError{"bad_signature", "Paratro-Timestamp must be unix milliseconds"}
	}
	if err := a.checkTime(ts); err != nil {
		return nil, err
	}
	if !ed25519.Verify(key, SigningString(r.Method, r.RequestURI, tsStr, nonce, body), sig) {
		return nil, &authError{"bad_signature", "request signature does not verify: the request was altered or signed with another key"}
	}
	switch err := a.nonces.add(nonce, time.UnixMilli(ts).Add(a.skew), a.now()); {
	case errors.Is(err, errNonceCacheFull):
		return nil, err
	case err != nil:
		return nil, &authError{"replayed", "request nonce already used: sign every request afresh"}
	}
	return key, nil
}

// checkTime refuses a timestamp outside the window around now, or from
// before this relay started.
func (a *authenticator) checkTime(ts int64) error {
	now := a.now()
	t := time.UnixMilli(ts)
	if t.Before(now.Add(-a.skew)) || t.After(now.Add(a.skew)) {
		return &authError{"clock_skew", "request timestamp is more than " + a.skew.String() +
			" away from the relay's clock (" + now.UTC().Format(time.RFC3339) + "): check this machine's clock"}
	}
	if ts < a.started {
		return &authError{codePredatesStart, "request was signed before the relay started: sign it again"}
	}
	return nil
}

// codePredatesStart is the one 401 the client retries: a request signed
// just before a relay restart, or by a client whose clock is slightly behind.
const codePredatesStart = "request_predates_start"

// nonceCache remembers nonces until their request could no longer pass the
// timestamp check.
type nonceCache struct {
	mu      sync.Mutex
	max     int
	seen    map[string]time.Time // nonce -> forget after
	nextGC  time.Time
	gcEvery time.Duration
}

func newNonceCache(max int) *nonceCache {
	return &nonceCache{max: max, seen: make(map[string]time.Time), gcEvery: 5 * time.Second}
}

// add records nonce until expiry, or fails if it is already known. Expired
// nonces are swept every gcEvery; a cache that is full until the next
// sweep refuses new nonces (the relay answers 503, clients retry).
func (c *nonceCache) add(nonce string, expiry, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.nextGC) {
		for n, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, n)
			}
		}
		c.nextGC = now.Add(c.gcEvery)
	}
	if _, ok := c.seen[nonce]; ok {
		return errors.New("replayed nonce")
	}
	if len(c.seen) >= c.max {
		return errNonceCacheFull
	}
	c.seen[nonce] = expiry
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
