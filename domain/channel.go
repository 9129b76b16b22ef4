package domain

// Channel is a way a message reaches the customer. Its values are part of
// notification idempotency keys and are stored in PostgreSQL (notifications,
// contact preferences), so they never change.
type Channel string

// Channels.
const (
	// ChannelEmail is the one channel every customer has; transactional messages
	// always go by email.
	ChannelEmail Channel = "email"
	// ChannelSMS and ChannelPush are the instant channels: a transactional message
	// also goes to one of them, push when the app is installed, else SMS.
	ChannelSMS  Channel = "sms"
	ChannelPush Channel = "push"
)

// Channels returns every channel, email first: what a customer allows unless
// they say otherwise.
func Channels() []Channel { return []Channel{ChannelEmail, ChannelSMS, ChannelPush} }

// Valid reports whether c is one of the channels. It is the one check for a
// channel name from outside (the API, a resend, FULFILMENT_CHANNELS), so that a
// new channel is accepted everywhere at once.
func (c Channel) Valid() bool {
	switch c {
	case ChannelEmail, ChannelSMS, ChannelPush:
		return true
	}
	return false
}
