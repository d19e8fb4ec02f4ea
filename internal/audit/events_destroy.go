package audit

// Events of a wallet's destruction after the owners destroyed it on the
// relay: the relay asking the parties to erase their shares, each party's
// erasure, and the wallet's backup exports flagged for destruction.
const (
	// EventEraseRequested: the relay asked the wallet's parties to erase
	// their shares (relay log).
	EventEraseRequested = "wallet.erase-requested"
	// EventPartyErased: a party reported its share erased, or why not
	// (relay log; outcome "erased", "failed" or "rejected").
	EventPartyErased = "wallet.party-erased"
	// EventShareErased: this party erased its share of a destroyed wallet,
	// or failed to (party log; outcome "ok" or "failed").
	EventShareErased = "share.erased"
	// EventBackupFlagged: a released backup export of a destroyed wallet is
	// to be destroyed wherever it was saved (relay log).
	EventBackupFlagged = "backup.flagged-for-destruction"
)
