package temporal

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	sdktemporal "go.temporal.io/sdk/temporal"
)

// ClientOptions completes base (from envconfig: address, namespace, API key, TLS)
// with the encrypting data converter, a failure converter that encrypts error
// messages and stack traces too, and the slog logger. gRPC requests go
// uncompressed unless base asks for compression: every payload is AES-GCM
// ciphertext, which gzip cannot shrink, and gzip was a tenth of the worker's CPU
// (docs/performance.md, What limits it); the server, which answers a gzipped
// request gzipped, is spared the same work.
func ClientOptions(base client.Options, codec *Codec, logger *slog.Logger) client.Options {
	if base.ConnectionOptions.GrpcCompression == nil {
		base.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	base.DataConverter = DataConverter(codec)
	base.FailureConverter = FailureConverter(codec)
	base.Logger = tlog.NewStructuredLogger(logger)
	return base
}

// DataConverter is the default JSON converter with every payload encrypted by codec;
// replayers of recorded histories need it too.
func DataConverter(codec *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec)
}

// FailureConverter encrypts error messages and stack traces with codec as well;
// readers of histories decode failures with it.
func FailureConverter(codec *Codec) converter.FailureConverter {
	return sdktemporal.NewDefaultFailureConverter(sdktemporal.DefaultFailureConverterOptions{
		DataConverter:          DataConverter(codec),
		EncodeCommonAttributes: true,
	})
}

// Dial builds the codec from keys and connects a client with ClientOptions. The
// codec is returned too: the starter serves it to the Web UI.
func Dial(ctx context.Context, base client.Options, keys []Key, logger *slog.Logger) (client.Client, *Codec, error) {
	codec, err := NewCodec(keys)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.DialContext(ctx, ClientOptions(base, codec, logger))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to Temporal: %w", err)
	}
	return c, codec, nil
}
