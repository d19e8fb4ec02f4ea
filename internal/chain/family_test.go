package chain

import (
	"strings"
	"testing"

	"github.com/paratro/paratro/ceremony"
)

func TestEveryFormatHasOneFamily(t *testing.T) {
	seen := map[string]string{}
	for _, f := range Families() {
		if _, err := ByName(f.Name()); err != nil {
			t.Fatal(err)
		}
		for _, format := range f.Formats() {
			if other, ok := seen[format]; ok {
				t.Fatalf("format %s belongs to %s and %s", format, other, f.Name())
			}
			seen[format] = f.Name()
		}
	}
	if len(seen) != 3 {
		t.Fatalf("formats %v", seen)
	}
}

func TestUnknownChainsAndFormatsAreNamed(t *testing.T) {
	if _, err := ByName("dogecoin"); err == nil || !strings.Contains(err.Error(), "ethereum or bitcoin") {
		t.Fatalf("unknown chain: %v", err)
	}
	_, err := Decode(Payload{Format: "sol-tx"}, Wallet{Chain: "ethereum", Scheme: ceremony.SchemeECDSA})
	if err == nil || !strings.Contains(err.Error(), `unknown payload format "sol-tx"`) || !strings.Contains(err.Error(), FormatBtcPSBT) {
		t.Fatalf("unknown format: %v", err)
	}
	if _, err := Address("ethereum", ceremony.SchemeSchnorr, make([]byte, 32), ""); err == nil {
		t.Fatal("an ethereum address for a schnorr key")
	}
}
