// Package shares stores the secret key shares of threshold (MPC) wallets on
// the holder's machine.
//
// A share is one party's serialised threshold configuration (3 to 5 KB for
// CMP): too large for some OS keyrings, and secret. So a [Store] keeps a
// 256-bit key-encryption key (KEK) in a [Keyring] and seals every share with
// AES-256-GCM into its own file. The associated data binds each file to its
// wallet, party and epoch, so a file that is edited, truncated, or moved to
// another wallet's or party's directory fails to open with [ErrAuth] or
// [ErrCorrupt] instead of yielding a wrong share.
//
// Three keyrings are provided: [NewOSKeyring] (Secret Service, macOS
// Keychain, Windows Credential Manager), [OpenFileKeyring] (a passphrase
// file for headless machines) and, for tests, sharestest.NewMemoryKeyring.
//
// # Epochs and refresh
//
// A key refresh gives every party a new share of the same key, and the new
// shares may only replace the old ones once every party holds one. Shares
// are therefore stored in two phases:
//
//	store.PutPending(newShare)            // epoch n+1 is pending, epoch n stays active
//	store.Commit(wallet, party, n+1)      // after all parties confirmed: n+1 active, n wiped
//	store.Discard(wallet, party, n+1)     // or: forget n+1, keep n
//
// A wallet's first share, from keygen, is epoch 1 and is committed the same
// way. Every step replaces files atomically, so a crash leaves the store in
// the state before the step or after it.
//
// # Destruction
//
// [Store.Destroy] erases one wallet's share for good: its files are
// overwritten and removed, and the store's KEK is replaced by a new one
// (a new keyring entry; every other share is re-sealed under it) before the
// old entry is deleted. A copy of the erased files that survived on disk
// then no longer opens. The steps are recorded in the store's kek-gen file
// first, and [Open] finishes a destruction that a crash interrupted.
//
// # Secrets
//
// Callers own the shares they pass in and get back, and should call
// [Share.Wipe] when done. Formatting a Share prints only its metadata. The
// package never logs and no error it returns contains secret bytes.
package shares
