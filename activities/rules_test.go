package activities

import (
	"reflect"
	"testing"
	"time"
)

func TestChooseLocation(t *testing.T) {
	stock := map[string]map[string]int{
		"store": {"A": 1, "B": 0},
		"dc":    {"A": 5, "B": 5},
		"other": {"A": 0, "B": 9},
	}
	have := func(loc, sku string) int { return stock[loc][sku] }
	tests := []struct {
		name      string
		locations []string
		want      map[string]int
		loc       string
		short     []ShortLine
	}{
		{"first with everything", []string{"store", "dc"}, map[string]int{"A": 1}, "store", nil},
		{"falls back", []string{"store", "dc"}, map[string]int{"A": 1, "B": 1}, "dc", nil},
		{"nobody has enough", []string{"store", "dc"}, map[string]int{"A": 6}, "", []ShortLine{{SKU: "A", Requested: 6, Available: 5}}},
		{"split stock names the fewest gaps", []string{"store", "other"}, map[string]int{"A": 1, "B": 2}, "", []ShortLine{{SKU: "B", Requested: 2, Available: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skus := []string{}
			for _, s := range []string{"A", "B"} {
				if tt.want[s] > 0 {
					skus = append(skus, s)
				}
			}
			loc, short := ChooseLocation(tt.locations, skus, tt.want, have)
			if loc != tt.loc || !reflect.DeepEqual(short, tt.short) {
				t.Errorf("= %q %v, want %q %v", loc, short, tt.loc, tt.short)
			}
		})
	}
}

func TestPromiseReady(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	store := Location{TimeZone: "Europe/Berlin", Hours: map[string]string{
		"mon": "10:00-20:00", "tue": "10:00-20:00", "wed": "10:00-20:00", "thu": "10:00-20:00", "fri": "10:00-20:00", "sat": "10:00-16:00",
	}}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, berlin) }
	tests := []struct {
		name   string
		placed time.Time
		days   int
		want   time.Time
	}{
		{"store stock, before opening", at(23, 8, 0), 0, at(23, 12, 0)},
		{"store stock, during the day", at(23, 14, 30), 0, at(23, 16, 30)},
		{"store stock, too late today", at(23, 19, 0), 0, at(24, 12, 0)},
		{"store stock, Saturday afternoon", at(28, 15, 0), 0, at(30, 12, 0)},
		{"transfer: second opening day", at(23, 14, 0), 2, at(25, 12, 0)},
		{"transfer over Sunday", at(27, 14, 0), 2, at(30, 12, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PromiseReady(store, tt.placed, 2*time.Hour, tt.days); !got.Equal(tt.want) {
				t.Errorf("= %v, want %v", got.In(berlin), tt.want)
			}
		})
	}
}

func TestOutsideQuietHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 30, 0, 0, berlin) }
	morning := time.Date(2026, 12, 2, 8, 0, 0, 0, berlin)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"daytime stays", at(1, 14), at(1, 14)},
		{"late evening waits for the morning", at(1, 22), morning},
		{"small hours wait for the morning", at(2, 3), morning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OutsideQuietHours(tt.in, "Europe/Berlin", DefaultQuietHours()); !got.Equal(tt.want) {
				t.Errorf("= %v, want %v", got.In(berlin), tt.want)
			}
		})
	}
	// An unknown zone falls back to UTC: 22:30 in Berlin is 21:30 UTC, quiet there too.
	if got, want := OutsideQuietHours(at(1, 22), "Not/AZone", DefaultQuietHours()), time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("unknown zone: got %v, want %v", got, want)
	}
}
