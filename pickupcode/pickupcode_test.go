package pickupcode

import (
	"regexp"
	"testing"
)

func mustNew(t *testing.T, secrets ...string) *Codes {
	t.Helper()
	var bs [][]byte
	for _, s := range secrets {
		bs = append(bs, []byte(s))
	}
	c, err := New(bs...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCodeIsSixDigitsAndStable(t *testing.T) {
	c := mustNew(t, "key-one-0123456789abcdef0123456789")
	nonce, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	got := c.Code("A-10001", nonce)
	if !regexp.MustCompile(`^\d{6}$`).MatchString(got) {
		t.Fatalf("code %q: want six digits", got)
	}
	if again := c.Code("A-10001", nonce); again != got {
		t.Fatalf("the same nonce gave %q, then %q", got, again)
	}
	other, _ := NewNonce()
	if other == nonce {
		t.Fatal("two nonces are equal")
	}
	if c.Code("A-10002", nonce) == got && c.Code("A-10001", other) == got {
		t.Fatal("another order and another nonce both give the same code")
	}
}

func TestMatchesOnlyTheOrdersCode(t *testing.T) {
	c := mustNew(t, "key-one-0123456789abcdef0123456789")
	nonce, _ := NewNonce()
	code := c.Code("A-10001", nonce)
	if !c.Matches("A-10001", nonce, "", c.Proof("A-10001", code)) {
		t.Fatal("the order's own code does not match")
	}
	wrong := "000000"
	if wrong == code {
		wrong = "000001"
	}
	if c.Matches("A-10001", nonce, "", c.Proof("A-10001", wrong)) {
		t.Fatal("a wrong code matches")
	}
	if c.Matches("A-10002", nonce, "", c.Proof("A-10002", code)) {
		t.Fatal("the code matches another order")
	}
	if c.Matches("A-10001", nonce, "", code) {
		t.Fatal("the bare code is taken as a proof")
	}
	other := mustNew(t, "another-key-0123456789abcdef01234")
	if c.Matches("A-10001", nonce, "", other.Proof("A-10001", code)) {
		t.Fatal("a proof made without our key matches")
	}
}

func TestRotatedKeysKeepCodesAlreadySent(t *testing.T) {
	old := mustNew(t, "old-key-0123456789abcdef0123456789")
	nonce, _ := NewNonce()
	sent := old.Code("A-10001", nonce)
	rotated := mustNew(t, "new-key-0123456789abcdef0123456789", "old-key-0123456789abcdef0123456789")
	if !rotated.Matches("A-10001", nonce, "", rotated.Proof("A-10001", sent)) {
		t.Fatal("a code sent under the old key no longer matches after rotation")
	}
	if !rotated.Matches("A-10001", nonce, "", old.Proof("A-10001", sent)) {
		t.Fatal("a proof made by a starter still on the old key does not match")
	}
}

func TestLegacyCodeMatches(t *testing.T) {
	c := mustNew(t, "key-one-0123456789abcdef0123456789")
	if !c.Matches("A-10001", "", "482913", c.Proof("A-10001", "482913")) {
		t.Fatal("a code drawn before derivation does not match")
	}
	if c.Matches("A-10001", "", "482913", c.Proof("A-10001", "482914")) {
		t.Fatal("a wrong code matches the legacy one")
	}
	if c.Matches("A-10001", "", "", c.Proof("A-10001", "")) {
		t.Fatal("an order without a code matches the empty code")
	}
}
