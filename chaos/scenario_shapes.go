package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/adapters/postgres"
	"github.com/everywherecommerce/fulfilment/domain"
)

// route is how an order's goods reach the customer.
type route int

const (
	routeStoreStock route = iota // picked in the pickup store
	routeTransfer                // picked at the distribution centre, sent to the store
	routeHome                    // picked at the distribution centre, sent home
)

// shape chooses the order's route, lines and what staff pick, as its kind needs.
func (p *orderPlan) shape(rng *rand.Rand) {
	r := routeOf(p.Kind, rng)
	lines := 1
	switch p.Kind {
	case kindMultiLine, kindShortPick:
		lines = 2 + rng.IntN(2)
	case kindNothingPicked, kindCancelPicking:
		lines = 1 + rng.IntN(2)
	}
	switch r {
	case routeStoreStock:
		p.Method, p.StoreID, p.Location = domain.MethodShipToStore, locBerlin, locBerlin
		if rng.IntN(2) == 0 {
			p.StoreID, p.Location = locHamburg, locHamburg
		}
		p.Lines = drawLines(rng, lines, skuNotInHamburg)
	case routeTransfer:
		p.Method, p.StoreID, p.Location = domain.MethodShipToStore, locHamburg, locDC
		p.Lines = append(drawLines(rng, lines-1, skuNotInHamburg), catalogueLine(skuNotInHamburg, 1))
	default:
		p.Method, p.Location = domain.MethodHomeDelivery, locDC
		p.Address = &domain.Address{Name: p.Customer.Name, Line1: fmt.Sprintf("Torstraße %d", 1+rng.IntN(200)),
			PostalCode: "10119", City: "Berlin", Country: "DE"}
		p.Lines = drawLines(rng, lines, "")
	}
	if p.Kind == kindStockShort {
		p.Lines = append(p.Lines[:0], domain.Line{SKU: skuLimited, Name: "Automatic watch, limited edition", Quantity: 2, UnitPrice: 89900})
	}
	if p.Kind == kindShortPick && itemsOf(p.Lines) < 2 {
		p.Lines[0].Quantity = 2
	}
	p.Picked = p.pickedLines()
	p.StartPick = p.Kind == kindStartPick
	p.StaffArrival = p.Kind == kindTransferStaff || (r == routeTransfer && p.Kind != kindTransferCarrier && rng.IntN(2) == 0)
	switch p.Kind {
	case kindWrongCode:
		p.WrongCodes = 1 + rng.IntN(3)
	case kindLockedUnlocked:
		p.WrongCodes = 5 // the fifth locks the handover (starter/api MaxPickupAttempts)
	}
}

// routeOf is the route a kind needs, or a random one when any will do.
func routeOf(k kind, rng *rand.Rand) route {
	switch k {
	case kindStoreCollect:
		return routeStoreStock
	case kindTransferStaff, kindTransferCarrier, kindCancelTransit:
		return routeTransfer
	case kindHomeDelivery, kindCancelShipped:
		return routeHome
	case kindCancelReady, kindPickupExpires, kindWrongCode, kindLockedUnlocked:
		return route(rng.IntN(2)) // collected in a store, stock or transfer
	}
	return route(rng.IntN(3))
}

// drawLines draws n lines of different SKUs of the demo catalogue, without skip.
func drawLines(rng *rand.Rand, n int, skip string) []domain.Line {
	var skus []string
	for _, d := range postgres.DemoSKUs() {
		if d.SKU != skip {
			skus = append(skus, d.SKU)
		}
	}
	rng.Shuffle(len(skus), func(i, j int) { skus[i], skus[j] = skus[j], skus[i] })
	var out []domain.Line
	for _, sku := range skus[:min(n, len(skus))] {
		out = append(out, catalogueLine(sku, 1+rng.IntN(2)))
	}
	return out
}

// catalogueLine is an order line for a demo SKU at its catalogue price.
func catalogueLine(sku string, qty int) domain.Line {
	for _, d := range postgres.DemoSKUs() {
		if d.SKU == sku {
			return domain.Line{SKU: sku, Name: d.Name, Quantity: qty, UnitPrice: d.UnitPrice}
		}
	}
	return domain.Line{SKU: sku, Name: sku, Quantity: qty, UnitPrice: 1000}
}

func itemsOf(lines []domain.Line) int {
	n := 0
	for _, l := range lines {
		n += l.Quantity
	}
	return n
}

// pickedLines is what staff confirm: everything, a short pick (the last line one
// piece short, or all of it when the order has only one line of it), nothing, or
// no pick at all (cancelled first, or never paid).
func (p *orderPlan) pickedLines() []domain.PickedLine {
	switch p.Kind {
	case kindCancelPicking, kindDeclined, kindExpiredAuth, kindCapturedElsewhere, kindStockShort:
		return nil
	}
	out := make([]domain.PickedLine, len(p.Lines))
	for i, l := range p.Lines {
		out[i] = domain.PickedLine{SKU: l.SKU, Quantity: l.Quantity}
		if p.Kind == kindNothingPicked {
			out[i].Quantity = 0
		}
	}
	if p.Kind == kindShortPick {
		out[len(out)-1].Quantity--
	}
	return out
}

// missingAmount is the value of what was ordered but not picked.
func (p *orderPlan) missingAmount() int64 {
	var amount int64
	for i, l := range p.Lines {
		amount += int64(l.Quantity-p.Picked[i].Quantity) * l.UnitPrice
	}
	return amount
}

func (p *orderPlan) total() int64 {
	var t int64
	for _, l := range p.Lines {
		t += l.Total()
	}
	return t
}

// labelPurposes are the labels an order that leaves its location needs.
func (p *orderPlan) labelPurposes() []string {
	switch {
	case p.Method == domain.MethodHomeDelivery:
		return []string{activities.PurposeHomeDelivery}
	case p.Location != p.StoreID:
		return []string{activities.PurposeStoreTransfer}
	}
	return nil
}

// expect is how the order ends if everything is answered as the kind intends.
func (p *orderPlan) expect() expectation {
	switch p.Kind {
	case kindDeclined, kindExpiredAuth:
		return expectation{Checkout: 402, Stage: domain.StagePaymentFailed}
	case kindCapturedElsewhere:
		return expectation{Checkout: 402, Stage: domain.StagePaymentFailed, NeedsAttention: true}
	case kindStockShort:
		return expectation{Checkout: 409, Stage: domain.StageRejected}
	case kindNothingPicked, kindCancelPicking:
		return expectation{Checkout: 201, Stage: domain.StageCancelled, Paid: true, Refunds: map[string]int64{"cancel": p.total()}}
	case kindCancelTransit, kindCancelReady, kindPickupExpires:
		return expectation{Checkout: 201, Stage: domain.StageCancelled, Paid: true, Refunds: map[string]int64{"cancel": p.total()},
			Labels: p.labelPurposes()}
	}
	e := expectation{Checkout: 201, Stage: domain.StageCompleted, Paid: true, Sold: true, Refunds: map[string]int64{}, Labels: p.labelPurposes()}
	if p.Kind == kindShortPick {
		e.Refunds["short-pick"] = p.missingAmount()
	}
	return e
}

// completedInstead is the expectation when a cancellation was refused because
// the order had moved on: it ends like a collected or delivered order.
func (p *orderPlan) completedInstead() expectation {
	return expectation{Checkout: 201, Stage: domain.StageCompleted, Paid: true, Sold: true, Refunds: map[string]int64{}, Labels: p.labelPurposes()}
}

// daytimeZones are IANA time zones in which it is between 09:00 and 18:00 at now,
// so that a run of less than an hour never meets a customer's quiet hours
// (21:00–08:00). Cities first; Etc/GMT zones make sure there is always one.
func daytimeZones(now time.Time) []string {
	cities := []string{"Europe/Berlin", "Europe/London", "Europe/Lisbon", "Europe/Athens", "Asia/Dubai",
		"Asia/Kolkata", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
		"Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
		"America/New_York", "America/Sao_Paulo", "Atlantic/Azores"}
	var out []string
	for _, z := range cities {
		if daytime(now, z) {
			out = append(out, z)
		}
	}
	for h := -12; h <= 14 && len(out) < 2; h++ {
		z := "Etc/GMT"
		switch {
		case h > 0:
			z = fmt.Sprintf("Etc/GMT-%d", h) // POSIX: the sign is inverted
		case h < 0:
			z = fmt.Sprintf("Etc/GMT+%d", -h)
		}
		if daytime(now, z) {
			out = append(out, z)
		}
	}
	return out
}

func daytime(now time.Time, zone string) bool {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return false
	}
	h := now.In(loc).Hour()
	return h >= 9 && h < 18
}

// counterPool hands out counter staff tokens so that none enters more than
// wrongCodesPerToken wrong codes: the starter allows a token 20 in 10 minutes
// across all orders (starter/api pickup throttle), and real counters have
// several people.
type counterPool struct {
	used map[string][]int // store → wrong codes per token so far
}

const wrongCodesPerToken = 15

func newCounterPool() *counterPool { return &counterPool{used: map[string][]int{}} }

// assign returns the token key (COUNTER_<STORE>_<n>) for an order with n wrong codes.
func (c *counterPool) assign(store string, n int) string {
	tokens := c.used[store]
	i := len(tokens) - 1
	if i < 0 || tokens[i]+n > wrongCodesPerToken {
		tokens = append(tokens, 0)
		i++
	}
	tokens[i] += n
	c.used[store] = tokens
	return fmt.Sprintf("COUNTER_%s_%d", strings.ToUpper(strings.ReplaceAll(store, "-", "_")), i+1)
}
