package coord

import (
	"strings"
	"testing"
	"time"

	"github.com/paratro/paratro/ceremony"
	"github.com/paratro/paratro/internal/identity"
)

func TestRequestIndexIsForUnhardenedECDSASigningOnly(t *testing.T) {
	var parties []identity.Public
	for _, n := range []string{"ana", "ben", "cy"} {
		id, err := identity.New(n)
		if err != nil {
			t.Fatal(err)
		}
		parties = append(parties, id.Public)
	}
	idx := func(i uint32) *uint32 { return &i }
	base := func(kind ceremony.Kind, scheme ceremony.Scheme, i *uint32) *Request {
		return &Request{Kind: kind, Scheme: scheme, WalletID: "wal_x", Parties: parties, Required: 2,
			Initiator: parties[0], Index: i, Deadline: time.Now().Add(time.Minute)}
	}
	for _, c := range []struct {
		name string
		req  *Request
		want string
	}{
		{"sign with index 0", base(ceremony.KindSign, ceremony.SchemeECDSA, idx(0)), ""},
		{"sign with the largest unhardened index", base(ceremony.KindSign, ceremony.SchemeECDSA, idx(1<<31-1)), ""},
		{"a hardened index", base(ceremony.KindSign, ceremony.SchemeECDSA, idx(1<<31)), "hardened derivation unsupported"},
		{"keygen", base(ceremony.KindKeygen, ceremony.SchemeECDSA, idx(1)), "keygen request takes no derivation index"},
		{"refresh", base(ceremony.KindRefresh, ceremony.SchemeECDSA, idx(1)), "refresh request takes no derivation index"},
		{"schnorr", base(ceremony.KindSign, ceremony.SchemeSchnorr, idx(1)), "no chain code"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.req.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	t.Run("the descriptor carries it", func(t *testing.T) {
		r := base(ceremony.KindSign, ceremony.SchemeECDSA, idx(9))
		d, err := r.descriptor(ceremony.NewID().String(), []string{"a", "b"})
		if err != nil || d.Index == nil || *d.Index != 9 {
			t.Fatalf("descriptor index: %v %v", d, err)
		}
		*r.Index = 10
		if *d.Index != 9 {
			t.Fatal("the descriptor shares the request's index")
		}
		none, _ := base(ceremony.KindSign, ceremony.SchemeECDSA, nil).descriptor(ceremony.NewID().String(), nil)
		if none.Index != nil {
			t.Fatal("an index appeared")
		}
	})
}
