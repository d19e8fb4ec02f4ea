package shares_test

import (
	"fmt"
	"log"
	"os"

	"github.com/paratro/paratro/shares"
	"github.com/paratro/paratro/shares/sharestest"
)

// A keygen stores epoch 1 and commits it; a refresh stores epoch 2 as
// pending and commits it once every party has confirmed.
func Example() {
	dir, err := os.MkdirTemp("", "paratro-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Real programs use shares.NewOSKeyring("paratro", 0) or
	// shares.OpenFileKeyring(path, passphrase).
	store, err := shares.Open(dir, sharestest.NewMemoryKeyring())
	if err != nil {
		log.Fatal(err)
	}
	meta := shares.Meta{WalletID: "wal_abc123", PartyID: "alice", Epoch: 1, Scheme: shares.SchemeECDSA,
		Required: 2, Parties: []string{"alice", "bob", "carol"}}
	for epoch := uint64(1); epoch <= 2; epoch++ {
		meta.Epoch = epoch
		sh := &shares.Share{Meta: meta, Secret: []byte("the library's serialised config")}
		if err := store.PutPending(sh); err != nil {
			log.Fatal(err)
		}
		sh.Wipe()
		// ... all parties confirm the new configuration ...
		if err := store.Commit("wal_abc123", "alice", epoch); err != nil {
			log.Fatal(err)
		}
	}

	sh, err := store.Active("wal_abc123", "alice")
	if err != nil {
		log.Fatal(err)
	}
	defer sh.Wipe()
	fmt.Println(sh)
	// Output: share for wal_abc123 (party alice, epoch 2, ecdsa 2-of-3, secret redacted)
}
