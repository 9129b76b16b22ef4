package envvar_test

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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/everywherecommerce/fulfilment/envvar"
)

// pair writes a self-signed certificate for name and its key to dir and
// returns their paths.
func pair(t *testing.T, dir, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func lookup(env map[string]string) envvar.Lookup {
	return func(k string) string {
		if k == "TEMPORAL_CONFIG_FILE" && env[k] == "" {
			return "/nonexistent/temporal.toml" // never the machine's own profile
		}
		return env[k]
	}
}

// TestTemporalCloudOptions: the settings a platform team gives for Temporal
// Cloud (API key or mTLS) build client options with TLS on, the namespace, the
// endpoint, and the key or certificate.
func TestTemporalCloudOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := pair(t, dir, "client")
	ca, _ := pair(t, dir, "ca")
	toml := filepath.Join(dir, "temporal.toml")
	if err := os.WriteFile(toml, []byte(`
[profile.cloud]
address = "shop-prod.a1b2c.tmprl.cloud:7233"
namespace = "shop-prod.a1b2c"
[profile.cloud.tls]
client_cert_path = "`+cert+`"
client_key_path = "`+key+`"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       map[string]string
		hostPort  string
		namespace string
		apiKey    bool
		certs     int
		rootCAs   bool
	}{
		{"API key", map[string]string{
			"TEMPORAL_ADDRESS": "eu-central-1.aws.api.temporal.io:7233", "TEMPORAL_NAMESPACE": "shop-prod.a1b2c", "TEMPORAL_API_KEY": "secret-key",
		}, "eu-central-1.aws.api.temporal.io:7233", "shop-prod.a1b2c", true, 0, false},
		{"API key with a server name", map[string]string{
			"TEMPORAL_ADDRESS": "eu-central-1.aws.api.temporal.io:7233", "TEMPORAL_NAMESPACE": "shop-prod.a1b2c", "TEMPORAL_API_KEY": "secret-key",
			"TEMPORAL_TLS_SERVER_NAME": "eu-central-1.aws.api.temporal.io",
		}, "eu-central-1.aws.api.temporal.io:7233", "shop-prod.a1b2c", true, 0, false},
		{"mTLS", map[string]string{
			"TEMPORAL_ADDRESS": "shop-prod.a1b2c.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "shop-prod.a1b2c",
			"TEMPORAL_TLS_CLIENT_CERT_PATH": cert, "TEMPORAL_TLS_CLIENT_KEY_PATH": key,
		}, "shop-prod.a1b2c.tmprl.cloud:7233", "shop-prod.a1b2c", false, 1, false},
		{"mTLS from a TOML profile", map[string]string{"TEMPORAL_CONFIG_FILE": toml, "TEMPORAL_PROFILE": "cloud"},
			"shop-prod.a1b2c.tmprl.cloud:7233", "shop-prod.a1b2c", false, 1, false},
		{"self-hosted with a private CA", map[string]string{
			"TEMPORAL_ADDRESS": "temporal-frontend.temporal:7233", "TEMPORAL_NAMESPACE": "fulfilment",
			"TEMPORAL_TLS": "true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": ca,
		}, "temporal-frontend.temporal:7233", "fulfilment", false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := lookup(tt.env).Temporal()
			if err != nil {
				t.Fatal(err)
			}
			if opts.HostPort != tt.hostPort || opts.Namespace != tt.namespace {
				t.Errorf("host %q namespace %q, want %q %q", opts.HostPort, opts.Namespace, tt.hostPort, tt.namespace)
			}
			tc := opts.ConnectionOptions.TLS
			if tc == nil || opts.ConnectionOptions.TLSDisabled {
				t.Fatal("TLS is off")
			}
			if (opts.Credentials != nil) != tt.apiKey {
				t.Errorf("API key credentials present: %v, want %v", opts.Credentials != nil, tt.apiKey)
			}
			if len(tc.Certificates) != tt.certs {
				t.Errorf("%d client certificates, want %d", len(tc.Certificates), tt.certs)
			}
			if (tc.RootCAs != nil) != tt.rootCAs {
				t.Errorf("server CA pool set: %v, want %v", tc.RootCAs != nil, tt.rootCAs)
			}
		})
	}
	// The local dev server: nothing set, no TLS.
	opts, err := lookup(map[string]string{}).Temporal()
	if err != nil || opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
		t.Errorf("no settings: %+v, %v; want the SDK's plain-text default", opts.ConnectionOptions, err)
	}
}

// TestTemporalSettingsNamedAtStartUp: every missing or bad Temporal setting is
// named in one error, and a secret never appears in it.
func TestTemporalSettingsNamedAtStartUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := pair(t, dir, "client")
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"API key without namespace", map[string]string{"TEMPORAL_ADDRESS": "eu-central-1.aws.api.temporal.io:7233", "TEMPORAL_API_KEY": "secret-key"},
			[]string{"TEMPORAL_NAMESPACE is not set"}},
		{"certificate without key", map[string]string{"TEMPORAL_ADDRESS": "x.a1.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "x.a1", "TEMPORAL_TLS_CLIENT_CERT_PATH": cert},
			[]string{"TEMPORAL_TLS_CLIENT_KEY_PATH must be too"}},
		{"key without certificate", map[string]string{"TEMPORAL_ADDRESS": "x.a1.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "x.a1", "TEMPORAL_TLS_CLIENT_KEY_PATH": key},
			[]string{"TEMPORAL_TLS_CLIENT_CERT_PATH must be too"}},
		{"unreadable certificate", map[string]string{"TEMPORAL_ADDRESS": "x.a1.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "x.a1",
			"TEMPORAL_TLS_CLIENT_CERT_PATH": filepath.Join(dir, "missing.pem"), "TEMPORAL_TLS_CLIENT_KEY_PATH": key},
			[]string{`TEMPORAL_TLS_CLIENT_CERT_PATH="` + filepath.Join(dir, "missing.pem") + `": cannot read it`}},
		{"Cloud without TLS", map[string]string{"TEMPORAL_ADDRESS": "x.a1.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "x.a1", "TEMPORAL_API_KEY": "secret-key", "TEMPORAL_TLS": "false"},
			[]string{"is Temporal Cloud, which needs TLS"}},
		{"Cloud without key or certificate", map[string]string{"TEMPORAL_ADDRESS": "x.a1.tmprl.cloud:7233"},
			[]string{"set TEMPORAL_API_KEY, or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_NAMESPACE is not set"}},
		{"address without port, bad TLS flag", map[string]string{"TEMPORAL_ADDRESS": "temporal.example.com", "TEMPORAL_TLS": "yes"},
			[]string{`TEMPORAL_ADDRESS="temporal.example.com": want host:port`, `TEMPORAL_TLS="yes"`}},
		{"mTLS with TLS off", map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "n", "TEMPORAL_TLS": "false",
			"TEMPORAL_TLS_CLIENT_CERT_PATH": cert, "TEMPORAL_TLS_CLIENT_KEY_PATH": key},
			[]string{"TEMPORAL_TLS=false but a client certificate is set"}},
		{"unknown profile", map[string]string{"TEMPORAL_PROFILE": "prod"}, []string{"TEMPORAL_PROFILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lookup(tt.env).Temporal()
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret-key") {
				t.Error("the error shows the API key")
			}
		})
	}
}

// seen records what a gRPC server learnt of its first caller.
type seen struct {
	mu        sync.Mutex
	auth      []string
	peerCerts int
}

// TestTemporalConnectionPresentsCredentials dials a local TLS gRPC listener with
// the options built from the settings and shows what a server would see: the
// API key as a bearer token, and the client certificate in the TLS handshake.
func TestTemporalConnectionPresentsCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	serverCert, serverKey := pair(t, dir, "localhost")
	clientCert, clientKey := pair(t, dir, "client")
	start := func(t *testing.T) (string, *seen) {
		kp, err := tls.LoadX509KeyPair(serverCert, serverKey)
		if err != nil {
			t.Fatal(err)
		}
		s := &seen{}
		srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{kp}, ClientAuth: tls.RequestClientCert})),
			grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
				md, _ := metadata.FromIncomingContext(stream.Context())
				s.mu.Lock()
				s.auth = append(s.auth, md.Get("authorization")...)
				if p, ok := peer.FromContext(stream.Context()); ok {
					if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
						s.peerCerts = max(s.peerCerts, len(ti.State.PeerCertificates))
					}
				}
				s.mu.Unlock()
				return status.Error(codes.Unimplemented, "test server")
			}))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }() // Serve returns when the test stops it
		t.Cleanup(srv.Stop)
		return ln.Addr().String(), s
	}
	dial := func(t *testing.T, env map[string]string) {
		opts, err := lookup(env).Temporal()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			// The server answered Unimplemented to the health check and the
			// capabilities; a lazy client may still connect. Make one call.
			_, _ = c.CheckHealth(ctx, &client.CheckHealthRequest{}) // only what the server saw matters
			c.Close()
		}
	}

	t.Run("API key", func(t *testing.T) {
		addr, s := start(t)
		dial(t, map[string]string{"TEMPORAL_ADDRESS": addr, "TEMPORAL_NAMESPACE": "shop-prod.a1b2c", "TEMPORAL_API_KEY": "secret-key",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": serverCert, "TEMPORAL_TLS_SERVER_NAME": "localhost"})
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.auth) == 0 || s.auth[0] != "Bearer secret-key" {
			t.Errorf("authorization headers %q, want Bearer and the key", s.auth)
		}
		if s.peerCerts != 0 {
			t.Errorf("a client certificate was presented without one configured")
		}
	})
	t.Run("mTLS", func(t *testing.T) {
		addr, s := start(t)
		dial(t, map[string]string{"TEMPORAL_ADDRESS": addr, "TEMPORAL_NAMESPACE": "shop-prod.a1b2c",
			"TEMPORAL_TLS_CLIENT_CERT_PATH": clientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH": clientKey,
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": serverCert, "TEMPORAL_TLS_SERVER_NAME": "localhost"})
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.peerCerts != 1 {
			t.Errorf("the server saw %d client certificates, want 1", s.peerCerts)
		}
		if len(s.auth) != 0 {
			t.Errorf("authorization headers %q without an API key", s.auth)
		}
	})
}
