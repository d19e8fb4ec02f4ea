# paratro: `make demo` runs the whole lifecycle locally, `make test` runs
# every test (installing what it needs besides Go). See README.md.

GO ?= go

.PHONY: demo test build bench docs fixtures race lint fuzz soak goreleaser-check e2e e2e-tty e2e-tui

## demo: build paratro and run `paratro demo` (2-of-3 ECDSA and Schnorr wallets)
demo: build
	./bin/paratro demo

## build: build ./bin/paratro
build:
	$(GO) build -o bin/paratro ./cmd/paratro

## test: vet, the whole Go suite (fault tests with real processes included), the real
## OS-keyring test, the independent demo check, the scripted end-to-end run (policy
## decisions), the TOTP prompts answered in a real terminal and the approvals screens
## of three holders driven by key presses (tmux)
test:
	sh scripts/setup-test-tools.sh
	$(GO) vet ./...
	GO=$(GO) sh scripts/test-go.sh
	sh scripts/test-real-keyring.sh
	sh scripts/verify-demo.sh
	sh scripts/e2e.sh >/dev/null
	sh scripts/e2e-tty.sh
	sh scripts/e2e-tui.sh

## e2e: a relay and three party processes deciding by policy: create, sign a transaction, refuse one over the limit, rotate, sign (JSON on stdout)
e2e:
	sh scripts/e2e.sh

## e2e-tty: wallet create and rotate-keys with their TOTP prompts answered in tmux
e2e-tty:
	sh scripts/e2e-tty.sh

## e2e-tui: three holders approve a wallet and a transaction, and reject one, on their approvals screens in tmux
e2e-tui:
	sh scripts/e2e-tui.sh

## race: the fast tests (-short) under the race detector
race:
	$(GO) test -count=1 -race -short ./...

## fuzz: every Go fuzz target for FUZZTIME seconds each, one worker (about 4 minutes; FUZZTIME=5 for a quick run)
fuzz:
	sh scripts/fuzz.sh

## soak: 1,000 signs and 20 key generations/refreshes through one relay and three party run; goroutines and RSS must stay flat (about 30 minutes; SOAK_QUICK=1 for the CI size)
soak:
	sh scripts/soak.sh

## lint: staticcheck (pinned, installed into ./bin) over the whole module
lint:
	sh scripts/lint.sh

## bench: sign and DKG through the relay (separate processes) vs in memory, and engine vs bare library, as ratios (about 5 minutes)
bench:
	sh scripts/bench.sh

## docs: regenerate man/ and completions/ after changing a command
docs:
	sh scripts/gen-docs.sh

## fixtures: regenerate the TEST-ONLY fixture shares
fixtures:
	sh scripts/gen-fixtures.sh

## goreleaser-check: validate goreleaser.yaml with goreleaser v2.16.0
goreleaser-check:
	sh scripts/goreleaser-check.sh
