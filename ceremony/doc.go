// Package ceremony runs one party's side of a threshold ceremony: distributed
// key generation, signing, presigning and key refresh, for ECDSA (CMP) and
// Schnorr (FROST, BIP-340 / Taproot) wallets, on top of
// github.com/taurusgroup/multi-party-sig.
//
// A ceremony is described by a [Descriptor] that every participant approves.
// Each party derives the ceremony's session ID from that descriptor itself
// ([Descriptor.SessionID]); it is never taken from the network.
//
// [Run] drives the threshold library's protocol handler over a [Transport]
// (see [MemoryNetwork] for an in-process one) and adds what the library leaves
// to the application:
//
//   - every inbound message is decoded strictly and checked (session, sender,
//     recipient, round, size, and the fields known to crash the library)
//     before the library sees it; the library runs under recover, with no
//     worker pool, so a malicious peer aborts the ceremony with its name
//     attached and never takes the process down;
//   - deadlines, with errors that name the parties that never answered;
//   - progress events (round i of n, parties still awaited);
//   - after key generation and refresh, a confirmation round in which every
//     party attests to the same public configuration: a result is returned
//     only when all parties agree.
//
// Failures are returned as *[Error], which matches the sentinels [ErrTimeout],
// [ErrMisbehaviour], [ErrAborted], [ErrConfirmation] and [ErrInvalid] with
// errors.Is.
//
// The package prints nothing and stores nothing: persisting a new share
// (pending until confirmed) is the caller's job, through [Options.BeforeConfirm].
package ceremony
