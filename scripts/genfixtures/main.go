// Command genfixtures regenerates the TEST-ONLY fixture wallets under
// ceremony/ceremonytest/testdata by running a real CMP key generation through
// the ceremony engine. Run it through scripts/gen-fixtures.sh.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/ceremony/ceremonytest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "genfixtures:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := "ceremony/ceremonytest/testdata"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	began := time.Now()
	d := ceremonytest.Keygen(ceremony.SchemeECDSA, 2, ceremonytest.FixtureParties...)
	out, _ := ceremonytest.RunAll(context.Background(), d, nil)
	f := ceremonytest.Fixture{Warning: ceremonytest.FixtureWarning, Scheme: string(ceremony.SchemeECDSA),
		Required: 2, Shares: map[string]string{}}
	for _, id := range ceremonytest.FixtureParties {
		o := out[id]
		if o.Err != nil {
			return fmt.Errorf("keygen: %s: %w", id, o.Err)
		}
		b, err := o.Result.Share.MarshalBinary()
		if err != nil {
			return err
		}
		f.Parties = append(f.Parties, string(id))
		f.PublicKey = hex.EncodeToString(o.Result.PublicKey)
		f.Shares[string(id)] = hex.EncodeToString(b)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "TEST-ONLY-ecdsa-2of3.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (CMP keygen 2-of-3 in %s)\n", path, time.Since(began).Round(time.Millisecond))
	return nil
}
