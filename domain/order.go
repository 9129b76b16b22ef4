package domain

import "time"

// Order is what the checkout service sends. It is personal data: payloads are
// encrypted by the payload codec.
type Order struct {
	OrderID         string    `json:"order_id"`
	Customer        Customer  `json:"customer"`
	Method          Method    `json:"method"`
	StoreID         string    `json:"store_id,omitempty"`
	Address         *Address  `json:"address,omitempty"`
	Currency        string    `json:"currency"`
	PaymentIntentID string    `json:"payment_intent_id"`
	Lines           []Line    `json:"lines"`
	PlacedAt        time.Time `json:"placed_at"`
}

// Total is the order's value in minor units.
func (o Order) Total() int64 {
	var t int64
	for _, l := range o.Lines {
		t += l.Total()
	}
	return t
}

// Items is the number of pieces ordered.
func (o Order) Items() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// Method is how an order reaches the customer.
type Method string

// Fulfilment methods. Their values appear in the API, in PostgreSQL and in the
// FulfilmentMethod search attribute, so they never change.
const (
	MethodShipToStore  Method = "ship_to_store"
	MethodHomeDelivery Method = "home_delivery"
)

// Line is one order line. UnitPrice is in minor units of the order's currency.
type Line struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// Total is the line's price in minor units.
func (l Line) Total() int64 { return int64(l.Quantity) * l.UnitPrice }

// Address is a postal address. It is personal data: never log it.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

// Customer is who ordered and how to reach them. Marketing consent is not part of
// it on purpose: it is read from PostgreSQL at send time, never from the checkout.
type Customer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Phone    string `json:"phone,omitempty"`
	Locale   string `json:"locale"`
	TimeZone string `json:"time_zone"`
}

// PickedLine is what staff confirmed for one SKU.
type PickedLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}
