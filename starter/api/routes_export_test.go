package api

import "log/slog"

// RoutePatterns is every pattern the route table registers, with every optional
// route switched on, so that the auth matrix in package api_test reads the same
// list Handler serves and a new route without a matrix row fails it.
func RoutePatterns() []string {
	cfg := Config{
		Sandbox:                  true,
		StripeWebhookSecret:      "whsec_test",
		EasyPostWebhookSecret:    "test",
		SendGridWebhookPublicKey: "test", // invalid, logged, and registered anyway
		TwilioAuthToken:          "test",
		PublicURL:                "https://fulfilment.example.test",
	}
	return New(cfg, nil, nil, nil, slog.New(slog.DiscardHandler)).routes().patterns
}
