package temporal

import (
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	sdktemporal "go.temporal.io/sdk/temporal"
)

// ClientOptions completes base (from envconfig: address, namespace, API key, TLS)
// with the encrypting data converter, a failure converter that encrypts error
// messages and stack traces too, and the slog logger.
func ClientOptions(base client.Options, codec *Codec, logger *slog.Logger) client.Options {
	dc := DataConverter(codec)
	base.DataConverter = dc
	base.FailureConverter = sdktemporal.NewDefaultFailureConverter(sdktemporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})
	base.Logger = tlog.NewStructuredLogger(logger)
	return base
}

// DataConverter is the default JSON converter with every payload encrypted by codec;
// replayers of recorded histories need it too.
func DataConverter(codec *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec)
}
