package control

import (
	"net/http"

	"github.com/paratro/paratro/internal/relay"
)

func badRequest(format string, args ...any) error {
	return relay.Errorf(http.StatusBadRequest, "bad_request", format, args...)
}
