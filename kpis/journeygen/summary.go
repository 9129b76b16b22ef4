package journeygen

import (
	"slices"
	"strings"
	"time"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// Summary is the month's realised behaviour, counted from the generated rows
// the way docs/kpis.md defines the KPIs, over events in [Start, End).
type Summary struct {
	Orders            int            `json:"orders"`
	OrdersByStore     map[string]int `json:"orders_by_store"`
	HomeDeliveryShare float64        `json:"home_delivery_share"`
	Payments          int            `json:"payments"`
	DeclineRate       float64        `json:"decline_rate"`
	Picks             int            `json:"picks"`
	SLAMissRate       float64        `json:"sla_miss_rate"`
	ShortPickRate     float64        `json:"short_pick_rate"`
	Ready             int            `json:"ready"`
	ReadyOnTimeRate   float64        `json:"ready_on_time_rate"`
	ReadyEarlyRate    float64        `json:"ready_early_rate"`
	TransferShare     float64        `json:"transfer_share"` // of ready orders, those that came in transit
	PickupsResolved   int            `json:"pickups_resolved"`
	ExpiryShare       float64        `json:"expiry_share"` // expired / (picked up + expired)
	// CancellationShare: cancellations other than expiries, per order placed.
	CancellationShare   float64 `json:"cancellation_share"`
	EmailsSent          int     `json:"emails_sent"`
	BounceRate          float64 `json:"bounce_rate"`
	SMSSent             int     `json:"sms_sent"`
	SMSFailureRate      float64 `json:"sms_failure_rate"`
	Messages            int     `json:"messages"` // notifications rows created in the month
	MessagesSentShare   float64 `json:"messages_sent_share"`
	TimeToPickupP50H    float64 `json:"time_to_pickup_p50_hours"`
	DeliveryTimeP50H    float64 `json:"delivery_time_p50_hours"`
	ReviewRequests      int     `json:"review_requests"`
	JourneyEntries      int     `json:"journey_entries"`
	NotificationRows    int     `json:"notification_rows"`
	OrdersIncludingWarm int     `json:"orders_including_warmup"`
}

// Summarise counts the month's realised rates from its rows.
func Summarise(m Month) Summary {
	start, end := m.Config.Start, m.Config.End()
	in := func(t time.Time) bool { return !t.Before(start) && t.Before(end) }
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	s := Summary{OrdersByStore: map[string]int{}, JourneyEntries: len(m.Journey), NotificationRows: len(m.Notifications), OrdersIncludingWarm: len(m.Orders)}
	orders := make(map[string]*OrderRow, len(m.Orders))
	hd := 0
	for i := range m.Orders {
		o := &m.Orders[i]
		orders[o.OrderID] = o
		if in(o.PlacedAt) {
			s.Orders++
			s.OrdersByStore[o.StoreID]++
			if o.Method == domain.MethodHomeDelivery {
				hd++
			}
		}
	}
	s.HomeDeliveryShare = ratio(hd, s.Orders)
	type times map[domain.Stage]time.Time
	stages := map[string]times{}
	cancelledBy := map[string]string{}
	var declines, onTime, early, transfers, expired, pickups, cancels, bounces, smsFailures int
	var toPickup, delivery []float64
	for _, j := range m.Journey {
		switch {
		case j.Kind == activities.EntryStage:
			if stages[j.OrderID] == nil {
				stages[j.OrderID] = times{}
			}
			stages[j.OrderID][j.Stage] = j.At
			if j.Stage == domain.StageCancelled {
				cancelledBy[j.OrderID] = j.Actor
			}
		case in(j.At) && strings.HasPrefix(j.Key, "webhook:sendgrid:"):
			bounces++
		case in(j.At) && strings.HasPrefix(j.Key, "webhook:twilio:"):
			smsFailures++
		}
	}
	for id, st := range stages {
		o := orders[id]
		if t, ok := st[domain.StagePaymentCaptured]; ok && in(t) {
			s.Payments++
		}
		if t, ok := st[domain.StagePaymentFailed]; ok && in(t) {
			s.Payments++
			declines++
		}
		if t, ok := st[domain.StageReadyForPickup]; ok && in(t) && o.PromisedReadyAt != nil {
			s.Ready++
			if !t.After(*o.PromisedReadyAt) {
				onTime++
			}
			if !t.After(o.PromisedReadyAt.Add(-24 * time.Hour)) {
				early++
			}
			if _, ok := st[domain.StageInTransitToStore]; ok {
				transfers++
			}
		}
		if t, ok := st[domain.StagePickedUp]; ok && in(t) {
			pickups++
			toPickup = append(toPickup, t.Sub(st[domain.StageReadyForPickup]).Hours())
		}
		if t, ok := st[domain.StageDelivered]; ok && in(t) {
			delivery = append(delivery, t.Sub(st[domain.StageShipped]).Hours())
		}
		if t, ok := st[domain.StageCancelled]; ok && in(t) {
			if _, ready := st[domain.StageReadyForPickup]; ready && cancelledBy[id] == "" {
				expired++
			} else {
				cancels++
			}
		}
		if t, ok := st[domain.StageReviewRequested]; ok && in(t) {
			s.ReviewRequests++
		}
	}
	s.DeclineRate = ratio(declines, s.Payments)
	s.ReadyOnTimeRate, s.ReadyEarlyRate, s.TransferShare = ratio(onTime, s.Ready), ratio(early, s.Ready), ratio(transfers, s.Ready)
	s.PickupsResolved = pickups + expired
	s.ExpiryShare = ratio(expired, s.PickupsResolved)
	s.CancellationShare = ratio(cancels, s.Orders)
	var misses, shorts int
	for _, t := range m.PickTasks {
		if t.Status != "done" || !in(*t.PickedAt) {
			continue
		}
		s.Picks++
		if t.PickedAt.After(t.DueAt) {
			misses++
		}
		for i, l := range t.Lines {
			if t.Picked[i].Quantity < l.Quantity {
				shorts++
				break
			}
		}
	}
	s.SLAMissRate, s.ShortPickRate = ratio(misses, s.Picks), ratio(shorts, s.Picks)
	var sent, settled int
	for _, n := range m.Notifications {
		if !in(n.CreatedAt) {
			continue
		}
		settled++
		if n.Status != activities.NotificationSent {
			continue
		}
		sent++
		switch n.Channel {
		case domain.ChannelEmail:
			s.EmailsSent++
		case domain.ChannelSMS:
			s.SMSSent++
		}
	}
	s.Messages = settled
	s.BounceRate, s.SMSFailureRate, s.MessagesSentShare = ratio(bounces, s.EmailsSent), ratio(smsFailures, s.SMSSent), ratio(sent, settled)
	s.TimeToPickupP50H, s.DeliveryTimeP50H = median(toPickup), median(delivery)
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
