package journeygen

import (
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// Month is everything generated: the rows of each table, as the order
// workflows and the webhooks would have written them by Config.End(), and the
// truth about the shifts.
type Month struct {
	Config        Config                `json:"config"`
	Locations     []activities.Location `json:"locations"`
	Orders        []OrderRow            `json:"orders"`
	Journey       []JourneyRow          `json:"journey"`
	PickTasks     []PickTaskRow         `json:"pick_tasks"`
	Notifications []NotificationRow     `json:"notifications"`
	Shipments     []ShipmentRow         `json:"shipments"`
	Customers     []CustomerRow         `json:"customers"`
	Truth         Truth                 `json:"truth"`
}

// OrderRow is a row of orders (the projection), as of Config.End().
type OrderRow struct {
	OrderID         string
	CustomerID      string
	CustomerName    string
	Method          domain.Method
	StoreID         string // the pickup store, or the store that sold a home delivery
	LocationID      string // where it was picked
	Stage           domain.Stage
	Total           int64
	Captured        int64
	Refunded        int64
	Currency        string
	PlacedAt        time.Time
	UpdatedAt       time.Time
	PromisedReadyAt *time.Time
	PickupDeadline  *time.Time
	Lines           []activities.LineView
	Carrier         string
	Service         string
	TrackingCode    string
	TrackingURL     string
	ShipmentStatus  string
	PickupCodeSent  bool
}

// JourneyRow is a row of order_journey.
type JourneyRow struct {
	OrderID string
	Kind    string
	Key     string
	Stage   domain.Stage
	Detail  string
	Actor   string
	At      time.Time
}

// PickTaskRow is a row of pick_tasks.
type PickTaskRow struct {
	OrderID    string
	LocationID string
	Lines      []domain.Line
	DueAt      time.Time
	Status     string // open, done, cancelled
	Picked     []domain.PickedLine
	PickedBy   string
	PickedAt   *time.Time
	StartedBy  string
	StartedAt  *time.Time
	CreatedAt  time.Time
}

// NotificationRow is a row of notifications.
type NotificationRow struct {
	Key               string
	OrderID           string
	Touchpoint        domain.Touchpoint
	Channel           domain.Channel
	Status            string
	ProviderMessageID string
	Detail            string
	CreatedAt         time.Time
	SentAt            *time.Time
}

// ShipmentRow is a row of shipments (a bought label and its tracking).
type ShipmentRow struct {
	OrderID      string
	Purpose      string
	Provider     string
	ShipmentID   string
	Carrier      string
	Service      string
	TrackingCode string
	TrackingURL  string
	LabelURL     string
	CreatedAt    time.Time
	LastEvent    string
	LastEventAt  *time.Time
}

// CustomerRow is a row of contact_preferences, as it stands at Config.End().
type CustomerRow struct {
	CustomerID         string
	Email              string
	Phone              string
	Locale             string
	TimeZone           string
	MarketingConsent   bool
	PushToken          string
	Channels           []string
	EmailUndeliverable bool
	SMSUndeliverable   bool
	UpdatedAt          time.Time
}
