package records

import "time"

// OutboxMessage is a message a sandbox provider "sent", as GET /dev/outbox shows
// it: the demo shows these instead of a real inbox or phone.
type OutboxMessage struct {
	ID        int64  `json:"id"`
	Channel   string `json:"channel"`
	Recipient string `json:"recipient"`
	Subject   string `json:"subject,omitempty"`
	Body      string `json:"body"`
	// NotificationKey ("<order_id>:notify:<touchpoint>:<channel>") ties the message
	// to its order and notifications row.
	NotificationKey string    `json:"notification_key,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

// TrackingView is what the sandbox carrier's public tracking page
// (GET /dev/tracking/{code}) shows: no order, no person.
type TrackingView struct {
	TrackingCode string     `json:"tracking_code"`
	Carrier      string     `json:"carrier"`
	Service      string     `json:"service"`
	Status       string     `json:"status"`
	StatusAt     *time.Time `json:"status_at,omitempty"`
}
