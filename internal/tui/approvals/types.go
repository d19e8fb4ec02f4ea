// Package approvals is the bubbletea model of a party's approval inbox: the
// requests waiting for this holder's decision, a detail view with the signer set,
// digest and short authentication string, the progress of running ceremonies and
// a log of recent events.
//
// The model owns no connection: the caller feeds it the messages below with
// tea.Program.Send and receives the holder's decisions through the callback given
// to New. It never reads the clock; the current time comes from WithNow and Tick.
package approvals

import "time"

// Kind is the kind of ceremony a request asks the holder to join.
type Kind string

// The ceremony kinds the inbox knows.
const (
	KindKeygen  Kind = "keygen"
	KindSign    Kind = "sign"
	KindRefresh Kind = "refresh"
	// KindDestroy asks the holder to erase its share of a wallet its
	// owners destroyed on the relay.
	KindDestroy Kind = "destroy"
	// KindPresign asks the holder to make presignatures with other
	// signers, for one-round signing later; it signs nothing itself.
	KindPresign Kind = "presign"
)

// Identity names a holder or operator and the fingerprint of its key.
type Identity struct {
	Name        string
	Fingerprint string
}

// Request is one ceremony waiting for this holder's approval.
type Request struct {
	ID         string
	Kind       Kind
	WalletID   string
	WalletName string
	Chain      string
	Initiator  Identity
	// Operator is set when an operator started the ceremony on a holder's
	// behalf through the relay's API ("for ben via the relay's API").
	Operator string
	Parties  []string
	Required int
	// Digest is the hex digest being signed; Summary says what it is in human
	// terms when that is known. Either may be empty.
	Digest   string
	Summary  string
	Deadline time.Time
	Received time.Time
	// SAS is the short authentication string every party shows the same way,
	// displayed exactly as given.
	SAS string
	// Signers, for presign, name the parties the presignatures are made
	// with (only they, together, can sign with them).
	Signers []string
	// Batch, for presign, is the size of the batch the request opens:
	// approving it approves that many presign requests (the rest of the
	// batch is approved without asking again). 0: a single request.
	Batch int
}

// Header describes this party for the top line of the screen.
type Header struct {
	Operator    string
	Fingerprint string
	Relay       string
	Wallets     int
}

// Decision is the holder's answer to a request, sent out through the callback
// given to New.
type Decision struct {
	ID      string
	Approve bool
	Reason  string
}

// RequestArrived adds a request to the inbox (or replaces one with the same ID).
type RequestArrived struct{ Request Request }

// RequestWithdrawn removes a request that became moot (cancelled, expired, or
// answered elsewhere).
type RequestWithdrawn struct {
	ID     string
	Reason string
}

// Progress reports a running ceremony's state.
type Progress struct {
	ID string
	// Step names what the rounds are of, when not the ceremony's own
	// protocol: "test signature" (keygen and refresh sign a test message
	// with the new shares before confirming them).
	Step    string
	Round   int
	Rounds  int
	Waiting []string
	Elapsed time.Duration
}

// Done ends a running ceremony.
type Done struct {
	ID   string
	OK   bool
	Text string
}

// LogLine adds a line to the log pane. A line with a Key replaces the
// earlier line with the same Key (and moves to the end, with the new time),
// so that a repeating event takes one line.
type LogLine struct {
	Text string
	Key  string
}

// BackgroundState is where a background ceremony is.
type BackgroundState int

// The states of a background ceremony.
const (
	// BackgroundApproved: approved without asking the holder; Text says
	// why (the party's own pool, or a batch the holder approved).
	BackgroundApproved BackgroundState = iota
	BackgroundStarted
	BackgroundDone
	// BackgroundFailed: it failed or ended without running; Text says why.
	BackgroundFailed
)

// Background reports a ceremony the party runs without the holder's
// attention: a presign for the presignature pool. The screen never gives
// it a row of its own; it counts it in one log line per wallet and in the
// presignatures status line. A Background message for a request the
// holder approved (the first of a batch) takes it off the running list.
type Background struct {
	ID       string
	WalletID string
	// Wallet is the wallet as shown (its name, or its ID).
	Wallet string
	State  BackgroundState
	Text   string
}

// PoolCount is how many unused presignatures this party holds for a wallet.
type PoolCount struct {
	WalletID string
	Wallet   string // as shown: its name, or its ID
	Left     int
}

// Presignatures replaces the presignature counts of the wallets this party
// holds ECDSA shares of. The status line under the header shows them once
// one is above zero or a presign ceremony ran.
type Presignatures []PoolCount

// WalletsHeld updates the number of wallets shown in the header.
type WalletsHeld int

// Connected reports the relay connection state.
type Connected bool

// Tick advances the model's clock; the caller sends one every second or so.
type Tick time.Time
