package shares

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	maxWalletIDLen = 64
	maxPartyIDLen  = 32
	shareSuffix    = ".share"
	stateName      = "state"
	tempPrefix     = ".tmp-"
)

// validateWalletID checks that id matches [A-Za-z0-9_-]{1,64}.
func validateWalletID(id string) error {
	ok := len(id) >= 1 && len(id) <= maxWalletIDLen
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	if !ok {
		return errorf(ErrInvalid, "invalid wallet id %q: use 1 to %d letters, digits, '_' or '-'", id, maxWalletIDLen)
	}
	return nil
}

// validatePartyID checks that id is 1 to 32 bytes of printable ASCII.
func validatePartyID(id string) error {
	ok := len(id) >= 1 && len(id) <= maxPartyIDLen
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] >= 0x20 && id[i] <= 0x7e
	}
	if !ok {
		return errorf(ErrInvalid, "invalid party id %q: use 1 to %d printable ASCII characters", id, maxPartyIDLen)
	}
	return nil
}

// slot is the directory that holds every epoch of one party's share of one
// wallet: <store>/shares/<walletID>/<hex(partyID)>.
type slot struct {
	wallet, party string
	dir           string
}

// newSlot validates both IDs and returns the slot they name under root.
func newSlot(root, walletID, partyID string) (slot, error) {
	if err := validateWalletID(walletID); err != nil {
		return slot{}, err
	}
	if err := validatePartyID(partyID); err != nil {
		return slot{}, err
	}
	dir := filepath.Join(root, sharesDirName, walletID, hex.EncodeToString([]byte(partyID)))
	return slot{wallet: walletID, party: partyID, dir: dir}, nil
}

// slotFromDirNames reverses newSlot for a directory found on disk; ok is
// false for names the store would never have written.
func slotFromDirNames(root, walletDir, partyDir string) (slot, bool) {
	party, err := hex.DecodeString(partyDir)
	if err != nil || hex.EncodeToString(party) != partyDir {
		return slot{}, false
	}
	sl, err := newSlot(root, walletDir, string(party))
	return sl, err == nil
}

func (sl slot) sharePath(epoch uint64) string {
	return filepath.Join(sl.dir, strconv.FormatUint(epoch, 10)+shareSuffix)
}

func (sl slot) statePath() string { return filepath.Join(sl.dir, stateName) }

// shareEpoch parses the epoch out of a share file name ("12.share").
func shareEpoch(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, shareSuffix)
	if !ok {
		return 0, false
	}
	epoch, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || epoch == 0 || strconv.FormatUint(epoch, 10) != digits {
		return 0, false
	}
	return epoch, true
}

// shareSubject names one epoch of a share in messages.
func (sl slot) shareSubject(epoch uint64) string {
	return fmt.Sprintf("share for %s (party %s, epoch %d)", sl.wallet, sl.party, epoch)
}

// stateSubject names the slot's state manifest in messages.
func (sl slot) stateSubject() string {
	return fmt.Sprintf("share state for %s (party %s)", sl.wallet, sl.party)
}
