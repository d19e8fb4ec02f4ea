//go:build !paratro_adversary

package coord

import (
	"context"

	"github.com/paratro/paratro/ceremony"
)

// outbound posts msg as it is. A binary built with the paratro_adversary
// tag replaces this with a party that misbehaves on purpose
// (adversary_on.go); release binaries never contain it.
func (t *Transport) outbound(ctx context.Context, msg *ceremony.Message) error {
	return t.post(ctx, msg)
}
