package envvar

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// cloudSuffixes end every Temporal Cloud endpoint (namespace endpoints
// <ns>.<account>.tmprl.cloud:7233); the regional API-key endpoints end in
// .api.temporal.io.
var cloudSuffixes = []string{".tmprl.cloud", ".api.temporal.io"}

// Temporal builds the Temporal client options the way the Temporal CLI and SDKs
// do (go.temporal.io/sdk/contrib/envconfig: the TOML profile named by
// TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE, overridden by TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH
// ...), read through l, and then checks what envconfig lets through, naming
// every problem at once: an API key or a client certificate without a
// namespace (it would silently use "default"), a certificate without its key or
// a key without its certificate, a file that cannot be read, an address
// without a port, and a Temporal Cloud address without TLS or without an API
// key or client certificate. An API key turns TLS on unless TEMPORAL_TLS=false.
func (l Lookup) Temporal() (client.Options, error) {
	env := envLookup(l)
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{EnvLookup: env})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE): %w", err)
	}
	var problems []error
	if v := l("TEMPORAL_TLS"); v != "" && !slices.Contains([]string{"true", "false", "1", "0"}, strings.ToLower(v)) {
		problems = append(problems, fmt.Errorf("TEMPORAL_TLS=%q: want true or false", v))
	}
	if prof.Address != "" {
		if _, port, err := net.SplitHostPort(prof.Address); err != nil || port == "" {
			problems = append(problems, fmt.Errorf("TEMPORAL_ADDRESS=%q: want host:port such as temporal.example.com:7233", prof.Address))
		}
	}
	tlsOff := prof.TLS != nil && prof.TLS.Disabled
	hasCert := prof.TLS != nil && (prof.TLS.ClientCertPath != "" || len(prof.TLS.ClientCertData) > 0)
	hasKey := prof.TLS != nil && (prof.TLS.ClientKeyPath != "" || len(prof.TLS.ClientKeyData) > 0)
	switch {
	case hasCert && !hasKey:
		problems = append(problems, errors.New("TEMPORAL_TLS_CLIENT_CERT_PATH is set, so TEMPORAL_TLS_CLIENT_KEY_PATH must be too (mTLS needs the certificate's private key)"))
	case hasKey && !hasCert:
		problems = append(problems, errors.New("TEMPORAL_TLS_CLIENT_KEY_PATH is set, so TEMPORAL_TLS_CLIENT_CERT_PATH must be too (mTLS needs the client certificate)"))
	}
	if prof.TLS != nil {
		for _, f := range []struct{ name, path string }{
			{"TEMPORAL_TLS_CLIENT_CERT_PATH", prof.TLS.ClientCertPath},
			{"TEMPORAL_TLS_CLIENT_KEY_PATH", prof.TLS.ClientKeyPath},
			{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", prof.TLS.ServerCACertPath},
		} {
			if f.path == "" {
				continue
			}
			if _, err := os.ReadFile(f.path); err != nil {
				problems = append(problems, fmt.Errorf("%s=%q: cannot read it: %w", f.name, f.path, err))
			}
		}
	}
	if (prof.APIKey != "" || hasCert) && prof.Namespace == "" {
		problems = append(problems, errors.New("TEMPORAL_NAMESPACE is not set: with TEMPORAL_API_KEY or a client certificate, name the namespace (on Temporal Cloud <namespace>.<account>)"))
	}
	if tlsOff && (hasCert || hasKey) {
		problems = append(problems, errors.New("TEMPORAL_TLS=false but a client certificate is set: mTLS needs TLS"))
	}
	if cloud(prof.Address) {
		if tlsOff {
			problems = append(problems, fmt.Errorf("TEMPORAL_ADDRESS=%q is Temporal Cloud, which needs TLS: unset TEMPORAL_TLS=false", prof.Address))
		}
		if prof.APIKey == "" && !hasCert {
			problems = append(problems, fmt.Errorf("TEMPORAL_ADDRESS=%q is Temporal Cloud: set TEMPORAL_API_KEY, or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH", prof.Address))
		}
		if prof.Namespace == "" && prof.APIKey == "" && !hasCert {
			problems = append(problems, errors.New("TEMPORAL_NAMESPACE is not set: Temporal Cloud has no default namespace"))
		}
	}
	if len(problems) > 0 {
		return client.Options{}, errors.Join(problems...)
	}
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client configuration: %w", err)
	}
	return opts, nil
}

func cloud(address string) bool {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	host = strings.ToLower(host)
	for _, s := range cloudSuffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// envLookup gives envconfig the variables through a Lookup: an empty value
// counts as unset, as everywhere else here. Environ lists only the
// TEMPORAL_GRPC_META_* variables (extra gRPC headers), whose names only the
// process environment can enumerate; their values still come from the Lookup.
type envLookup Lookup

func (e envLookup) LookupEnv(name string) (string, bool) {
	v := Lookup(e)(name)
	return v, v != ""
}

func (e envLookup) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TEMPORAL_GRPC_META_") {
			if v := Lookup(e)(name); v != "" {
				out = append(out, name+"="+v)
			}
		}
	}
	return out
}
