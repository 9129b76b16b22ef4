package domain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func validOrder() Order {
	return Order{
		OrderID:         "A-10001",
		Customer:        Customer{ID: "C-1", Name: "Mia Schmidt", Email: "mia@example.com", Phone: "+4915112345678", Locale: "de-DE", TimeZone: "Europe/Berlin"},
		Method:          MethodShipToStore,
		StoreID:         "berlin-mitte",
		Currency:        "EUR",
		PaymentIntentID: "pi_1",
		Lines:           []Line{{SKU: "SKU-1", Name: "Rain jacket", Quantity: 2, UnitPrice: 12_450}},
		PlacedAt:        time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}
}

func fields(errs []FieldError) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestValidateOrderNamesEveryBadField(t *testing.T) {
	t.Parallel()
	home := validOrder()
	home.Method, home.StoreID = MethodHomeDelivery, ""
	home.Address = &Address{Name: "Mia Schmidt", Line1: "Invalidenstr. 1", PostalCode: "10115", City: "Berlin", Country: "DE"}
	tests := []struct {
		name   string
		change func(o *Order)
		want   []string
	}{
		{"a valid ship-to-store order", func(*Order) {}, nil},
		{"a valid home delivery", func(o *Order) { *o = home }, nil},
		{"no phone is fine", func(o *Order) { o.Customer.Phone = "" }, nil},
		{"bad order id", func(o *Order) { o.OrderID = "-A" }, []string{"order_id"}},
		{"bad customer", func(o *Order) {
			o.Customer = Customer{ID: "", Name: " ", Email: "mia", Phone: "0151", Locale: "de_DE", TimeZone: ""}
		}, []string{"customer.id", "customer.name", "customer.email", "customer.phone", "customer.locale", "customer.time_zone"}},
		{"ship to store without store", func(o *Order) { o.StoreID = "" }, []string{"store_id"}},
		{"home delivery without address", func(o *Order) { *o = home; o.Address = nil }, []string{"address"}},
		{"home delivery with a bad address", func(o *Order) {
			*o = home
			o.Address = &Address{Line2: strings.Repeat("x", 201), Country: "de"}
		}, []string{"address.name", "address.line1", "address.line2", "address.postal_code", "address.city", "address.country"}},
		{"unknown method", func(o *Order) { o.Method = "drone" }, []string{"method"}},
		{"bad currency and payment", func(o *Order) { o.Currency, o.PaymentIntentID = "eur", "" }, []string{"currency", "payment_intent_id"}},
		{"no lines", func(o *Order) { o.Lines = nil }, []string{"lines"}},
		{"too many lines", func(o *Order) {
			o.Lines = nil
			for i := range MaxLines + 1 {
				o.Lines = append(o.Lines, Line{SKU: fmt.Sprintf("SKU-%d", i), Name: "n", Quantity: 1})
			}
		}, []string{"lines"}},
		{"bad lines", func(o *Order) {
			o.Lines = []Line{
				{SKU: "SKU-1", Name: "a", Quantity: 1, UnitPrice: 1},
				{SKU: "SKU-1", Name: "", Quantity: 0, UnitPrice: -1},
				{SKU: "", Name: "b", Quantity: MaxQuantity + 1, UnitPrice: MaxUnitPrice + 1},
			}
		}, []string{"lines[1].sku", "lines[1].name", "lines[1].quantity", "lines[1].unit_price", "lines[2].sku", "lines[2].quantity", "lines[2].unit_price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := validOrder()
			tt.change(&o)
			if got := fields(ValidateOrder(o)); !slices.Equal(got, tt.want) {
				t.Errorf("ValidateOrder fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFieldErrorSaysFieldAndMessage(t *testing.T) {
	t.Parallel()
	if got := (FieldError{Field: "channel", Message: "must be \"email\""}).Error(); got != `channel: must be "email"` {
		t.Errorf("Error() = %q", got)
	}
}

func TestValidHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		valid func(string) bool
		good  []string
		bad   []string
	}{
		{"ValidID", ValidID, []string{"A-10001", "sku_1", "9", strings.Repeat("a", 64)}, []string{"", "-a", "_a", "a b", "ä", strings.Repeat("a", 65)}},
		{"ValidEmail", ValidEmail, []string{"a@b", "mia.schmidt@example.com"}, []string{"", "@b", "a@", "ab", strings.Repeat("a", 199) + "@b"}},
		{"ValidLocale", ValidLocale, []string{"de", "de-DE", "en-GB"}, []string{"", "DE", "de_DE", "de-de", "deu"}},
		{"PhonePattern", PhonePattern.MatchString, []string{"+4915112345678", "+1234567"}, []string{"", "015112345678", "+0151123456", "+123456", "+1234567890123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range tt.good {
				if !tt.valid(s) {
					t.Errorf("%s(%q) = false, want true", tt.name, s)
				}
			}
			for _, s := range tt.bad {
				if tt.valid(s) {
					t.Errorf("%s(%q) = true, want false", tt.name, s)
				}
			}
		})
	}
}

func TestChannelValid(t *testing.T) {
	t.Parallel()
	for _, c := range Channels() {
		if !c.Valid() {
			t.Errorf("%q.Valid() = false", c)
		}
	}
	for _, c := range []Channel{"", "Email", "fax", "email "} {
		if c.Valid() {
			t.Errorf("%q.Valid() = true", c)
		}
	}
}

// TestValuesTravelUnchanged pins the JSON of the typed values: they are in
// Temporal payloads, recorded histories and PostgreSQL, so a change is a break.
func TestValuesTravelUnchanged(t *testing.T) {
	t.Parallel()
	v := struct {
		Stage      Stage      `json:"stage"`
		Channel    Channel    `json:"channel"`
		Touchpoint Touchpoint `json:"touchpoint"`
		Method     Method     `json:"method"`
	}{StageReadyForPickup, ChannelSMS, TouchPickupChanged, MethodHomeDelivery}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stage":"ready_for_pickup","channel":"sms","touchpoint":"pickup-date-changed","method":"home_delivery"}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	stages := Stages()
	if len(stages) != 14 || stages[0] != StageAccepted || stages[len(stages)-1] != StageCompleted {
		t.Errorf("Stages() = %v", stages)
	}
	seen := map[Stage]bool{}
	for _, s := range stages {
		if seen[s] {
			t.Errorf("Stages() repeats %s", s)
		}
		seen[s] = true
	}
}
