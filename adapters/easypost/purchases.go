package easypost

import "context"

// PurchaseLog remembers which EasyPost shipment belongs to a label's idempotency
// key. EasyPost cannot de-duplicate purchases, so the adapter records the shipment
// before buying and only ever buys the shipment the log returns; postgres.Store
// implements it over the carrier_purchases table.
//
// A crash after EasyPost created a shipment but before it was recorded leaves that
// shipment unrecorded: the retry creates and records a second one. That is
// acceptable, since an unbought shipment costs nothing and only the recorded one is
// ever bought.
type PurchaseLog interface {
	// Purchase returns the shipment recorded for key; found is false when none is.
	Purchase(ctx context.Context, key string) (shipmentID string, found bool, err error)
	// RecordPurchase records shipmentID for key. It is idempotent and keeps the
	// first shipment recorded for a key: attempts racing for one key all buy that
	// one, whichever shipment each of them created.
	RecordPurchase(ctx context.Context, key, shipmentID string) error
}
