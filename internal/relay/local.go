package relay

import (
	"net/http"
	"net/http/httptest"

	"github.com/paratro/paratro/internal/identity"
)

// LocalClient returns a client of this server that calls it in process,
// without a socket, acting as id: the control plane uses it to run the
// ceremonies it starts with the relay's own identity.
func (s *Server) LocalClient(id *identity.Identity) (*Client, error) {
	return NewClient("http://relay.local", id, ClientOptions{HTTPClient: &http.Client{Transport: localTransport{s}}})
}

// localTransport serves each request with the server's handler.
type localTransport struct{ s *Server }

func (t localTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "local"
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.s.ServeHTTP(rec, r)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}
