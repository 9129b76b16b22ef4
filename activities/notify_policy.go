package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/messages"
)

// crossSellLimit is how many products a message suggests at most.
const crossSellLimit = 3

// marketingParts are the touchpoints that carry suggestions when the customer
// allows marketing: cross-sell in the confirmation, after-sales ideas in the
// review request (itself a marketing message).
var marketingParts = map[domain.Touchpoint]bool{domain.TouchOrderConfirmed: true, domain.TouchReviewRequest: true}

// contact reads the customer's preferences now; a customer without any (or with a
// row that holds only an undeliverable mark) is reached as the checkout said.
func (a *Notifications) contact(ctx context.Context, cu domain.Customer) (Contact, error) {
	c, found, err := a.Contacts.Contact(ctx, cu.ID)
	if err != nil {
		return Contact{}, err
	}
	if !found {
		c = Contact{Channels: domain.Channels()}
	}
	if c.Email == "" {
		c.Email = cu.Email
	}
	if c.Phone == "" && !found {
		c.Phone = cu.Phone
	}
	if c.Locale == "" {
		c.Locale = cu.Locale
	}
	return c, nil
}

// channels are the channels a message goes to: email, then the instant channel
// (push if the app is installed and allowed, else SMS if there is a number and it
// is allowed). Marketing goes by email only; a resend may name its one channel.
func (a *Notifications) channels(c Contact, req NotifyRequest) []domain.Channel {
	if req.Channel != "" {
		if req.Marketing && req.Channel != domain.ChannelEmail {
			return nil // marketing never goes by SMS or push
		}
		return []domain.Channel{req.Channel}
	}
	out := []domain.Channel{domain.ChannelEmail}
	if req.Marketing {
		return out
	}
	switch {
	case a.Push != nil && c.PushToken != "" && c.Allows(domain.ChannelPush):
		out = append(out, domain.ChannelPush)
	case a.SMS != nil && c.Phone != "" && c.Allows(domain.ChannelSMS):
		out = append(out, domain.ChannelSMS)
	}
	return out
}

// unusable gives the reason a chosen channel cannot carry the message now.
func (a *Notifications) unusable(c Contact, channel domain.Channel) string {
	switch {
	case channel == domain.ChannelEmail && (c.EmailUndeliverable || c.Email == ""),
		channel == domain.ChannelSMS && (c.SMSUndeliverable || c.Phone == "" || a.SMS == nil),
		channel == domain.ChannelPush && (c.PushToken == "" || a.Push == nil):
		return SkipUndeliverable
	}
	return ""
}

// facts are the template's data: the request's facts, amounts and times in the
// customer's locale, the customer's name, the store's name, address and opening
// hours, the pickup deadline in the store's time zone, and, for a customer who
// allows marketing, suggestions and the unsubscribe link.
func (a *Notifications) facts(ctx context.Context, req NotifyRequest, c Contact) (map[string]any, error) {
	locale := c.Locale
	data := map[string]any{"order_id": req.OrderID, "name": req.Customer.Name,
		"cross_sell": []string(nil), "unsubscribe_url": "", "opening_hours": []string(nil), "store_name": ""}
	for k, v := range req.Facts {
		data[k] = v
	}
	if req.PickupNonce != "" {
		if a.Codes == nil {
			return nil, temporal.NewNonRetryableApplicationError("pickup codes are not configured on this worker", ErrTypeInvalidRequest, nil)
		}
		data["pickup_code"] = a.Codes.Code(req.OrderID, req.PickupNonce)
	}
	if r, ok := req.Facts["reason"]; ok {
		data["reason"] = messages.Reason(locale, r)
	}
	for k, v := range req.Amounts {
		data[k] = messages.Money(locale, v, req.Currency)
	}
	tz := loadLocation(req.Customer.TimeZone)
	if req.StoreID != "" {
		store, err := a.Locations.Location(ctx, req.StoreID)
		if err != nil {
			return nil, err
		}
		tz = loadLocation(store.TimeZone)
		ad := store.Address
		data["store_name"] = store.Name
		data["store_address"] = strings.Join([]string{ad.Line1, ad.PostalCode + " " + ad.City}, ", ")
		data["opening_hours"] = messages.OpeningHours(locale, store.Hours)
		if !req.Deadline.IsZero() {
			data["pickup_deadline"] = messages.DateTime(locale, req.Deadline.In(tz))
		}
	}
	for k, v := range req.Times {
		data[k] = messages.Date(locale, v.In(tz))
	}
	if marketingParts[req.Touchpoint] && c.MarketingConsent && a.Links != nil {
		if req.Marketing {
			data["unsubscribe_url"] = a.Links.Unsubscribe(req.Customer.ID)
		}
		if quiet := a.inQuietHours(req); quiet && len(req.SKUs) > 0 {
			err := a.Journey.RecordEntry(ctx, JourneyEntry{OrderID: req.OrderID, Kind: EntryNotification,
				Key: req.key("cross-sell") + ":skipped", Detail: fmt.Sprintf("cross-sell in %s skipped: %s", req.Touchpoint, SkipQuietHours), At: a.now()})
			if err != nil {
				return nil, err
			}
		} else if a.Recommendations != nil && len(req.SKUs) > 0 {
			names, err := a.Recommendations.Recommendations(ctx, req.SKUs, crossSellLimit)
			if err != nil {
				return nil, err
			}
			data["cross_sell"] = names
			if len(names) > 0 { // suggestions make the message marketing: it carries the link
				data["unsubscribe_url"] = a.Links.Unsubscribe(req.Customer.ID)
			}
		}
	}
	return data, nil
}

func (a *Notifications) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// inQuietHours reports whether now is within the customer's quiet hours.
func (a *Notifications) inQuietHours(req NotifyRequest) bool {
	now := a.now()
	return !OutsideQuietHours(now, req.Customer.TimeZone, req.QuietHours).Equal(now)
}

// loadLocation is the time zone named tz, UTC when unknown.
func loadLocation(tz string) *time.Location {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}
