package main

import (
	"strings"
	"testing"
)

// TestReplaceBetweenRewritesOnlyTheTable: the README's text around the cost
// table stays as it is; a README without the markers is refused.
func TestReplaceBetweenRewritesOnlyTheTable(t *testing.T) {
	doc := "intro\n" + costTableBegin + "\n| old |\n" + costTableEnd + "\noutro\n"
	got, err := replaceBetween([]byte(doc), costTableBegin, costTableEnd, "| new |\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + costTableBegin + "\n| new |\n" + costTableEnd + "\noutro\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := replaceBetween([]byte("no table here\n"), costTableBegin, costTableEnd, "x"); err == nil || !strings.Contains(err.Error(), "no cost table") {
		t.Errorf("a README without markers: err %v, want a missing-table error", err)
	}
}
