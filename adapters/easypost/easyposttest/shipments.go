package easyposttest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// shipment is one shipment the fake created: the body it answers and what tests
// ask about.
type shipment struct {
	body       map[string]any
	rates      map[string]RateOffer // by rate ID
	bought     bool
	boughtRate RateOffer
	refunded   bool
}

// handle acts on a checked request and returns the answer; s.mu is held. An
// answer of type string is sent as plain text.
func (s *Server) handle(step Step, id string, body map[string]any) (int, http.Header, any) {
	switch step {
	case StepCreate:
		return s.create(body)
	case StepGet:
		if shp, ok := s.shipments[id]; ok {
			return http.StatusOK, nil, shp.body
		}
		s.t.Errorf("easyposttest: get of unknown shipment %s", id)
		return http.StatusNotFound, nil, apiError("NOT_FOUND", "The requested resource could not be found.")
	case StepBuy:
		return s.buy(id, body)
	case StepTracker:
		return s.tracker(body)
	case StepRefund:
		return s.refund(id)
	}
	return http.StatusNotFound, nil, apiError("NOT_FOUND", "The requested resource could not be found.")
}

// create checks a create-shipment request and creates the shipment with a rate
// per offer, unless a magic postal code says otherwise.
func (s *Server) create(body map[string]any) (int, http.Header, any) {
	in := obj(body, "shipment")
	req := CreateRequest{Reference: str(in, "reference"), To: addressOf(obj(in, "to_address")), From: addressOf(obj(in, "from_address"))}
	p := obj(in, "parcel")
	req.Parcel = Parcel{Length: num(p, "length"), Width: num(p, "width"), Height: num(p, "height"), Weight: num(p, "weight")}
	s.creates = append(s.creates, req)
	var missing []string
	for field, v := range map[string]string{
		"reference": req.Reference, "to_address.name": req.To.Name, "to_address.street1": req.To.Street1,
		"to_address.city": req.To.City, "to_address.zip": req.To.Zip, "to_address.country": req.To.Country,
		"from_address.street1": req.From.Street1, "from_address.zip": req.From.Zip, "from_address.country": req.From.Country,
	} {
		if v == "" {
			missing = append(missing, field)
		}
	}
	if pp := req.Parcel; pp.Length <= 0 || pp.Width <= 0 || pp.Height <= 0 || pp.Weight <= 0 {
		missing = append(missing, "parcel")
	}
	if len(missing) > 0 {
		s.t.Errorf("easyposttest: create shipment without %v", missing)
		return http.StatusUnprocessableEntity, nil, recorded[map[string]any]("error_parameter_required.json")
	}

	s.attempts[req.Reference]++
	first := s.attempts[req.Reference] == 1
	switch {
	case req.To.Zip == "00000":
		return http.StatusUnprocessableEntity, nil, recorded[map[string]any]("error_address_verify.json")
	case req.To.Zip == "42900" && first:
		h := http.Header{"Retry-After": {strconv.Itoa(s.opts.RetryAfter)}}
		return http.StatusTooManyRequests, h, apiError("RATE_LIMITED", "You have exceeded the rate limit.")
	case req.To.Zip == "50300" && first:
		return http.StatusServiceUnavailable, http.Header{"Content-Type": {"text/plain"}}, "Service Unavailable"
	}

	shp := &shipment{body: recorded[map[string]any]("shipment.json"), rates: map[string]RateOffer{}}
	id := s.newID("shp")
	b := shp.body
	b["id"], b["reference"], b["created_at"], b["updated_at"] = id, req.Reference, now(), now()
	b["to_address"], b["buyer_address"] = s.addressBody(obj(b, "to_address"), req.To), s.addressBody(obj(b, "buyer_address"), req.To)
	b["from_address"], b["return_address"] = s.addressBody(obj(b, "from_address"), req.From), s.addressBody(obj(b, "return_address"), req.From)
	parcel := obj(b, "parcel")
	parcel["id"], parcel["length"], parcel["width"], parcel["height"], parcel["weight"] = s.newID("prcl"), req.Parcel.Length, req.Parcel.Width, req.Parcel.Height, req.Parcel.Weight
	template := b["rates"].([]any)[0].(map[string]any)
	rates := make([]any, 0, len(s.opts.Rates))
	for _, offer := range s.opts.Rates {
		r := clone(template)
		rid := s.newID("rate")
		r["id"], r["shipment_id"], r["carrier"], r["service"] = rid, id, offer.Carrier, offer.Service
		r["rate"], r["list_rate"], r["retail_rate"] = offer.Rate, offer.Rate, offer.Rate
		shp.rates[rid] = offer
		rates = append(rates, r)
	}
	b["rates"] = rates
	s.shipments[id] = shp
	return http.StatusCreated, http.Header{"Location": {"/api/v2/shipments/" + id}}, b
}

// buy buys a shipment at one of its rates. Like EasyPost, it refuses to buy a
// shipment twice.
func (s *Server) buy(id string, body map[string]any) (int, http.Header, any) {
	shp, ok := s.shipments[id]
	if !ok {
		s.t.Errorf("easyposttest: buy of unknown shipment %s", id)
		return http.StatusNotFound, nil, apiError("NOT_FOUND", "The requested resource could not be found.")
	}
	if shp.bought {
		return http.StatusUnprocessableEntity, nil, apiError("SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment.")
	}
	rateID := str(obj(body, "rate"), "id")
	offer, ok := shp.rates[rateID]
	if !ok {
		s.t.Errorf("easyposttest: buy of %s at rate %q, not one of its rates", id, rateID)
		return http.StatusUnprocessableEntity, nil, apiError("SHIPMENT.RATE.INVALID",
			"A valid rate must be supplied in order to purchase a shipment.")
	}
	s.purchases++
	shp.bought, shp.boughtRate = true, offer
	b := shp.body
	for _, r := range b["rates"].([]any) {
		if r.(map[string]any)["id"] == rateID {
			b["selected_rate"] = clone(r.(map[string]any))
		}
	}
	label := recorded[map[string]any]("postage_label.json")
	label["id"] = s.newID("pl")
	label["label_url"] = "https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/" + label["id"].(string) + ".png"
	b["postage_label"], b["fees"], b["updated_at"] = label, recorded[[]any]("fees.json"), now()
	b["tracking_code"] = fmt.Sprintf("EZ%010d", s.seq)
	if s.opts.TrackerOnPurchase {
		b["tracker"] = s.newTracker(b["tracking_code"].(string), offer.Carrier, id)
	}
	return http.StatusOK, nil, b
}

// tracker creates the tracker of a bought shipment's tracking code, or returns
// the one that exists: EasyPost keeps one tracker per tracking code.
func (s *Server) tracker(body map[string]any) (int, http.Header, any) {
	in := obj(body, "tracker")
	code, carrier := str(in, "tracking_code"), str(in, "carrier")
	if trk, ok := s.trackers[code]; ok {
		return http.StatusOK, nil, trk
	}
	for id, shp := range s.shipments {
		if shp.bought && shp.body["tracking_code"] == code {
			if carrier != shp.boughtRate.Carrier {
				s.t.Errorf("easyposttest: tracker for %s with carrier %q, bought from %q", code, carrier, shp.boughtRate.Carrier)
			}
			trk := s.newTracker(code, shp.boughtRate.Carrier, id)
			shp.body["tracker"] = trk
			return http.StatusOK, nil, trk
		}
	}
	s.t.Errorf("easyposttest: tracker for unknown tracking code %q", code)
	return http.StatusUnprocessableEntity, nil, apiError("TRACKER.CREATE.ERROR", "Tracking code is invalid.")
}

// refund requests the refund of a bought label, once.
func (s *Server) refund(id string) (int, http.Header, any) {
	shp, ok := s.shipments[id]
	if !ok || !shp.bought {
		s.t.Errorf("easyposttest: refund of shipment %s, which was not bought", id)
		return http.StatusUnprocessableEntity, nil, apiError("SHIPMENT.REFUND.UNAVAILABLE", "The shipment has no postage to refund.")
	}
	if shp.refunded {
		return http.StatusUnprocessableEntity, nil, apiError("SHIPMENT.REFUND.ALREADY_REQUESTED", "A refund was already requested for this shipment.")
	}
	shp.refunded = true
	shp.body["refund_status"] = "submitted"
	return http.StatusOK, nil, shp.body
}

// newTracker records and returns a tracker in the recorded shape; s.mu is held.
func (s *Server) newTracker(code, carrier, shipmentID string) map[string]any {
	trk := recorded[map[string]any]("tracker.json")
	id := s.newID("trk")
	trk["id"], trk["tracking_code"], trk["carrier"], trk["shipment_id"] = id, code, carrier, shipmentID
	trk["public_url"] = "https://track.easypost.com/" + base64.RawURLEncoding.EncodeToString([]byte("v1:"+id))
	trk["status"], trk["status_detail"], trk["tracking_details"], trk["carrier_detail"] = "unknown", "unknown", []any{}, nil
	trk["created_at"], trk["updated_at"] = now(), now()
	s.trackers[code] = trk
	return trk
}

// addressBody fills a recorded address with what was sent.
func (s *Server) addressBody(template map[string]any, a Address) map[string]any {
	out := clone(template)
	out["id"], out["name"], out["street1"], out["city"], out["zip"], out["country"] = s.newID("adr"), a.Name, a.Street1, a.City, a.Zip, a.Country
	out["street2"], out["state"] = nil, nil
	if a.Street2 != "" {
		out["street2"] = a.Street2
	}
	return out
}

// newID returns an EasyPost-style ID with the given prefix; s.mu is held.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%032x", prefix, s.seq)
}

// addressOf reads an address of a request.
func addressOf(m map[string]any) Address {
	return Address{Name: str(m, "name"), Street1: str(m, "street1"), Street2: str(m, "street2"),
		City: str(m, "city"), Zip: str(m, "zip"), Country: str(m, "country")}
}

// obj, str and num read a JSON field, or its zero value when it is missing or of
// another type: the checks above then report it as missing.
func obj(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(m map[string]any, k string) string {
	v, _ := m[k].(string)
	return v
}

func num(m map[string]any, k string) float64 {
	v, _ := m[k].(float64)
	return v
}

// clone copies a JSON object one level deep, enough for the fields the fake sets.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// now is the time stamp of new objects, in EasyPost's format.
func now() string { return time.Now().UTC().Format(time.RFC3339) }
