package relay

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

// PprofEnv names the environment variable that makes `relay serve` and
// `party run` expose Go's profiler (net/http/pprof) on a listener of their
// own, for benchmarks and the soak: a loopback host:port. It is off by
// default, refused on other addresses, and not part of the relay's API.
const PprofEnv = "PARATRO_PPROF"

// StartPprof serves /debug/pprof/ on the loopback address in PARATRO_PPROF,
// if set; the returned function stops it.
func StartPprof() (stop func(), err error) {
	addr := os.Getenv(PprofEnv)
	if addr == "" {
		return func() {}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !IsLoopback(host) {
		return nil, fmt.Errorf("%s=%q: give a loopback host:port, e.g. 127.0.0.1:6060", PprofEnv, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PprofEnv, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return func() { _ = hs.Close() }, nil
}
