package ceremonytest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/taurusgroup/multi-party-sig/pkg/party"
	"github.com/taurusgroup/multi-party-sig/pkg/protocol"
)

// BareRun runs one ceremony with the threshold library alone, none of the
// engine (no descriptor checks, transcript, envelopes or confirmation
// round): the baseline the benchmarks compare the engine and the relay
// with. It is wired as well as it can be: every party's handler is built
// concurrently, one goroutine drains its output to the other parties as
// soon as the library produces it, and another feeds inbound messages to
// Accept. (The library's own test loop, internal/test.HandlerLoop, does
// both in one select and is slower: a party's next-round messages wait
// while it verifies another's.)
func BareRun(starts map[party.ID]protocol.StartFunc, sid []byte) error {
	inbox := map[party.ID]chan *protocol.Message{}
	for id := range starts {
		inbox[id] = make(chan *protocol.Message, 1024)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(id party.ID, err error) {
		mu.Lock()
		errs = append(errs, fmt.Errorf("bare library: %s: %w", id, err))
		mu.Unlock()
	}
	for id, start := range starts {
		wg.Go(func() {
			h, err := protocol.NewMultiHandler(start, sid)
			if err != nil {
				fail(id, err)
				return
			}
			done := make(chan struct{})
			go func() {
				for {
					select {
					case msg := <-inbox[id]:
						h.Accept(msg)
					case <-done:
						return
					}
				}
			}()
			for msg := range h.Listen() {
				for to, ch := range inbox {
					if msg.IsFor(to) {
						ch <- msg
					}
				}
			}
			close(done)
			if _, err := h.Result(); err != nil {
				fail(id, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
