package mfa

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"
)

// Errors returned by Verify, for errors.Is. The returned errors wrap these
// with details ("code rejected (3 of 5 attempts left)", "... locked out
// until 14:05:09 UTC"); none of them contains the secret or the code.
var (
	ErrInvalidCode = errors.New("code rejected")
	ErrReused      = errors.New("code already used; wait for the next one")
	ErrLockedOut   = errors.New("too many wrong codes; locked out")
	// ErrBadSecret means the stored secret is not valid base32: a server
	// fault, not the operator's, so it does not count as a failure.
	ErrBadSecret = errors.New("mfa: stored TOTP secret is malformed")
)

// Defaults for Verifier.
const (
	DefaultMaxFailures = 5
	DefaultLockout     = 15 * time.Minute
)

// State is what a Verifier remembers about one operator.
type State struct {
	// LastStep is the last accepted time step (Unix seconds / Period);
	// meaningful only when HasLast. Codes for this step or earlier are refused.
	LastStep uint64 `json:"last_step"`
	HasLast  bool   `json:"has_last"`
	// Failures counts consecutive rejected attempts since the last success
	// or the last lockout.
	Failures int `json:"failures"`
	// LockedUntil: attempts before this instant are refused.
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// Store keeps State per operator. Save must be durable before it returns:
// Verify reports success only after the accepted step is saved.
type Store interface {
	// Load returns the operator's state, the zero State if there is none.
	Load(operator string) (State, error)
	Save(operator string, st State) error
}

// Verifier checks TOTP codes against a Store. Its methods are safe for
// concurrent use; one Verifier (one process) should own a Store.
type Verifier struct {
	store       Store
	maxFailures int
	lockout     time.Duration
	mu          sync.Mutex
}

// NewVerifier returns a Verifier with DefaultMaxFailures and DefaultLockout.
func NewVerifier(store Store) *Verifier {
	return &Verifier{store: store, maxFailures: DefaultMaxFailures, lockout: DefaultLockout}
}

// SetLockout sets how many consecutive failures lock an operator out and
// for how long. Values ≤ 0 keep the current setting.
func (v *Verifier) SetLockout(maxFailures int, d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if maxFailures > 0 {
		v.maxFailures = maxFailures
	}
	if d > 0 {
		v.lockout = d
	}
}

// Verify checks code for operator against secret (base32, as from
// Enrollment.Secret) at time now, RFC 6238 with one step of skew either side.
//
// Order of checks:
//  1. locked out (now < LockedUntil) → ErrLockedOut, whatever the code;
//     attempts during a lockout neither count nor extend it;
//  2. code not exactly 6 ASCII digits → ErrInvalidCode, counted as a
//     failure (a malformed code is still a guess at the second factor);
//  3. code matches no step in [now-1, now+1] → ErrInvalidCode, counted;
//     the failure that reaches the limit returns ErrLockedOut instead and
//     starts the lockout (failure count reset to zero);
//  4. the matching step is ≤ the last accepted step → ErrReused, not counted
//     as a failure (it is a replay, not a guess: the caller should audit it);
//  5. otherwise the step is saved as the last accepted one, the failure
//     count reset, and Verify returns nil.
//
// Any Store error is returned (and the code is not accepted).
func (v *Verifier) Verify(operator, secret, code string, now time.Time) error {
	if operator == "" {
		return errors.New("mfa: verify needs an operator ID")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	st, err := v.store.Load(operator)
	if err != nil {
		return fmt.Errorf("mfa: loading state: %w", err)
	}
	if now.Before(st.LockedUntil) {
		return lockedErr(st.LockedUntil)
	}
	step, matched, err := matchStep(secret, code, now)
	if err != nil {
		return err
	}
	if !matched {
		st.Failures++
		var ret error
		if st.Failures >= v.maxFailures {
			st.Failures = 0
			st.LockedUntil = now.Add(v.lockout)
			ret = lockedErr(st.LockedUntil)
		} else {
			ret = fmt.Errorf("%w (%d of %d attempts left)", ErrInvalidCode, v.maxFailures-st.Failures, v.maxFailures)
		}
		if err := v.store.Save(operator, st); err != nil {
			return fmt.Errorf("mfa: saving state: %w", err)
		}
		return ret
	}
	if st.HasLast && step <= st.LastStep {
		return ErrReused
	}
	st.LastStep, st.HasLast = step, true
	st.Failures = 0
	st.LockedUntil = time.Time{}
	if err := v.store.Save(operator, st); err != nil {
		return fmt.Errorf("mfa: saving state: %w", err)
	}
	return nil
}

func lockedErr(until time.Time) error {
	return fmt.Errorf("%w until %s UTC", ErrLockedOut, until.UTC().Format("15:04:05"))
}

// wellFormed reports whether code is exactly Digits ASCII digits.
func wellFormed(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// matchStep returns the highest time step in [now-Skew, now+Skew] whose
// code equals code. Every candidate is generated and compared in constant
// time, so timing does not tell which step (if any) matched.
func matchStep(secret, code string, now time.Time) (step uint64, matched bool, err error) {
	opts := validateOpts()
	form := wellFormed(code)
	unix := now.Unix()
	if unix < 0 {
		return 0, false, nil
	}
	cur := uint64(unix) / Period
	for s := cur + Skew; ; s-- {
		want, gerr := totp.GenerateCodeCustom(secret, time.Unix(int64(s*Period), 0).UTC(), opts)
		if gerr != nil {
			return 0, false, ErrBadSecret // the library's error says nothing secret, but keep ours fixed
		}
		if form && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !matched {
			step, matched = s, true
		}
		if s == 0 || s == cur-Skew {
			break
		}
	}
	return step, matched, nil
}
