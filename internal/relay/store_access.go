package relay

// Store is the server's store: the control plane (internal/control) keeps
// its own buckets in it.
func (s *Server) Store() *Store { return s.store }
