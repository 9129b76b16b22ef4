package links_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/everywherecommerce/fulfilment/links"
)

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("t")
}

func TestUnsubscribeLinkCarriesASignedTokenNotARawID(t *testing.T) {
	old, err := links.New("https://shop.example/", []byte("old-key"))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := links.New("https://shop.example", []byte("new-key"), []byte("old-key"))
	if err != nil {
		t.Fatal(err)
	}
	link := old.Unsubscribe("C-1001")
	if !strings.HasPrefix(link, "https://shop.example/unsubscribe?t=") || strings.Contains(link, "C-1001") {
		t.Errorf("link = %s", link)
	}
	tok := tokenOf(t, link)
	if id, err := rotated.VerifyUnsubscribe(tok); err != nil || id != "C-1001" {
		t.Errorf("after key rotation: %q, %v", id, err)
	}
	other, _ := links.New("https://shop.example", []byte("someone-else"))
	forged := tokenOf(t, other.Unsubscribe("C-1001"))
	subj, _, _ := strings.Cut(tok, ".")
	_, sig, _ := strings.Cut(tokenOf(t, old.Unsubscribe("C-1002")), ".")
	for name, bad := range map[string]string{
		"other key": forged, "swapped customer": subj + "." + sig, "empty": "", "no dot": "abc", "garbage": "!!.!!",
	} {
		if _, err := rotated.VerifyUnsubscribe(bad); !errors.Is(err, links.ErrBadToken) {
			t.Errorf("%s: err = %v, want ErrBadToken", name, err)
		}
	}
}

// TestEveryAlteredTokenIsRefused: changing any one character of a token (the
// last one included, whose spare bits a lax decoder ignores) never verifies.
func TestEveryAlteredTokenIsRefused(t *testing.T) {
	s, err := links.New("https://shop.example", []byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	for _, customer := range []string{"C-1", "C-1001", "customer-with-a-longer-id"} {
		tok := tokenOf(t, s.Unsubscribe(customer))
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := range len(tok) {
			if tok[i] == '.' {
				continue
			}
			for _, c := range alphabet {
				if byte(c) == tok[i] {
					continue
				}
				bad := tok[:i] + string(c) + tok[i+1:]
				if id, err := s.VerifyUnsubscribe(bad); err == nil {
					t.Fatalf("%s: altered token %q (position %d) verified as %q", customer, bad, i, id)
				}
			}
		}
	}
}
