package holder_test

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
	"github.com/paratro/paratro/internal/holder"
	"github.com/taurusgroup/multi-party-sig/pkg/party"
)

// The parties sign a test message with their new shares before they store
// or confirm them: when that signature cannot be made, every party keeps
// the share it had, and nothing new is stored anywhere.
func TestTestSignatureGatesTheNewShares(t *testing.T) {
	setup := func(t *testing.T) (map[party.ID]*holder.Holder, string) {
		hs := holders(t)
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
		d.WalletID = holder.NewWalletID()
		requireNoErrors(t, run(t, hs, d, nil))
		return hs, d.WalletID
	}
	t.Run("a refresh whose test signature fails leaves every party on epoch 1 with nothing pending", func(t *testing.T) {
		hs, wallet := setup(t)
		_, before, _ := hs["alice"].Share(wallet)
		d, err := hs["alice"].Describe(ceremony.KindRefresh, wallet, nil, nil, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		testSID := ceremony.TestSessionID(d.SessionID())
		var sawTest atomic.Bool // set from the parties' senders
		// carol's last test-signature message is changed on the way: the
		// refresh itself went through, only the test signature fails.
		errs := run(t, hs, d, func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if bytes.Equal(m.SessionID, testSID) {
				sawTest.Store(true)
				if m.From == "carol" && m.Type == ceremony.TypeProtocol && m.Round == 3 && len(m.Payload) > 0 {
					m.Payload[len(m.Payload)-1] ^= 1
				}
			}
			return []*ceremony.Message{m}
		})
		if !sawTest.Load() {
			t.Fatal("no test-signature message was sent")
		}
		for id, h := range hs {
			if errs[id] == nil {
				t.Fatalf("%s: the refresh succeeded although the test signature was broken", id)
			}
			var pe *holder.PendingError
			if errors.As(errs[id], &pe) {
				t.Fatalf("%s: kept a new share pending: %v", id, errs[id])
			}
			if got := epochs(t, h); got != "1:active" {
				t.Fatalf("%s: states %q, want only 1:active", id, got)
			}
			_, m, err := h.Share(wallet)
			if err != nil || !bytes.Equal(m.ConfigDigest, before.ConfigDigest) {
				t.Fatalf("%s: the active share changed (%v)", id, err)
			}
		}
	})
	t.Run("a keygen whose test signature fails stores no wallet anywhere", func(t *testing.T) {
		hs := holders(t)
		d := ceremonytest.Keygen(ceremony.SchemeSchnorr, 2, ceremonytest.FixtureParties...)
		d.WalletID = holder.NewWalletID()
		d.Deadline = time.Now().Add(3 * time.Second)
		testSID := ceremony.TestSessionID(d.SessionID())
		errs := run(t, hs, d, func(to party.ID, m *ceremony.Message) []*ceremony.Message {
			if bytes.Equal(m.SessionID, testSID) && m.From == "bob" && m.Type == ceremony.TypeProtocol {
				return nil // bob's test-signature messages never arrive
			}
			return []*ceremony.Message{m}
		})
		for id, h := range hs {
			if id != "bob" && errs[id] == nil {
				t.Fatalf("%s: keygen succeeded without bob's test signature", id)
			}
			if got := epochs(t, h); got != "" {
				t.Fatalf("%s: stores %q after a failed keygen", id, got)
			}
		}
	})
	t.Run("the test message is domain-separated and bound to the session and the new configuration", func(t *testing.T) {
		sid, cd, pub := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 33)
		a := ceremony.TestSignatureDigest(sid, cd, pub)
		for _, other := range [][]byte{
			ceremony.TestSignatureDigest(cd, sid, pub),
			ceremony.TestSignatureDigest(sid, cd, append(bytes.Clone(pub[:32]), 4)),
			ceremony.TestSignatureDigest(append(sid, cd[0]), cd[1:], pub),
		} {
			if bytes.Equal(a, other) {
				t.Fatal("two different sessions or configurations give the same test message")
			}
		}
		if bytes.Equal(ceremony.TestSessionID(sid), sid) {
			t.Fatal("the test signature's session is the refresh's")
		}
	})
}
