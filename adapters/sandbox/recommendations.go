package sandbox

// Store as an activities.RecommendationStore: the products suggested with an
// order's SKUs in marketing parts of messages.

import (
	"context"

	"github.com/everywherecommerce/fulfilment/activities"
)

var _ activities.RecommendationStore = (*Store)(nil)

// SetRecommendations sets the products (by name, best first) suggested with a SKU.
func (s *Store) SetRecommendations(sku string, names ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recommended[sku] = append([]string(nil), names...)
}

// Recommendations returns at most limit names recommended for the SKUs, each
// SKU's best first, without repeats. The fake keeps names, not SKUs, so it cannot
// leave out the order's own SKUs: tests do not recommend them.
func (s *Store) Recommendations(_ context.Context, skus []string, limit int) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, sku := range skus {
		for _, name := range s.recommended[sku] {
			if len(out) < limit && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out, nil
}
