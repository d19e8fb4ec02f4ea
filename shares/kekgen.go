package shares

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// kekGenName is the file that records which generation of the store's KEK
// is in use, and a rotation in progress. Without it the store is at
// generation 1, whose keyring entry is the original "paratro-share-kek/<id>".
const kekGenName = "kek-gen"

// kekState is the contents of kek-gen:
//
//	gen 3                          generation 3 is in use
//	gen 3 next 4 drop <wallet> <hex(party)>  rotating to 4; that slot is being erased
//	gen 4 old 3                    rotated to 4; generation 3 is still to be deleted
//
// A rotation writes the "next" line before it changes anything, so that
// whoever opens the store after a crash finishes it (see finishRotation).
type kekState struct {
	gen, next, old uint64
	// dropWallet and dropParty name the slot a rotation erases (hex party,
	// as the directory is named); empty when it erases none.
	dropWallet, dropParty string
}

// kekNameOf is the keyring entry of generation gen.
func (s *Store) kekNameOf(gen uint64) string {
	if gen <= 1 {
		return kekNamePrefix + s.id
	}
	return kekNamePrefix + s.id + "/" + strconv.FormatUint(gen, 10)
}

func (s *Store) readKEKState() (kekState, error) {
	path := filepath.Join(s.dir, kekGenName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return kekState{gen: 1}, nil
	}
	if err != nil {
		return kekState{}, err
	}
	st, ok := parseKEKState(string(data))
	if !ok {
		return kekState{}, errorf(ErrCorrupt, "%s is not a paratro key generation record", path)
	}
	return st, nil
}

func parseKEKState(text string) (kekState, bool) {
	f := strings.Fields(text)
	num := func(i int) uint64 {
		if i >= len(f) {
			return 0
		}
		n, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	st := kekState{gen: num(1)}
	switch {
	case len(f) == 2 && f[0] == "gen":
	case len(f) == 4 && f[0] == "gen" && f[2] == "old":
		st.old = num(3)
	case len(f) == 4 && f[0] == "gen" && f[2] == "next":
		st.next = num(3)
	case len(f) == 7 && f[0] == "gen" && f[2] == "next" && f[4] == "drop":
		st.next, st.dropWallet, st.dropParty = num(3), f[5], f[6]
		if _, ok := slotFromDirNames("/", st.dropWallet, st.dropParty); !ok {
			return kekState{}, false
		}
	default:
		return kekState{}, false
	}
	ok := st.gen != 0 && (st.old == 0 || st.old < st.gen)
	if len(f) >= 4 && (f[2] == "old" && st.old == 0 || f[2] == "next" && st.next != st.gen+1) {
		ok = false
	}
	return st, ok
}

func (st kekState) String() string {
	switch {
	case st.next != 0 && st.dropWallet != "":
		return fmt.Sprintf("gen %d next %d drop %s %s\n", st.gen, st.next, st.dropWallet, st.dropParty)
	case st.next != 0:
		return fmt.Sprintf("gen %d next %d\n", st.gen, st.next)
	case st.old != 0:
		return fmt.Sprintf("gen %d old %d\n", st.gen, st.old)
	}
	return fmt.Sprintf("gen %d\n", st.gen)
}

func (s *Store) writeKEKState(st kekState) error {
	return writeFileAtomic(filepath.Join(s.dir, kekGenName), []byte(st.String()), s.hooks)
}

// unfinished reports whether a rotation was interrupted: a slot still to
// erase, files still to re-seal, or an old key still to delete.
func (st kekState) unfinished() bool { return st.next != 0 || st.old != 0 }
