// Package e2e holds paratro's fault tests with real processes: a relay
// (paratro relay serve) and one paratro party run per key holder (ana, ben,
// vault), each with its own home and file keyring, driven by the paratro
// binary the way an operator or a CI pipeline drives it. One ECDSA 2-of-3
// wallet is created once and every fault is run on it in turn:
//
//   - kill -9 of a signing party in the middle of a sign;
//   - kill -9 of the relay in every round of a CMP key generation, sign,
//     presign and refresh, restarted on the same address and data
//     directory (relaykill_test.go);
//   - kill -9 of a party during a refresh, restarted at once (the others are
//     told and every holder keeps its active share);
//   - an envelope changed on the relay (its bbolt file edited while it is
//     down): the recipient refuses it, naming the sender;
//   - an envelope of an earlier ceremony replayed into a later one, through
//     the relay's API (refused by the relay) and into its database (refused
//     by the recipient);
//   - an identity that is not a member asking for a ceremony's mailbox
//     (HTTP 403, and a line in the relay's log);
//   - a malicious party: vault's party run from a second binary built with
//     -tags paratro_adversary and driven by PARATRO_ADVERSARY, changing its
//     own protocol messages before it seals and signs them (a tampered
//     proof, garbage, a split or equivocated broadcast): the sign fails
//     naming vault, or the relay refuses the equivocation; the release
//     binary is checked not to contain the adversary;
//   - crash points (PARATRO_FAILPOINT, internal/failpoint): vault killed at
//     each step of a refresh, of a key generation and of the presignature
//     life cycle, then restarted: afterwards every holder has the new
//     share active or none has, nothing stays pending, no presignature is
//     used twice, and the wallet signs with every pair.
//
// Run them alone, without make:
//
//	go test -count=1 ./e2e/
//	go test -count=1 -v -run 'TestRelayKill' ./e2e/   # one of them (the wallet is created first)
//
// The package builds ./cmd/paratro into a temporary directory first
// (PARATRO_E2E_BIN=/path/to/paratro tests that binary instead) and takes
// about a minute and a half on two cores. Homes and logs are kept when a
// test fails, or always with PARATRO_E2E_KEEP=1; the path is printed. The
// tests are skipped under -short (the race run) and on non-Unix systems
// (they use SIGSTOP and SIGKILL).
package e2e
