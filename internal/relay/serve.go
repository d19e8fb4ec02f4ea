package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/paratro/paratro/internal/audit"
)

// Serve runs a relay until ctx is cancelled: it opens the store in
// cfg.DataDir, listens on cfg.Listen (TLS 1.3 only when cfg.TLSCert and
// cfg.TLSKey are given), calls ready with the address it listens on (so
// ":0" can be used), and on cancellation ends long-polls at once, lets
// requests in flight finish (up to cfg.ShutdownTimeout) and closes the
// store. Security events go to cfg.Audit, by default the hash-chained
// log <DataDir>/audit.log. It returns nil after a clean shutdown.
func Serve(ctx context.Context, cfg Config, ready func(addr string)) error {
	cfg = cfg.withDefaults()
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	tlsConf, err := serverTLS(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	if err := CheckListen(cfg.Listen, tlsConf != nil, cfg.Insecure); err != nil {
		return err
	}
	st, err := OpenStore(cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Audit == nil {
		if cfg.Audit, err = audit.Open(filepath.Join(cfg.DataDir, "audit.log")); err != nil {
			return err
		}
		defer cfg.Audit.Close()
	}
	if cfg.Self == nil {
		if cfg.Self, err = LoadIdentity(cfg.DataDir, "relay"); err != nil {
			return err
		}
	}
	stopPprof, err := StartPprof()
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer stopPprof()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("relay: listen: %w", err)
	}
	srv := NewServer(st, cfg)
	if cfg.Setup != nil {
		if err := cfg.Setup(srv); err != nil {
			ln.Close()
			return err
		}
	}
	bctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	srv.consumeBootstrap(cfg.DataDir)
	go srv.WatchBootstrap(bctx, cfg.DataDir, time.Second)
	hs := &http.Server{
		Handler:           srv,
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			done <- hs.ServeTLS(ln, "", "")
		} else {
			done <- hs.Serve(ln)
		}
	}()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-done:
		return fmt.Errorf("relay: serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown(hs, srv, cfg.ShutdownTimeout, done)
}

// shutdown ends long-polls, then waits up to timeout for the other
// requests in flight before closing connections outright.
func shutdown(hs *http.Server, srv *Server, timeout time.Duration, done <-chan error) error {
	srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		_ = hs.Close()
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // requests cut short: their clients retry
	}
	return err
}

// serverTLS loads the certificate and key, if given, into a TLS 1.3-only
// configuration; it returns nil for plain HTTP.
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("relay: give both a TLS certificate and its key (--tls-cert and --tls-key)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("relay: load TLS certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}, nil
}

// CheckListen checks a listen address (host:port, port 0 to 65535) and
// refuses plain HTTP on anything but a loopback address unless insecure.
func CheckListen(listen string, useTLS, insecure bool) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: want host:port, e.g. 127.0.0.1:8700", listen)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p > 65535 {
		return fmt.Errorf("invalid listen address %q: port must be a number from 0 to 65535", listen)
	}
	if useTLS || insecure || IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("refusing plain HTTP on %q, which is not a loopback address: give --tls-cert and --tls-key, or --insecure to serve plain HTTP anyway", listen)
}

// IsLoopback reports whether host names this machine only: "localhost" or
// a loopback IP. The empty host (every interface) is not.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
