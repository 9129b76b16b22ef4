package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/everywherecommerce/fulfilment/domain"
)

// kind is a scenario: what the checkout service, staff, the customer and support
// do with one order, and so how the order must end.
type kind string

// The scenarios. Every run of at least as many orders as there are kinds has each
// of them once; the rest are drawn by weight.
const (
	kindStoreCollect      kind = "store-stock-collected"
	kindTransferStaff     kind = "transfer-scanned-collected"
	kindTransferCarrier   kind = "transfer-carrier-collected"
	kindHomeDelivery      kind = "home-delivery"
	kindMultiLine         kind = "multi-line"
	kindStartPick         kind = "start-pick-then-pick"
	kindShortPick         kind = "short-pick"
	kindNothingPicked     kind = "nothing-picked"
	kindCancelPicking     kind = "cancel-while-picking"
	kindCancelTransit     kind = "cancel-in-transit"
	kindCancelReady       kind = "cancel-when-ready"
	kindCancelShipped     kind = "cancel-after-shipping-refused"
	kindDeclined          kind = "card-declined"
	kindExpiredAuth       kind = "authorization-expired"
	kindCapturedElsewhere kind = "captured-elsewhere"
	kindFlakyPayment      kind = "payment-retried"
	kindStockShort        kind = "stock-short"
	kindPickupExpires     kind = "pickup-expired"
	kindWrongCode         kind = "wrong-codes-then-right"
	kindLockedUnlocked    kind = "locked-unlocked-collected"
)

// kindWeight is a kind and its share of a large run (weights sum to 100).
type kindWeight struct {
	kind   kind
	weight int
}

func kindWeights() []kindWeight {
	return []kindWeight{
		{kindStoreCollect, 11}, {kindTransferStaff, 6}, {kindTransferCarrier, 5}, {kindHomeDelivery, 11},
		{kindMultiLine, 8}, {kindStartPick, 5}, {kindShortPick, 6}, {kindNothingPicked, 3},
		{kindCancelPicking, 5}, {kindCancelTransit, 3}, {kindCancelReady, 3}, {kindCancelShipped, 3},
		{kindDeclined, 4}, {kindExpiredAuth, 2}, {kindCapturedElsewhere, 2}, {kindFlakyPayment, 4},
		{kindStockShort, 3}, {kindPickupExpires, 6}, {kindWrongCode, 8}, {kindLockedUnlocked, 2},
	}
}

// Locations of the demo data (adapters/postgres/demo.go) the plan uses.
const (
	locBerlin  = "berlin-mitte"
	locHamburg = "hamburg-altona"
	locDC      = "dc-erfurt"
	// skuNotInHamburg is stocked everywhere but in Hamburg: a Hamburg order with
	// it is served from the distribution centre (a store transfer).
	skuNotInHamburg = "STRAP-STEEL-20"
	// skuLimited is a limited edition of which one piece is left, at the
	// distribution centre: an order for two is rejected as short.
	skuLimited = "WATCH-LTD-001"
)

// Channel profiles of customers.
const (
	profileEmail = "email-only"
	profileSMS   = "phone-sms"
	profilePush  = "app-push"
)

// orderPlan is one order of the run and what everyone does with it.
type orderPlan struct {
	ID      string
	Kind    kind
	Method  domain.Method
	StoreID string
	Address *domain.Address
	Lines   []domain.Line
	// Picked is what staff confirm; nil when nobody picks.
	Picked    []domain.PickedLine
	PaymentID string
	Customer  domain.Customer
	Consent   bool
	PushToken string
	Channels  []domain.Channel
	// Profile is the customer's channel profile; Instant the channel besides
	// email that transactional messages must go to ("" for email only).
	Profile      string
	Instant      domain.Channel
	StartPick    bool
	StaffArrival bool   // staff scan a transfer's arrival (else the carrier's event makes it ready)
	WrongCodes   int    // wrong pickup codes entered before the right one
	CounterToken string // token key of the counter staff who enter codes
	Location     string // the fulfilling location the stock allows
	Expect       expectation
}

// expectation is how an order must end, from what the checkout service, staff
// and support did; the driver revises it when an answer changes the story (a
// cancellation refused because the parcel had already arrived).
type expectation struct {
	Checkout       int // the checkout's HTTP status: 201, 402 or 409
	Stage          domain.Stage
	NeedsAttention bool
	Paid           bool             // the payment is captured once
	Refunds        map[string]int64 // refund reason → amount (minor units)
	Sold           bool             // the picked goods leave the stock
	Labels         []string         // purposes of the labels bought
}

// newPlan draws the run's orders from cfg.seed. Customers' time zones are those
// where it is day at now, so that quiet hours never hold a review request back
// (the policy's quiet hours are not configurable from the environment).
func newPlan(cfg config, now time.Time) []*orderPlan {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	kinds := drawKinds(rng, cfg.orders)
	zones := daytimeZones(now)
	counters := newCounterPool()
	plans := make([]*orderPlan, len(kinds))
	for i, k := range kinds {
		p := &orderPlan{ID: fmt.Sprintf("CH-%04d", i+1), Kind: k}
		p.customer(rng, i+1, zones[rng.IntN(len(zones))])
		p.payment(cfg.seed, i+1)
		p.shape(rng)
		p.Expect = p.expect()
		if p.WrongCodes > 0 {
			p.CounterToken = counters.assign(p.StoreID, p.WrongCodes)
		}
		plans[i] = p
	}
	return plans
}

// drawKinds is every kind once (when n allows) and the rest by weight, shuffled.
func drawKinds(rng *rand.Rand, n int) []kind {
	weights := kindWeights()
	var out []kind
	if n >= len(weights) {
		for _, w := range weights {
			out = append(out, w.kind)
		}
	}
	total := 0
	for _, w := range weights {
		total += w.weight
	}
	for len(out) < n {
		r := rng.IntN(total)
		for _, w := range weights {
			if r < w.weight {
				out = append(out, w.kind)
				break
			}
			r -= w.weight
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// customer draws who orders: name, language, time zone and channel profile.
func (p *orderPlan) customer(rng *rand.Rand, n int, zone string) {
	first := []string{"Mia", "Leon", "Emma", "Noah", "Hannah", "Paul", "Lina", "Ben", "Ava", "Olivia"}
	last := []string{"Schmidt", "Müller", "Weber", "Fischer", "Wagner", "Becker", "Hoffmann", "Smith", "Jones", "Brown"}
	f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
	locale := "de-DE"
	if rng.IntN(3) == 0 {
		locale = "en-GB"
	}
	p.Customer = domain.Customer{ID: fmt.Sprintf("CC-%04d", n), Name: f + " " + l,
		Email: fmt.Sprintf("customer-%04d@example.com", n), Locale: locale, TimeZone: zone}
	p.Consent = rng.IntN(2) == 0
	switch rng.IntN(3) {
	case 0:
		p.Profile, p.Channels = profileEmail, []domain.Channel{domain.ChannelEmail}
	case 1:
		p.Profile, p.Instant = profileSMS, domain.ChannelSMS
		p.Customer.Phone = fmt.Sprintf("+49151%07d", 1000000+n) // never ends in 0000 (the undeliverable number)
		p.Channels = []domain.Channel{domain.ChannelEmail, domain.ChannelSMS}
	default:
		p.Profile, p.Instant = profilePush, domain.ChannelPush
		p.Customer.Phone = fmt.Sprintf("+49152%07d", 1000000+n)
		p.PushToken = fmt.Sprintf("chaos-app-token-%04d", n)
		p.Channels = domain.Channels()
	}
}

// payment is the PaymentIntent the checkout service authorized; the sandbox's
// magic words make the capture fail as the kind needs.
func (p *orderPlan) payment(seed uint64, n int) {
	magic := map[kind]string{kindDeclined: "_decline", kindExpiredAuth: "_expired", kindCapturedElsewhere: "_captured"}[p.Kind]
	if p.Kind == kindFlakyPayment {
		magic = "_ratelimit"
		if n%2 == 0 {
			magic = "_unavailable"
		}
	}
	p.PaymentID = fmt.Sprintf("pi_chaos_%d_%04d%s", seed, n, magic)
}
