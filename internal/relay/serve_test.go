package relay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serving is a relay run by Serve in this process.
type serving struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

// startServe runs Serve with cfg until the test ends.
func startServe(t *testing.T, cfg Config) *serving {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { s.done <- Serve(ctx, cfg, func(addr string) { ready <- addr }) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() { cancel(); <-s.done })
	return s
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestServeWithACertificateSpeaksTLS13Only(t *testing.T) {
	certFile, keyFile := writeCert(t)
	s := startServe(t, Config{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile})
	url := "https://" + s.addr

	t.Run("a client trusting the certificate registers", func(t *testing.T) {
		c, err := NewClient(url, newIdentity(t, "alice"), ClientOptions{CAFile: certFile})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Register(ctx(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a TLS 1.2-only client is refused", func(t *testing.T) {
		pem, _ := os.ReadFile(certFile)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}}
		defer tr.CloseIdleConnections()
		_, err := (&http.Client{Transport: tr}).Get(url + "/healthz")
		if err == nil || !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("TLS 1.2 handshake: %v, want a protocol version alert", err)
		}
	})
	t.Run("a client that does not trust the certificate fails at once", func(t *testing.T) {
		c, _ := NewClient(url, newIdentity(t, "bob"), ClientOptions{})
		began := time.Now()
		err := c.Health(ctx(t))
		if err == nil || !strings.Contains(err.Error(), "certificate") || time.Since(began) > time.Second {
			t.Fatalf("untrusted certificate: %v after %v, want an immediate certificate error", err, time.Since(began))
		}
	})
}

func TestServeRefusesPlainHTTPOffLoopbackUnlessInsecure(t *testing.T) {
	err := Serve(context.Background(), Config{Listen: "0.0.0.0:0", DataDir: t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "--tls-cert and --tls-key") || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("Serve on 0.0.0.0 without TLS: %v", err)
	}
	startServe(t, Config{Listen: "0.0.0.0:0", Insecure: true})
}

func TestCheckListen(t *testing.T) {
	for _, tt := range []struct {
		listen          string
		useTLS, insec   bool
		wantErrContains string
	}{
		{"127.0.0.1:8700", false, false, ""},
		{"[::1]:0", false, false, ""},
		{"localhost:8700", false, false, ""},
		{":8700", false, false, "not a loopback address"},
		{"192.0.2.1:8700", false, false, "not a loopback address"},
		{"192.0.2.1:8700", true, false, ""},
		{"192.0.2.1:8700", false, true, ""},
		{"127.0.0.1", false, false, "want host:port"},
		{"127.0.0.1:http", false, false, "port must be a number"},
		{"127.0.0.1:70000", false, false, "port must be a number"},
	} {
		err := CheckListen(tt.listen, tt.useTLS, tt.insec)
		if (tt.wantErrContains == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErrContains)) {
			t.Errorf("CheckListen(%q, tls=%v, insecure=%v) = %v, want %q", tt.listen, tt.useTLS, tt.insec, err, tt.wantErrContains)
		}
	}
}

func TestServeRefusesHalfATLSConfiguration(t *testing.T) {
	certFile, _ := writeCert(t)
	err := Serve(context.Background(), Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TLSCert: certFile}, nil)
	if err == nil || !strings.Contains(err.Error(), "both a TLS certificate and its key") {
		t.Fatalf("cert without key: %v", err)
	}
}

func TestServeStopsPromptlyEvenWithLongPollsWaiting(t *testing.T) {
	s := startServe(t, Config{Listen: "127.0.0.1:0"})
	c, err := NewClient("http://"+s.addr, newIdentity(t, "alice"), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(ctx(t)); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	go func() { _, _ = c.Inbox(pctx, 0, 30*time.Second) }()
	time.Sleep(50 * time.Millisecond)
	began := time.Now()
	s.cancel()
	if err := <-s.done; err != nil {
		t.Fatalf("Serve returned %v, want nil after a clean shutdown", err)
	}
	s.done <- nil // for the cleanup
	if el := time.Since(began); el > time.Second {
		t.Errorf("shutdown took %v with a long-poll waiting", el)
	}
}

func TestTheDataDirectoryIsPrivate(t *testing.T) {
	t.Run("is created 0700 with the database 0600", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "relay")
		st, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, DBFile): 0o600} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: %v %v, want %04o", path, fi.Mode().Perm(), err, want)
			}
		}
	})
	t.Run("is refused when others may write to it", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o775); err != nil {
			t.Fatal(err)
		}
		_, err := OpenStore(dir)
		if err == nil || !strings.Contains(err.Error(), "writable by other users") {
			t.Fatalf("OpenStore on a 0775 directory: %v", err)
		}
	})
	t.Run("is held by one relay at a time", func(t *testing.T) {
		dir := t.TempDir()
		st, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "another relay is using it") {
			t.Fatalf("second OpenStore: %v", err)
		}
	})
}
