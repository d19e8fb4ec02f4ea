package control

import "time"

// Wallet statuses.
const (
	StatusCreating  = "creating"  // the DKG is running
	StatusActive    = "active"    // every party holds a share; the wallet signs
	StatusRotating  = "rotating"  // a refresh (rotate-keys) is running
	StatusFailed    = "failed"    // the DKG failed: see error and blamed
	StatusDestroyed = "destroyed" // two owners destroyed it: no more ceremonies
)

// Where a wallet was created.
const (
	SourceAPI = "api" // POST /v1/wallets: the relay ran the DKG
	SourceCLI = "cli" // an operator's paratro wallet create, seen through the relay
)

// Wallet is a wallet as the API shows it. It holds only public facts.
type Wallet struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Chain     string    `json:"chain"`
	Type      string    `json:"type"` // always "mpc"
	Scheme    string    `json:"scheme"`
	Threshold Threshold `json:"threshold"`
	Parties   []Party   `json:"parties"`
	Status    string    `json:"status"`
	// Address, PublicKey (hex; 33-byte compressed for ECDSA, 32-byte
	// x-only for Schnorr), Epoch and ConfigDigest are set once active.
	Address      string `json:"address,omitempty"`
	PublicKey    string `json:"public_key,omitempty"`
	Epoch        uint64 `json:"epoch,omitempty"`
	ConfigDigest string `json:"config_digest,omitempty"`
	// Error says why the DKG failed; Blamed names the parties it points at.
	Error      string    `json:"error,omitempty"`
	Blamed     []string  `json:"blamed,omitempty"`
	CeremonyID string    `json:"ceremony_id,omitempty"` // the DKG's ceremony on the relay
	Source     string    `json:"source"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Deadline is when the DKG gives up, while creating.
	Deadline    time.Time  `json:"deadline,omitzero"`
	Rotation    *Rotation  `json:"rotation,omitempty"` // the latest rotation
	Destroy     *Destroy   `json:"destroy,omitempty"`  // destruction approvals so far
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
	// Erasure is the parties' erasure of their shares, once destroyed.
	Erasure *Erasure `json:"erasure,omitempty"`
}

// Threshold is how many of how many parties sign.
type Threshold struct {
	Required int `json:"required"`
	Total    int `json:"total"`
}

// Party is one key holder of a wallet.
type Party struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
}

// Rotation is a refresh of a wallet's shares (rotate-keys).
type Rotation struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"` // running, done, failed
	FromEpoch   uint64     `json:"from_epoch"`
	ToEpoch     uint64     `json:"to_epoch,omitempty"`
	CeremonyID  string     `json:"ceremony_id,omitempty"`
	RequestedBy string     `json:"requested_by"`
	StartedAt   time.Time  `json:"started_at"`
	Deadline    time.Time  `json:"deadline"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Error       string     `json:"error,omitempty"`
}

// Rotation statuses.
const (
	RotationRunning = "running"
	RotationDone    = "done"
	RotationFailed  = "failed"
)

// Destroy is the approvals given so far to destroy a wallet.
type Destroy struct {
	Approvals []Approval `json:"approvals"`
	Needed    int        `json:"needed"`
}

// Approval is one owner's approval.
type Approval struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
}

// Signature is a signing request made through the API and its result.
type Signature struct {
	ID     string `json:"id"`
	Wallet string `json:"wallet"`
	Status string `json:"status"` // pending, signed, failed, rejected
	Digest string `json:"digest"`
	// Signers are the parties asked to sign (names); empty: the first to approve.
	Signers []string `json:"signers,omitempty"`
	// SignedBy are the parties that signed.
	SignedBy    []string   `json:"signed_by,omitempty"`
	Signature   string     `json:"signature,omitempty"` // hex: r||s||v for ECDSA, 64 bytes for Schnorr
	Reason      string     `json:"reason,omitempty"`    // why it failed or was rejected
	Blamed      []string   `json:"blamed,omitempty"`
	Epoch       uint64     `json:"epoch"`
	CeremonyID  string     `json:"ceremony_id,omitempty"`
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	Deadline    time.Time  `json:"deadline"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
}

// Signature statuses.
const (
	SigPending  = "pending"
	SigSigned   = "signed"
	SigFailed   = "failed"
	SigRejected = "rejected"
)

// Action is an operation waiting for its requester's TOTP code, as the
// API shows it.
type Action struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // "rotate-keys"
	Wallet    string    `json:"wallet"`
	Status    string    `json:"status"` // pending, confirmed
	ExpiresAt time.Time `json:"expires_at"`
	Confirm   string    `json:"confirm"` // the call that confirms it
}

// actionRecord is an Action as stored: with who asked.
type actionRecord struct {
	Action
	Operator     string     `json:"operator"` // fingerprint of the requester
	OperatorName string     `json:"operator_name"`
	CreatedAt    time.Time  `json:"created_at"`
	ConfirmedAt  *time.Time `json:"confirmed_at,omitempty"`
}

// Action statuses.
const (
	ActionPending   = "pending"
	ActionConfirmed = "confirmed"
)

// BackupExport is an owner's request to export a party's share backup,
// released after a delay unless another owner cancels it.
type BackupExport struct {
	ID          string     `json:"id"`
	Wallet      string     `json:"wallet"`
	Party       Party      `json:"party"`
	Status      string     `json:"status"` // pending, ready, cancelled, exported
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	AvailableAt time.Time  `json:"available_at"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	CancelledBy string     `json:"cancelled_by,omitempty"`
	ReleasedAt  *time.Time `json:"released_at,omitempty"`
	// ExportedAt is when the requester wrote the file (status exported).
	ExportedAt *time.Time `json:"exported_at,omitempty"`
	// RequesterFingerprint is the requesting owner's, who is told when the
	// export is released or cancelled.
	RequesterFingerprint string `json:"requester_fingerprint"`
}

// Backup export statuses.
const (
	BackupPending   = "pending"
	BackupReady     = "ready"
	BackupCancelled = "cancelled"
)

// Notification tells an operator about something others did.
type Notification struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // an audit event name, e.g. backup.export-requested
	Wallet    string    `json:"wallet,omitempty"`
	Subject   string    `json:"subject,omitempty"` // the id of what it is about
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
}
